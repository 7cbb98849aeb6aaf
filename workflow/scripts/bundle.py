"""Write the deployment bundle (logic in yoloshrink.bundle)."""

from pathlib import Path

from yoloshrink.job import start

start(snakemake)

from yoloshrink.bundle import build_bundle
from yoloshrink.datasets.files import val_images_dir

manifest = build_bundle(
    out=Path(snakemake.output[0]),
    exports=[Path(p) for p in snakemake.input.exports],
    summaries=[Path(p) for p in snakemake.input.summaries],
    images_dir=val_images_dir(Path(snakemake.input.data)),
    imgsz=dict(snakemake.params.imgsz),  # variant -> input size
    targets=list(snakemake.params.targets),
    timing=dict(snakemake.params.timing),
    threads=list(snakemake.params.threads),
)
print(f"{len(manifest['models'])} model targets, {len(manifest['files'])} files, commit {manifest['workflow_commit']}")
