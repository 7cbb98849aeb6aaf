# Stage 5: accuracy per (variant, format) and latency per (variant, format, threads), then one
# CSV. Timing jobs hold the `bench_lock` resource (limited to 1 in profiles/default) and ask for
# as many cores as the largest thread count, so no two timings, and no timing and training,
# share the machine.


rule accuracy:
    input:
        model=model_for_format,
        data="results/dataset/data.yaml",
    output:
        "results/benchmark/{variant}/{fmt}/accuracy.json",
    log:
        "logs/benchmark/{variant}/{fmt}/accuracy.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: 1
    params:
        imgsz=config["export"]["imgsz"],
    script:
        "../scripts/accuracy.py"


rule latency:
    input:
        model=model_for_format,
        data="results/dataset/data.yaml",
    output:
        "results/benchmark/{variant}/{fmt}/latency_t{threads}.json",
    log:
        "logs/benchmark/{variant}/{fmt}/latency_t{threads}.log",
    conda:
        "../../envs/benchmark.yaml"
    threads: max(BENCH_THREADS)
    resources:
        bench_lock=1,
    params:
        imgsz=config["export"]["imgsz"],
        timing={
            k: v
            for k, v in config["benchmark"].items()
            if k not in ("threads", "parity_tolerance")
        },
    script:
        "../scripts/latency.py"


rule environment:
    input:
        expand(
            "results/benchmark/{variant}/{fmt}/latency_t{threads}.json",
            variant=VARIANTS,
            fmt=FORMATS,
            threads=BENCH_THREADS,
        ),
    output:
        "results/benchmark/environment.json",
    log:
        "logs/benchmark/environment.log",
    conda:
        "../../envs/benchmark.yaml"
    script:
        "../scripts/environment.py"


rule benchmark_table:
    input:
        accuracy=expand(
            "results/benchmark/{variant}/{fmt}/accuracy.json",
            variant=VARIANTS,
            fmt=FORMATS,
        ),
        latency=expand(
            "results/benchmark/{variant}/{fmt}/latency_t{threads}.json",
            variant=VARIANTS,
            fmt=FORMATS,
            threads=BENCH_THREADS,
        ),
        exports=expand(
            "results/export/{variant}/{fmt}",
            variant=VARIANTS,
            fmt=config["export"]["formats"],
        ),
        weights=expand("results/train/{variant}/weights/best.pt", variant=VARIANTS),
        summaries=expand("results/models/{variant}/summary.json", variant=VARIANTS),
        environment="results/benchmark/environment.json",
    output:
        "results/benchmark.csv",
    log:
        "logs/benchmark/table.log",
    conda:
        "../../envs/benchmark.yaml"
    params:
        parity_tolerance=config["benchmark"]["parity_tolerance"],
        imgsz=config["export"]["imgsz"],
    script:
        "../scripts/benchmark_table.py"
