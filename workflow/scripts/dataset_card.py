"""Dataset card of the canonical dataset: card.json and card.png (logic in yoloshrink.datasets.card)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.datasets.card import write_card

write_card(Path(snakemake.input.data), Path(snakemake.output.card), Path(snakemake.output.figure))
