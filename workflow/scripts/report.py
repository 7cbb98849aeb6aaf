"""Figures and the Markdown summary (logic in yoloshrink.report)."""

from pathlib import Path

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.bench import val_images_dir
from yoloshrink.report import build_report

images = sorted(p for p in val_images_dir(Path(snakemake.input.data)).iterdir() if p.is_file())
build_report(
    csv=Path(snakemake.input.csv),
    variants=list(snakemake.params.variants),
    infos=[Path(p) for p in snakemake.input.infos],  # every training run: results/train/<run>/train_info.json
    summaries=[Path(p) for p in snakemake.input.summaries],
    out_dir=Path(snakemake.output.readme).parent,
    val_images=images[: snakemake.params.n_images],
    imgsz=dict(snakemake.params.imgsz),  # variant -> input size
    reference=Path(snakemake.input.reference),
    environment=Path(snakemake.input.environment),
    peak=Path(snakemake.input.peak),
    card=Path(snakemake.input.card),
    excluded=Path(snakemake.input.excluded),
    validation=Path(snakemake.input.validation),
    budgets_ms=list(snakemake.params.budgets_ms),
    runs=dict(snakemake.params.runs),  # run -> {"variant", "seed", "primary"}
)
