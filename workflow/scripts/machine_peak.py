"""Measure the CPU's reference roofs per thread count, and derive its peak (logic in
yoloshrink.bench.roofline)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.bench.roofline import write_machine_peak

write_machine_peak(list(snakemake.params.threads), Path(snakemake.output[0]))
