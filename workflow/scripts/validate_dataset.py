"""Validate the source dataset; strict stops with the offending files (logic in yoloshrink.datasets.validate)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.datasets.validate import validate_dataset

validate_dataset(
    Path(snakemake.input[0]),
    Path(snakemake.output.report),
    Path(snakemake.output.excluded),
    policy=snakemake.params.policy,
)
