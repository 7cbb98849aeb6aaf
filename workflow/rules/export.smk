# Stage 4: export each trained model to each deployment format, one folder per pair.


rule export:
    input:
        "results/train/{variant}/train_info.json",
    output:
        directory("results/export/{variant}/{fmt}"),
    log:
        "logs/export/{variant}/{fmt}.log",
    wildcard_constraints:
        fmt="torchscript|onnx|openvino|ncnn",
    conda:
        "../../envs/export.yaml"
    threads: 2
    params:
        imgsz=config["export"]["imgsz"],
        args=lambda wildcards: workflowcfg.canonical(
            config["export"]["args"].get(wildcards.fmt, {})
        ),
    script:
        "../scripts/export.py"
