# Stage 1: the dataset. The built-in set is generated, a zip is unpacked, a Roboflow version is
# downloaded (each into resources/datasets/<name>/), a folder is used in place. The source is
# validated (results/dataset/validation.json; strict stops, lenient leaves bad images out) and
# the canonical data.yaml (absolute paths) is written over a linked copy of the usable images,
# where ultralytics' label caches are built once, so that parallel trainings only read them.
# Caching: zip by content (sha256 param, mtime ignored), roboflow by workspace/project/version/
# format (params and folder name); see docs/datasets.md.

from yoloshrink.datasets import sources as dataset_sources

DATASET = config["dataset"]
SOURCE_YAML = workflowcfg.dataset_yaml(config)


rule builtin_dataset:
    output:
        layout.BUILTIN_YAML,
    log:
        "logs/dataset/builtin.log",
    conda:
        "../../envs/dataset.yaml"
    params:
        settings=workflowcfg.canonical(config["dataset"]["builtin"]),
    script:
        "../scripts/builtin_dataset.py"


if DATASET["source"] == "zip":

    rule unpack_zip:
        input:
            # content, not mtime, decides: the sha256 param reruns this on a changed zip
            ancient(DATASET["path"]),
        output:
            SOURCE_YAML,
        log:
            "logs/dataset/unpack_zip.log",
        conda:
            "../../envs/dataset.yaml"
        params:
            sha256=dataset_sources.cached_sha256(
                DATASET["path"], layout.ZIP_SHA256_CACHE
            ),
        script:
            "../scripts/unpack_zip.py"


if DATASET["source"] == "roboflow":

    rule fetch_roboflow:
        output:
            SOURCE_YAML,
        log:
            "logs/dataset/fetch_roboflow.log",
        conda:
            "../../envs/dataset.yaml"
        params:
            # the API key is read by the job from ROBOFLOW_API_KEY, never a param (params are
            # recorded in .snakemake/metadata); max_unpacked_mb is read from the config by the
            # script, so raising the limit re-downloads nothing
            workspace=DATASET.get("roboflow", {}).get("workspace"),
            project=DATASET.get("roboflow", {}).get("project"),
            version=DATASET.get("roboflow", {}).get("version"),
            format=DATASET.get("roboflow", {}).get("format", "yolov8"),
        script:
            "../scripts/fetch_roboflow.py"


rule validate_dataset:
    input:
        SOURCE_YAML,
    output:
        report=layout.VALIDATION_JSON,
        excluded=layout.EXCLUDED_CSV,
    log:
        "logs/dataset/validate.log",
    conda:
        "../../envs/dataset.yaml"
    params:
        policy=DATASET["validation"],
    script:
        "../scripts/validate_dataset.py"


rule prepare_dataset:
    input:
        source=SOURCE_YAML,
        validation=layout.VALIDATION_JSON,
    output:
        data=layout.DATA_YAML,
        summary=layout.DATASET_SUMMARY,
        canonical=directory(layout.CANONICAL_DIR),
    log:
        "logs/dataset/prepare.log",
    conda:
        "../../envs/dataset.yaml"
    script:
        "../scripts/prepare_dataset.py"


rule calibration_set:
    """Train images that calibrate the INT8 exports (the val split stays for scoring)."""
    input:
        data=layout.DATA_YAML,
    output:
        directory(layout.CALIBRATION_DIR),
    log:
        "logs/dataset/calibration.log",
    conda:
        "../../envs/dataset.yaml"
    params:
        n_images=config["export"]["calibration_images"],
    script:
        "../scripts/calibration_set.py"


rule dataset_card:
    input:
        data=layout.DATA_YAML,
    output:
        card=layout.CARD_JSON,
        figure=report(
            layout.CARD_PNG,
            caption="../report/dataset_card.rst",
            category="Dataset",
            subcategory="Card",
        ),
    log:
        "logs/dataset/card.log",
    conda:
        "../../envs/dataset.yaml"
    script:
        "../scripts/dataset_card.py"
