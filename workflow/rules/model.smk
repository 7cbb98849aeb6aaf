# Stage 2: one model yaml per variant (its family's stock ultralytics yaml with explicit multiples,
# heads and class count) and its size.


rule model_yaml:
    input:
        data=layout.DATA_YAML,
    output:
        yaml=layout.model_yaml(),
        summary=layout.model_summary(),
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
