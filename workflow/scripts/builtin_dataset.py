"""Generate the built-in dataset (logic in yoloshrink.datasets.builtin)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.builtin import generate_builtin

generate_builtin(Path(snakemake.output[0]), snakemake.params.settings)
