"""Run ultralytics' own benchmark() for side-by-side comparison (logic in yoloshrink.bench)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.bench import ultralytics_crosscheck

ultralytics_crosscheck(
    Path(snakemake.input.training),
    Path(snakemake.input.data),
    snakemake.params.imgsz,
    Path(snakemake.output[0]),
)
