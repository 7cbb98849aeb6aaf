"""Download a Roboflow dataset version (API key from ROBOFLOW_API_KEY only; logic in
yoloshrink.datasets.sources)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.sources import fetch_roboflow

fetch_roboflow(
    snakemake.params.workspace,
    snakemake.params.project,
    snakemake.params.version,
    snakemake.params.format,
    Path(snakemake.output[0]),
    max_unpacked_mb=snakemake.config["dataset"]["max_unpacked_mb"],  # not a param: no rerun on change
)
