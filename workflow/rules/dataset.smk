# Stage 1: the dataset. The built-in set is generated; any source ends as one canonical
# data.yaml with absolute paths, and ultralytics' label caches are built once, here, so that
# parallel trainings only read them.


rule builtin_dataset:
    output:
        "resources/datasets/builtin/data.yaml",
    log:
        "logs/dataset/builtin.log",
    conda:
        "../../envs/dataset.yaml"
    params:
        settings=config["dataset"]["builtin"],
    script:
        "../scripts/builtin_dataset.py"


rule prepare_dataset:
    input:
        workflowcfg.dataset_yaml(config),
    output:
        data="results/dataset/data.yaml",
        summary="results/dataset/summary.json",
    log:
        "logs/dataset/prepare.log",
    conda:
        "../../envs/dataset.yaml"
    script:
        "../scripts/prepare_dataset.py"
