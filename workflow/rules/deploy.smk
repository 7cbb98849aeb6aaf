# Stage 7: time the sweep where it will run. The bundle holds what another machine needs to
# time and check every exported model (yoloshrink.bundle); python -m yoloshrink.hostbench runs
# it there and writes results/hosts/<host>/, which the report reads. A host of the cluster (a
# SLURM node type, benchmark.hosts) runs it through the profile like any other job.


rule bundle:
    """snakemake bundle: one tar of every exported model, their summaries, fixed inputs, the
    training machine's outputs on them, the timing settings and a manifest with checksums.
    """
    input:
        exports=expand(layout.export_dir(), variant=VARIANTS, fmt=FORMATS),
        summaries=expand(layout.model_summary(), variant=VARIANTS),
        data=layout.DATA_YAML,
    output:
        layout.BUNDLE_TAR,
    log:
        "logs/deploy/bundle.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: 1
    params:
        imgsz=workflowcfg.canonical(
            {v: knobs["export_imgsz"] for v, knobs in VARIANTS.items()}
        ),
        targets=[t for t in BENCH_TARGETS if targets.TARGETS[t].export],
        timing=timing_settings(),
        threads=BENCH_THREADS,
    script:
        "../scripts/bundle.py"


rule host_bench:
    """The bundle timed on a node type of the cluster (benchmark.hosts: name -> node feature),
    alone on its node, with the light benchmark a deployment machine runs."""
    input:
        layout.BUNDLE_TAR,
    output:
        directory(layout.host_dir()),
    log:
        "logs/deploy/{host}.log",
    wildcard_constraints:
        host="|".join(map(workflowcfg.re_escape, HOSTS)) or "^$",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    resources:
        constraint=lambda wildcards: HOSTS[wildcards.host],
    params:
        threads=BENCH_THREADS,
    script:
        "../scripts/host_bench.py"
