"""Train one run of a variant (logic in yoloshrink.train)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.gpu import training_device
from yoloshrink.train import train_job
from yoloshrink.workflowcfg import training_runs

# the run's variant, for its record: the run wildcard and the config decide it (a param would
# retrain every existing run when added)
variant = training_runs(snakemake.config)[snakemake.wildcards.run]["variant"]

settings = dict(snakemake.params.settings)
# a GPU of its own per job (lock files), or SLURM's allocation; "cpu" stays "cpu"
settings["device"] = training_device(settings.get("device", "cpu"), Path(".snakemake/gpu-locks"))
train_job(
    model_yaml=Path(snakemake.input.model),
    data_yaml=Path(snakemake.input.data),
    info_json=Path(snakemake.output[0]),
    settings=settings,
    threads=snakemake.threads,
    run=snakemake.wildcards.run,
    variant=variant,
)
