# Stage 6: figures and a Markdown summary under results/report/; the same figures, with the
# captions in workflow/report/, make the HTML report: snakemake --report results/report.html


rule report:
    input:
        csv=layout.BENCHMARK_CSV,
        infos=expand(layout.train_info(), run=RUNS),
        summaries=expand(layout.model_summary(), variant=VARIANTS),
        data=layout.DATA_YAML,
        environment=layout.ENVIRONMENT_JSON,
        peak=layout.PEAK_JSON,
        card=layout.CARD_JSON,
        excluded=layout.EXCLUDED_CSV,
        validation=layout.VALIDATION_JSON,
        reference=workflow.source_path("../report/original_experiment.yaml"),
        hosts=host_inputs(),
        int8_exports=expand(
            layout.export_dir(),
            variant=VARIANTS,
            fmt=[f for f in FORMATS if f in INT8_FORMATS],
        ),
    output:
        readme=layout.REPORT_README,
        front=layout.REPORT_FRONT_HTML,  # the HTML report's front page shows it (workflow.rst)
        summary=report(
            layout.REPORT_SUMMARY_HTML,
            caption="../report/summary.rst",
            category="Summary",
            labels={"page": "README, rendered"},
        ),
        curves=report(
            layout.report_figure("training_curves"),
            caption="../report/training_curves.rst",
            category="Training",
            subcategory="Curves",
        ),
        tradeoff=report(
            layout.report_figure("accuracy_vs_latency"),
            caption="../report/accuracy_vs_latency.rst",
            category="Benchmark",
            subcategory="Accuracy against latency",
        ),
        latency=report(
            layout.report_figure("latency"),
            caption="../report/latency.rst",
            category="Benchmark",
            subcategory="Latency per target",
        ),
        size=report(
            layout.report_figure("size"),
            caption="../report/size.rst",
            category="Size",
            subcategory="Parameters, operations, files",
        ),
        # in the HTML report only where a deployment machine was timed besides this one
        hosts=(
            report(
                layout.report_figure("hosts"),
                caption="../report/hosts.rst",
                category="Benchmark",
                subcategory="Deployment machines",
            )
            if host_inputs()
            else layout.report_figure("hosts")
        ),
        predictions=report(
            layout.report_figure("predictions"),
            caption="../report/predictions.rst",
            category="Training",
            subcategory="Predictions",
        ),
    log:
        "logs/report/report.log",
    conda:
        "../../envs/report.yaml"
    params:
        variants=list(VARIANTS),
        baseline=BASELINE,
        imgsz=workflowcfg.canonical(
            {v: knobs["export_imgsz"] for v, knobs in VARIANTS.items()}
        ),
        n_images=3,
        budgets_ms=config["report"]["budgets_ms"],
        budget_basis=config["report"]["budget_basis"],
        dataset_source=config["dataset"]["source"],
    script:
        "../scripts/report.py"
