# Stage 3: train each variant from its yaml (from scratch) with ultralytics.


rule train:
    input:
        model="results/models/{variant}/model.yaml",
        data="results/dataset/data.yaml",
    output:
        best="results/train/{variant}/weights/best.pt",
        results="results/train/{variant}/results.csv",
        info="results/train/{variant}/train_info.json",
    log:
        "logs/train/{variant}.log",
    conda:
        "../../envs/train.yaml"
    threads: config["train"]["threads"]
    params:
        settings={k: v for k, v in config["train"].items() if k != "threads"},
    script:
        "../scripts/train.py"
