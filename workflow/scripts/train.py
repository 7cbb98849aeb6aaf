"""Train one variant (logic in yoloshrink.train)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.gpu import training_device
from yoloshrink.train import train_job

settings = dict(snakemake.params.settings)
# a GPU of its own per job (lock files), or SLURM's allocation; "cpu" stays "cpu"
settings["device"] = training_device(settings.get("device", "cpu"), Path(".snakemake/gpu-locks"))
train_job(
    model_yaml=Path(snakemake.input.model),
    data_yaml=Path(snakemake.input.data),
    info_json=Path(snakemake.output[0]),
    settings=settings,
    threads=snakemake.threads,
)
