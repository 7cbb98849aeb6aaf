# Stage 5: accuracy per (variant, target), latency per (variant, target, threads), the speed-up
# of each other variant over the baseline per (variant, target, threads) (each model in fresh
# processes taking turns), the A/A control per runtime (the baseline against itself), the
# machine's peak and environment, then one CSV. A target is an exported format, optionally at
# a given precision ("openvino-f32") or its INT8 export ("onnx-int8"). A timing job (latency,
# speedup, control, machine_peak, ultralytics_crosscheck) holds every core Snakemake has (timing_threads), so no
# other job runs beside it, whatever thread count it times; its runtime's own thread count
# comes from the {threads} wildcard. On SLURM the profile gives it a whole node (--exclusive).


rule accuracy:
    input:
        model=model_for_target,
        data=layout.DATA_YAML,
    output:
        layout.accuracy_json(),
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
        data=layout.DATA_YAML,
    output:
        layout.latency_json(),
    log:
        "logs/benchmark/{variant}/{target}/latency_t{threads}.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    params:
        imgsz=variant_param("export_imgsz"),
        timing=timing_settings("e2e_images"),
    script:
        "../scripts/latency.py"


rule speedup:
    """A variant against the baseline (the first variant) on one target and thread count, each
    in a process of its own, taking turns by block: the speed-up with its interval."""
    input:
        model=model_for_target,
        baseline=lambda wildcards: model_for_target(wildcards, BASELINE),
        data=layout.DATA_YAML,
    output:
        layout.speedup_json(),
    log:
        "logs/benchmark/{variant}/{target}/speedup_t{threads}.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    params:
        kind="speedup",
        baseline=BASELINE,
        imgsz=variant_param("export_imgsz"),
        baseline_imgsz=VARIANTS[BASELINE]["export_imgsz"],
        timing=timing_settings(),
    script:
        "../scripts/speedup.py"


rule control:
    """The A/A control: the baseline against itself by the speed-up's method, per runtime (its
    first target) and thread count; its interval must contain 1."""
    input:
        model=model_for_target,
        baseline=model_for_target,
        data=layout.DATA_YAML,
    output:
        layout.control_json(),
    log:
        "logs/benchmark/{variant}/{target}/control_t{threads}.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    params:
        kind="control",
        baseline=BASELINE,
        imgsz=variant_param("export_imgsz"),
        baseline_imgsz=VARIANTS[BASELINE]["export_imgsz"],
        timing=timing_settings(),
    script:
        "../scripts/speedup.py"


rule machine_peak:
    output:
        layout.PEAK_JSON,
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
            layout.latency_json(),
            variant=VARIANTS,
            target=BENCH_TARGETS,
            threads=BENCH_THREADS,
        ),
    output:
        report(
            layout.ENVIRONMENT_JSON,
            caption="../report/environment.rst",
            category="Environment",
            subcategory="Machine and versions",
        ),
    log:
        "logs/benchmark/environment.log",
    conda:
        "../../envs/benchmark.yaml"
    script:
        "../scripts/environment.py"


rule benchmark_table:
    input:
        accuracy=expand(layout.accuracy_json(), variant=VARIANTS, target=BENCH_TARGETS),
        latency=expand(
            layout.latency_json(),
            variant=VARIANTS,
            target=BENCH_TARGETS,
            threads=BENCH_THREADS,
        ),
        speedups=expand(
            layout.speedup_json(),
            variant=OTHER_VARIANTS,
            target=BENCH_TARGETS,
            threads=BENCH_THREADS,
        ),
        controls=expand(
            layout.control_json(),
            variant=BASELINE,
            target=CONTROL_TARGETS,
            threads=BENCH_THREADS,
        ),
        exports=expand(layout.export_dir(), variant=VARIANTS, fmt=FORMATS),
        # the primary seed's run of each variant (it bears the variant's name)
        trainings=[layout.train_info(v) for v in VARIANTS],
        summaries=expand(layout.model_summary(), variant=VARIANTS),
        peak=layout.PEAK_JSON,
        environment=layout.ENVIRONMENT_JSON,
    output:
        report(
            layout.BENCHMARK_CSV,
            caption="../report/benchmark_csv.rst",
            category="Benchmark",
            subcategory="The table",
        ),
    log:
        "logs/benchmark/table.log",
    conda:
        "../../envs/benchmark.yaml"
    params:
        baseline=BASELINE,
        parity_tolerance=config["benchmark"]["parity_tolerance"],
        imgsz=workflowcfg.canonical(
            {v: knobs["export_imgsz"] for v, knobs in VARIANTS.items()}
        ),
    script:
        "../scripts/benchmark_table.py"


rule ultralytics_crosscheck:
    """Optional (benchmark.crosscheck): ultralytics' own benchmark() on the same model and data."""
    input:
        training=layout.train_info("{variant}"),
        data=layout.DATA_YAML,
    output:
        layout.crosscheck_csv(),
    log:
        "logs/benchmark/{variant}/crosscheck.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: timing_threads
    params:
        imgsz=variant_param("export_imgsz"),
    script:
        "../scripts/crosscheck.py"
