"""Figures and the Markdown summary (logic in yoloshrink.report)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.report import build_report

build_report(
    csv=Path(snakemake.input.csv),
    variants=list(snakemake.params.variants),
    results=[Path(p) for p in snakemake.input.results],
    infos=[Path(p) for p in snakemake.input.infos],
    summaries=[Path(p) for p in snakemake.input.summaries],
    out_dir=Path(snakemake.output.readme).parent,
)
