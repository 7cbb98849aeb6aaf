"""Quantize one float export to its INT8 format (logic in yoloshrink.quantize)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake, timed_threads=snakemake.params.quantize.get("threads"))  # "auto" times on these

import torch

from yoloshrink.quantize import quantize_job

torch.set_num_threads(snakemake.threads)
record = quantize_job(
    variant=snakemake.wildcards.variant,
    float_export=Path(snakemake.input.float_export),
    fmt=snakemake.wildcards.fmt,
    out_dir=Path(snakemake.output[0]),
    imgsz=snakemake.params.imgsz,
    calibration=Path(snakemake.input.calibration) / "data.yaml",
    settings=dict(snakemake.params.quantize),
)
print({k: v for k, v in record.items() if k != "quantizer"}, (record.get("quantizer") or {}).get("reason"))
