"""Unpack a YOLO export zip into resources/datasets/<name>/ (logic in yoloshrink.datasets.sources)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.sources import unpack_zip

unpack_zip(
    Path(snakemake.input[0]),
    Path(snakemake.output[0]),
    sha256=snakemake.params.sha256,
    max_unpacked_mb=snakemake.config["dataset"]["max_unpacked_mb"],  # not a param: no rerun on change
)
