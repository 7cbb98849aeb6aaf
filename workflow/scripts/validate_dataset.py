"""Validate the source dataset; strict stops with the offending files (logic in yoloshrink.datasets.validate)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.validate import validate_dataset

validate_dataset(
    Path(snakemake.input[0]),
    Path(snakemake.output.report),
    Path(snakemake.output.excluded),
    policy=snakemake.params.policy,
)
