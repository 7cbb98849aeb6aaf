"""Time the bundle on this node as one host (logic in yoloshrink.hostbench)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.hostbench import run_host

out = Path(snakemake.output[0])
run_host(Path(snakemake.input[0]), snakemake.wildcards.host, out.parent, list(snakemake.params.threads))
