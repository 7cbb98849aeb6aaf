"""Canonical data.yaml and label caches for any source, without the images validation excluded
(logic in yoloshrink.data)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.data import prepare_dataset

prepare_dataset(
    Path(snakemake.input.source),
    Path(snakemake.output.data),
    Path(snakemake.output.summary),
    validation_json=Path(snakemake.input.validation),
    canonical_dir=Path(snakemake.output.canonical),
)
