"""Dataset card of the canonical dataset: card.json and card.png (logic in yoloshrink.datasets.card)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.card import write_card

write_card(Path(snakemake.input.data), Path(snakemake.output.card), Path(snakemake.output.figure))
