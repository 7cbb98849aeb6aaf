"""Run ultralytics' own benchmark() for side-by-side comparison (logic in yoloshrink.bench.crosscheck)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.bench.crosscheck import ultralytics_crosscheck

ultralytics_crosscheck(
    Path(snakemake.input.training),
    Path(snakemake.input.data),
    snakemake.params.imgsz,
    Path(snakemake.output[0]),
)
