"""yoloshrink: make a YOLO detector smaller and faster, and measure what it costs.

The package holds the logic of the Snakemake workflow (``Snakefile``): each stage is a
module with small typed functions, and ``workflow/scripts/`` only unpacks Snakemake's
objects and calls them. Import :mod:`yoloshrink.offline` first wherever ultralytics,
OpenVINO or ONNX Runtime may be imported: it makes every one of them stay offline.
"""

__version__ = "0.1.0"
