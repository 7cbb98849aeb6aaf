"""Figures and the Markdown summary (logic in yoloshrink.report.build)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.datasets.files import list_images, val_images_dir
from yoloshrink.report.build import build_report

images = list_images(val_images_dir(Path(snakemake.input.data)))[: snakemake.params.n_images]
build_report(
    csv=Path(snakemake.input.csv),
    variants=list(snakemake.params.variants),
    infos=[Path(p) for p in snakemake.input.infos],  # every training run's train_info.json
    summaries=[Path(p) for p in snakemake.input.summaries],
    out_dir=Path(snakemake.output.readme).parent,
    val_images=[Path(p) for p in images],
    imgsz=dict(snakemake.params.imgsz),  # variant -> input size
    reference=Path(snakemake.input.reference),
    environment=Path(snakemake.input.environment),
    peak=Path(snakemake.input.peak),
    card=Path(snakemake.input.card),
    excluded=Path(snakemake.input.excluded),
    validation=Path(snakemake.input.validation),
    budgets_ms=list(snakemake.params.budgets_ms),
    budget_basis=snakemake.params.budget_basis,
    int8_exports=[Path(p) for p in snakemake.input.int8_exports],
    hosts=[Path(p) for p in snakemake.input.hosts],  # results/hosts/<host>/ folders
    dataset_source=snakemake.params.dataset_source,
    baseline=snakemake.params.baseline,
)
