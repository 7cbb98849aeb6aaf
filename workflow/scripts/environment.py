"""Record the software and hardware the benchmark ran on (logic in yoloshrink.environment)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.environment import collect_environment
from yoloshrink.fsutil import atomic_write_json

atomic_write_json(Path(snakemake.output[0]), collect_environment())
