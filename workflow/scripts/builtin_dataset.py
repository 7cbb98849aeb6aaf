"""Generate the built-in dataset (thin entry point; logic in yoloshrink.datasets.synthetic)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.data import generate_builtin

generate_builtin(Path(snakemake.output[0]), snakemake.params.settings)
