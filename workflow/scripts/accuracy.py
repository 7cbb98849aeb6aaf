"""Accuracy of one (variant, target) on the val split (logic in yoloshrink.bench.accuracy)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.bench.accuracy import accuracy_job

accuracy_job(
    variant=snakemake.wildcards.variant,
    target=snakemake.wildcards.target,
    model=Path(snakemake.input.model),
    data_yaml=Path(snakemake.input.data),
    imgsz=snakemake.params.imgsz,
    out=Path(snakemake.output[0]),
)
