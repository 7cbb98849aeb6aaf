"""Build the INT8 calibration set and its data.yaml (logic in yoloshrink.datasets.canonical)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.canonical import calibration_set

print(calibration_set(Path(snakemake.input.data), Path(snakemake.output[0]), n_images=snakemake.params.n_images))
