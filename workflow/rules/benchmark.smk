# Stage 5: accuracy per (variant, target) and latency per (variant, target, threads), the
# machine's peak and environment, then one CSV. A target is an exported format, optionally at
# a given precision ("openvino-f32") or its INT8 export ("onnx-int8"). A timing job (latency,
# machine_peak, ultralytics_crosscheck) holds every core Snakemake has (timing_threads), so no
# other job runs beside it, whatever thread count it times; its runtime's own thread count
# comes from the {threads} wildcard. On SLURM the profile gives it a whole node (--exclusive).


rule accuracy:
    input:
        model=model_for_target,
        data="results/dataset/data.yaml",
    output:
        "results/benchmark/{variant}/{target}/accuracy.json",
    log:
        "logs/benchmark/{variant}/{target}/accuracy.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: 1
    params:
        imgsz=variant_param("export_imgsz"),
    script:
        "../scripts/accuracy.py"


rule latency:
    input:
        model=model_for_target,
        data="results/dataset/data.yaml",
    output:
        "results/benchmark/{variant}/{target}/latency_t{threads}.json",
    log:
        "logs/benchmark/{variant}/{target}/latency_t{threads}.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    params:
        imgsz=variant_param("export_imgsz"),
        timing=workflowcfg.canonical(
            {
                k: config["benchmark"][k]
                for k in (
                    "warmup",
                    "min_runs",
                    "min_seconds",
                    "max_runs",
                    "e2e_images",
                )
            }
        ),
    script:
        "../scripts/latency.py"


rule machine_peak:
    output:
        "results/benchmark/peak.json",
    log:
        "logs/benchmark/peak.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    params:
        threads=BENCH_THREADS,
        roofs=["fp32", "bf16", "int8"],  # a new roof re-measures an existing peak.json
    script:
        "../scripts/machine_peak.py"


rule environment:
    input:
        expand(
            "results/benchmark/{variant}/{target}/latency_t{threads}.json",
            variant=VARIANTS,
            target=TARGETS,
            threads=BENCH_THREADS,
        ),
    output:
        report(
            "results/benchmark/environment.json",
            caption="../report/environment.rst",
            category="Environment",
        ),
    log:
        "logs/benchmark/environment.log",
    conda:
        "../../envs/benchmark.yaml"
    script:
        "../scripts/environment.py"


rule benchmark_table:
    input:
        accuracy=expand(
            "results/benchmark/{variant}/{target}/accuracy.json",
            variant=VARIANTS,
            target=TARGETS,
        ),
        latency=expand(
            "results/benchmark/{variant}/{target}/latency_t{threads}.json",
            variant=VARIANTS,
            target=TARGETS,
            threads=BENCH_THREADS,
        ),
        exports=expand("results/export/{variant}/{fmt}", variant=VARIANTS, fmt=FORMATS),
        # the primary seed's run of each variant (it bears the variant's name)
        trainings=expand("results/train/{variant}/train_info.json", variant=VARIANTS),
        summaries=expand("results/models/{variant}/summary.json", variant=VARIANTS),
        peak="results/benchmark/peak.json",
        environment="results/benchmark/environment.json",
    output:
        report(
            "results/benchmark.csv",
            caption="../report/benchmark_csv.rst",
            category="Benchmark",
        ),
    log:
        "logs/benchmark/table.log",
    conda:
        "../../envs/benchmark.yaml"
    params:
        parity_tolerance=config["benchmark"]["parity_tolerance"],
        imgsz=workflowcfg.canonical(
            {v: knobs["export_imgsz"] for v, knobs in VARIANTS.items()}
        ),
    script:
        "../scripts/benchmark_table.py"


rule ultralytics_crosscheck:
    """Optional (benchmark.crosscheck): ultralytics' own benchmark() on the same model and data."""
    input:
        training="results/train/{variant}/train_info.json",
        data="results/dataset/data.yaml",
    output:
        "results/benchmark/{variant}/ultralytics_benchmark.csv",
    log:
        "logs/benchmark/{variant}/crosscheck.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    params:
        imgsz=variant_param("export_imgsz"),
    script:
        "../scripts/crosscheck.py"
