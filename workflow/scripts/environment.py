"""Record the software and hardware the benchmark ran on (logic in yoloshrink.environment)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.environment import write_environment

write_environment(Path(snakemake.output[0]))
