# Stage 4: export each trained model to each deployment format, one folder per pair.


rule export:
    input:
        training=layout.train_info("{variant}"),  # the primary seed's run
        calibration=calibration_input,
    output:
        directory(layout.export_dir()),
    log:
        "logs/export/{variant}/{fmt}.log",
    conda:
        "../../envs/export.yaml"
    threads: 2
    params:
        imgsz=variant_param("export_imgsz"),
        args=lambda wildcards: workflowcfg.canonical(
            config["export"]["args"].get(wildcards.fmt, {})
        ),
    script:
        "../scripts/export.py"
