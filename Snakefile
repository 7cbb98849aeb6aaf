# The width-sweep workflow:
#   dataset -> model yaml (per variant) -> best.pt -> exported models -> benchmark CSV -> report
# Settings: config/config.yaml (built-in demo) or --configfile config/csgo.yaml (the original).


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/benchmark.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/deploy.smk"


rule all:
    default_target: True
    input:
        layout.BENCHMARK_CSV,
        layout.REPORT_README,
        # every record the table and the report read, so that one deleted (or never written by a
        # job killed with Snakemake) is made again by the next plain run, not skipped because the
        # CSV and README are newer than its neighbours
        rules.benchmark_table.input,
        rules.report.input,
        optional_targets(),  # benchmark.crosscheck: ultralytics' own benchmark() per variant
