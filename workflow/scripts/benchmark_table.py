"""Gather every benchmark record into results/benchmark.csv (logic in yoloshrink.table)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.table import build_table, write_csv

table = build_table(
    accuracy=[Path(p) for p in snakemake.input.accuracy],
    latency=[Path(p) for p in snakemake.input.latency],
    speedups=[Path(p) for p in snakemake.input.speedups],
    controls=[Path(p) for p in snakemake.input.controls],
    trainings=[Path(p) for p in snakemake.input.trainings],
    exports=[Path(p) for p in snakemake.input.exports],
    summaries=[Path(p) for p in snakemake.input.summaries],
    peak=Path(snakemake.input.peak),
    environment=Path(snakemake.input.environment),
    parity_tolerance=snakemake.params.parity_tolerance,
    imgsz=snakemake.params.imgsz,
    baseline=snakemake.params.baseline,
)
write_csv(table, Path(snakemake.output[0]))
print(table.to_string())
