# Stage 2: one model yaml per variant (stock YOLOv8 with explicit multiples) and its size.


rule model_yaml:
    input:
        data="results/dataset/data.yaml",
    output:
        yaml="results/models/{variant}/model.yaml",
        summary="results/models/{variant}/summary.json",
    log:
        "logs/model/{variant}.log",
    conda:
        "../../envs/train.yaml"
    params:
        width=variant_param("width"),
        depth=variant_param("depth"),
        max_channels=variant_param("max_channels"),
        heads=variant_param("heads"),
        imgsz=variant_param("imgsz"),  # the training size: export.imgsz must not retrain
    script:
        "../scripts/model_yaml.py"
