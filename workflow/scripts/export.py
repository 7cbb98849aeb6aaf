"""Export one trained model to one format (logic in yoloshrink.export)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

import torch

from yoloshrink.export import export_job

torch.set_num_threads(snakemake.threads)
record = export_job(
    variant=snakemake.wildcards.variant,
    train_info=Path(snakemake.input.training),
    fmt=snakemake.wildcards.fmt,
    out_dir=Path(snakemake.output[0]),
    imgsz=snakemake.params.imgsz,
    extra=dict(snakemake.params.args),
)
print(record)
