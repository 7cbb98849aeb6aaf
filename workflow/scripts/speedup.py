"""Speed-up of one variant over the baseline on one (target, threads), the two in processes taking
turns; or, for the control rule, the baseline against itself (logic in yoloshrink.bench.paired)."""

from pathlib import Path

from yoloshrink.job import start

# the job holds every core (so it runs alone); the runtimes get the thread count it times
start(snakemake, timed_threads=int(snakemake.wildcards.threads))

from yoloshrink.bench.paired import speedup_job

speedup_job(
    variant=snakemake.wildcards.variant,
    baseline=snakemake.params.baseline,
    target=snakemake.wildcards.target,
    model=Path(snakemake.input.model),
    baseline_model=Path(snakemake.input.baseline),
    data_yaml=Path(snakemake.input.data),
    imgsz=snakemake.params.imgsz,
    baseline_imgsz=snakemake.params.baseline_imgsz,
    threads=int(snakemake.wildcards.threads),
    timing=dict(snakemake.params.timing),
    out=Path(snakemake.output[0]),
    kind=snakemake.params.kind,
)
