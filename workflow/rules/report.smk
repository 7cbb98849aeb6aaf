# Stage 6: figures and a Markdown summary under results/report/; the same figures, with the
# captions in workflow/report/, make the HTML report: snakemake --report results/report.html


rule report:
    input:
        csv="results/benchmark.csv",
        infos=expand("results/train/{run}/train_info.json", run=RUNS),
        summaries=expand("results/models/{variant}/summary.json", variant=VARIANTS),
        data="results/dataset/data.yaml",
        environment="results/benchmark/environment.json",
        peak="results/benchmark/peak.json",
        card="results/dataset/card.json",
        excluded="results/dataset/excluded.csv",
        validation="results/dataset/validation.json",
        reference=workflow.source_path("../report/original_experiment.yaml"),
    output:
        readme="results/report/README.md",
        curves=report(
            "results/report/training_curves.png",
            caption="../report/training_curves.rst",
            category="Training",
        ),
        tradeoff=report(
            "results/report/accuracy_vs_latency.png",
            caption="../report/accuracy_vs_latency.rst",
            category="Benchmark",
        ),
        latency=report(
            "results/report/latency.png",
            caption="../report/latency.rst",
            category="Benchmark",
        ),
        size=report(
            "results/report/size.png", caption="../report/size.rst", category="Size"
        ),
        predictions=report(
            "results/report/predictions.png",
            caption="../report/predictions.rst",
            category="Training",
        ),
    log:
        "logs/report/report.log",
    conda:
        "../../envs/report.yaml"
    params:
        variants=list(VARIANTS),
        runs=workflowcfg.canonical(RUNS),
        imgsz=workflowcfg.canonical(
            {v: knobs["export_imgsz"] for v, knobs in VARIANTS.items()}
        ),
        n_images=3,
        budgets_ms=config["report"]["budgets_ms"],
    script:
        "../scripts/report.py"
