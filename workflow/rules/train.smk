# Stage 3: train each variant from its yaml (from scratch) with ultralytics -> best.pt.


rule train:
    input:
        model="results/models/{variant}/model.yaml",
        data="results/dataset/data.yaml",
    output:
        # ultralytics' run folder (weights/best.pt, results.csv, TensorBoard events, ...) is
        # complete when train_info.json appears; a failed training writes it with status
        # "failed" and the error, so that every other variant still reaches the report.
        "results/train/{variant}/train_info.json",
    log:
        "logs/train/{variant}.log",
    conda:
        "../../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        # one GPU per training: --resources gpu=N on a workstation; --gpus=1 via the slurm plugin
        gpu=0 if str(config["train"]["device"]).lower() in ("cpu", "mps") else 1,
    params:
        settings=workflowcfg.canonical(
            {k: v for k, v in config["train"].items() if k != "threads"}
        ),
    script:
        "../scripts/train.py"
