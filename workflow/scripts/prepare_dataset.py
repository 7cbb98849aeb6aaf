"""Canonical data.yaml and label caches for any source, without the images validation excluded
(logic in yoloshrink.datasets.canonical)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.canonical import prepare_dataset

prepare_dataset(
    Path(snakemake.input.source),
    Path(snakemake.output.data),
    Path(snakemake.output.summary),
    validation_json=Path(snakemake.input.validation),
    canonical_dir=Path(snakemake.output.canonical),
)
