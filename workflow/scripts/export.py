"""Export one trained model to one format (logic in yoloshrink.export)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

import torch

from yoloshrink.export import export_job

torch.set_num_threads(snakemake.threads)
record = export_job(
    Path(snakemake.input.training),
    snakemake.wildcards.fmt,
    Path(snakemake.output[0]),
    imgsz=snakemake.params.imgsz,
    extra=dict(snakemake.params.args),
    calibration=(Path(snakemake.input.calibration) / "data.yaml" if snakemake.input.calibration else None),
)
print(record)
