# Stage 4: export each trained model to each deployment format, one folder per pair. The float
# formats are ultralytics' exports; an INT8 format is the float export quantized by its runtime's
# own quantizer, its settings chosen on the calibration set for this CPU (yoloshrink.quantize).


rule export:
    input:
        training=layout.train_info("{variant}"),  # the primary seed's run
    output:
        directory(layout.export_dir()),
    log:
        "logs/export/{variant}/{fmt}.log",
    wildcard_constraints:
        fmt="|".join(map(workflowcfg.re_escape, FLOAT_FORMATS)),
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


rule quantize:
    """An INT8 format: the float export quantized with each candidate setting of the runtime's
    quantizer, and with "auto" the fastest within the accuracy tolerance kept. "auto" times the
    candidates, so the job holds the cores a timing job does."""
    input:
        # the float export the float rows benchmark: the INT8 model is made from that very file
        float_export=lambda wildcards: layout.export_dir(
            wildcards.variant, targets.EXPORTS[wildcards.fmt].float_export
        ),
        calibration=layout.CALIBRATION_DIR,
    output:
        directory(layout.export_dir()),
    log:
        "logs/export/{variant}/{fmt}.log",
    wildcard_constraints:
        fmt="|".join(map(workflowcfg.re_escape, INT8_FORMATS)),
    conda:
        "../../envs/export.yaml"
    threads: quantize_threads
    params:
        imgsz=variant_param("export_imgsz"),
        quantize=lambda wildcards: QUANTIZE[wildcards.fmt],
    script:
        "../scripts/quantize.py"
