"""Train one variant (logic in yoloshrink.train)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.train import train_variant

train_variant(
    model_yaml=Path(snakemake.input.model),
    data_yaml=Path(snakemake.input.data),
    run_dir=Path(snakemake.output.best).parent.parent,
    settings=dict(snakemake.params.settings),
    threads=snakemake.threads,
)
