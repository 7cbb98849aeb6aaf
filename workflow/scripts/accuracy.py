"""Accuracy of one (variant, format) on the val split (logic in yoloshrink.bench)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.bench import accuracy_job

accuracy_job(
    target=snakemake.wildcards.target,
    model=Path(snakemake.input.model),
    data_yaml=Path(snakemake.input.data),
    imgsz=snakemake.params.imgsz,
    out=Path(snakemake.output[0]),
)
