"""Measure the CPU's peak matmul throughput per thread count (logic in yoloshrink.bench)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.bench import machine_peak
from yoloshrink.fsutil import atomic_write_json

peak = machine_peak(list(snakemake.params.threads))
print(peak)
atomic_write_json(Path(snakemake.output[0]), peak)
