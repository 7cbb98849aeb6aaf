"""Latency of one (variant, target, threads) (logic in yoloshrink.bench.latency)."""

from pathlib import Path

from yoloshrink.job import start

# the job holds every core (so it runs alone); the runtimes get the thread count it times
start(snakemake, timed_threads=int(snakemake.wildcards.threads))

from yoloshrink.bench.latency import latency_job

latency_job(
    variant=snakemake.wildcards.variant,
    target=snakemake.wildcards.target,
    model=Path(snakemake.input.model),
    data_yaml=Path(snakemake.input.data),
    imgsz=snakemake.params.imgsz,
    threads=int(snakemake.wildcards.threads),
    timing=dict(snakemake.params.timing),
    out=Path(snakemake.output[0]),
)
