# Stage 6: figures and a Markdown summary under results/report/.


rule report:
    input:
        csv="results/benchmark.csv",
        results=expand("results/train/{variant}/results.csv", variant=VARIANTS),
        infos=expand("results/train/{variant}/train_info.json", variant=VARIANTS),
        summaries=expand("results/models/{variant}/summary.json", variant=VARIANTS),
    output:
        readme="results/report/README.md",
        curves=report("results/report/training_curves.png", category="Training"),
        tradeoff=report("results/report/accuracy_vs_latency.png", category="Benchmark"),
        size=report("results/report/size.png", category="Size"),
    log:
        "logs/report/report.log",
    conda:
        "../../envs/report.yaml"
    params:
        variants=list(VARIANTS),
    script:
        "../scripts/report.py"
