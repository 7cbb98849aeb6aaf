"""Write a variant's model yaml and its size summary (logic in yoloshrink.model)."""

from pathlib import Path

import yaml

from yoloshrink import offline
from yoloshrink.logutil import redirect_output

offline.apply()
redirect_output(snakemake.log[0])

from yoloshrink.fsutil import atomic_write_json
from yoloshrink.model import summarize, variant_yaml, write_variant_yaml

p = snakemake.params
nc = int(yaml.safe_load(Path(snakemake.input.data).read_text())["nc"])
cfg = variant_yaml(p.width, p.depth, p.max_channels, nc, heads=p.heads)
write_variant_yaml(
    Path(snakemake.output.yaml),
    cfg,
    header=f"YOLOv8 variant {snakemake.wildcards.variant}: width {p.width}, depth {p.depth}, heads {p.heads}",
)
summary = summarize(Path(snakemake.output.yaml), p.imgsz)
print(summary)
atomic_write_json(Path(snakemake.output.summary), summary)
