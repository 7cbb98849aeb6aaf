# Shared set-up: the offline environment, config validation, the variant table and helpers.

import sys
from pathlib import Path

from snakemake.utils import min_version, validate

from yoloshrink import bundle, cluster, layout, offline, slurmsite, targets, workflowcfg

min_version("9.0")

# Every job inherits this process's environment: ultralytics, OpenVINO and ONNX Runtime offline.
offline.apply()

# Clear messages first (key, value, closest valid name), then Snakemake's validation fills defaults.
workflowcfg.validate_config(
    config, workflow.source_path("../schemas/config.schema.yaml")
)
validate(config, schema="../schemas/config.schema.yaml", set_default=True)
workflowcfg.check(config, base_dir=Path(workflow.basedir))

VARIANTS = workflowcfg.variants(config)  # {"w0.25": {"width": 0.25, ...}, ...}
RUNS = workflowcfg.training_runs(
    config
)  # {"w0.25": {"variant": "w0.25", "seed": 0}, ...}
FORMATS = config["export"]["formats"]  # exported formats
BENCH_TARGETS = workflowcfg.bench_targets(
    config
)  # benchmark rows: pytorch, formats, openvino-f32
BENCH_THREADS = workflowcfg.bench_threads(config)
HOSTS = (
    config["benchmark"].get("hosts") or {}
)  # cluster node types: name -> node feature
BASELINE = next(iter(VARIANTS))  # speed-ups are over the first variant
OTHER_VARIANTS = [v for v in VARIANTS if v != BASELINE]
CONTROL_TARGETS = workflowcfg.control_targets(BENCH_TARGETS)  # A/A: one per runtime

for _run, _error in workflowcfg.failed_trainings(list(RUNS)).items():
    print(
        f"NOTE: the training of {_run} failed earlier ({_error}); its rows are 'failed'. "
        f"To retry it: snakemake --forcerun {layout.train_info(_run)}",
        file=sys.stderr,
    )


wildcard_constraints:
    variant="|".join(map(workflowcfg.re_escape, VARIANTS)),
    run="|".join(map(workflowcfg.re_escape, RUNS)),
    fmt="|".join(map(workflowcfg.re_escape, targets.EXPORTS)),
    target="|".join(map(workflowcfg.re_escape, BENCH_TARGETS)),
    threads=r"\d+",


def variant_param(key):
    """A params function returning one knob of the wildcard's variant."""
    return lambda wildcards: VARIANTS[wildcards.variant][key]


def run_param(fn):
    """A params function of the wildcard's training run: ``fn(run record, variant knobs)``."""
    return lambda wildcards: fn(
        RUNS[wildcards.run], VARIANTS[RUNS[wildcards.run]["variant"]]
    )


FLOAT_FORMATS = [f for f in targets.EXPORTS if not targets.EXPORTS[f].calibrated]
INT8_FORMATS = [f for f in targets.EXPORTS if targets.EXPORTS[f].calibrated]


# What each INT8 format's quantize rule uses (choose, candidates; for "auto" its timing), once
QUANTIZE = {
    fmt: workflowcfg.quantize_settings(config, fmt)
    for fmt in INT8_FORMATS
    if fmt in FORMATS
}


def quantize_threads(wildcards):
    """Cores a quantize job holds: "auto" times its candidates, so it holds them like a timing job."""
    auto = QUANTIZE[wildcards.fmt]["choose"] == "auto"
    return timing_threads(wildcards) if auto else 2


def model_for_target(wildcards, variant=None):
    """The model a benchmark job reads for the wildcards' target, of the wildcards' variant (or
    ``variant``): the primary training (its best.pt) for the checkpoint, else the export folder.
    The primary seed's run bears the variant's name."""
    variant = variant or wildcards.variant
    export = targets.TARGETS[wildcards.target].export
    if export is None:
        return layout.train_info(variant)
    return layout.export_dir(variant, export)


def timing_settings(*extra):
    """The benchmark keys a timing job uses (and ``extra`` ones), key-sorted for exact caching."""
    return workflowcfg.timing(config, *extra)


def timing_threads(wildcards):
    """Cores a timing job (latency, speedup, machine peak, crosscheck) holds: locally every core Snakemake
    has (--cores), so that no other job runs beside it whatever the thread count it times; on a
    cluster, whose profile gives it a whole node, the largest benchmark thread count."""
    return cluster.timing_cores(workflow, max(BENCH_THREADS))


def host_inputs():
    """Every host's results the report shows: the configured cluster hosts (timed by host_bench)
    and any folder dropped under results/hosts/ with a hostbench.csv."""
    found = glob_wildcards(layout.host_csv()).host
    dropped = [h for h in found if "/" not in h and bundle.HOST_NAME.fullmatch(h)]
    return [layout.host_dir(h) for h in sorted(set(HOSTS) | set(dropped))]


def optional_targets():
    """Outputs asked for only when switched on in config (benchmark.crosscheck)."""
    if config["benchmark"]["crosscheck"]:
        return expand(layout.crosscheck_csv(), variant=VARIANTS)
    return []


# Rules the site runs on the submit host instead of submitting them (YOLOSHRINK_SLURM_LOCAL_RULES,
# its choice: seconds of work each, not worth a place in the queue; docs/cluster.md). The
# `localrules:` directive takes literal names only; this is the call it compiles to.
workflow.localrules(*slurmsite.Site.from_environ().local_rule_names())


# On SLURM: one sinfo call checks every job's request (partition, CPUs, memory, GPUs, runtime,
# node features) against the nodes before the first submission; a dry run (-n), which runs no
# handler, prints the same check as a report when it ends.
cluster.report_dry_run_at_exit(workflow)


onstart:
    cluster.check_workflow(workflow)
