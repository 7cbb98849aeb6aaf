"""Latency of one (variant, format, threads) (logic in yoloshrink.bench)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.bench import latency_job, limit_thread_env

# the job holds every core (so it runs alone); the runtimes get the thread count it times
limit_thread_env(int(snakemake.wildcards.threads))

latency_job(
    target=snakemake.wildcards.target,
    model=Path(snakemake.input.model),
    data_yaml=Path(snakemake.input.data),
    imgsz=snakemake.params.imgsz,
    threads=int(snakemake.wildcards.threads),
    timing=dict(snakemake.params.timing),
    out=Path(snakemake.output[0]),
)
