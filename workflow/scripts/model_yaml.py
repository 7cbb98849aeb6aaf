"""Write a variant's model yaml and its size summary (logic in yoloshrink.model)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.model import model_job

model_job(
    variant=snakemake.wildcards.variant,
    knobs=dict(snakemake.params.items()),
    data_yaml=Path(snakemake.input.data),
    out_yaml=Path(snakemake.output.yaml),
    out_summary=Path(snakemake.output.summary),
)
