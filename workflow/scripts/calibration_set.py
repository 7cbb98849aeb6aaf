"""Build the INT8 calibration set and its data.yaml (logic in yoloshrink.data)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.data import calibration_set

print(
    calibration_set(
        Path(snakemake.input.data),
        Path(snakemake.output[0]),
        n_images=snakemake.params.n_images,
    )
)
