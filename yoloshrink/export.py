"""Export a trained model to one deployment format with ultralytics' own exporter.

One call, one format, one folder: ``<out_dir>/`` holds the exported artefact (a file or a
folder, as ultralytics names it) and ``export.json`` (status, artefact name, size, seconds,
input size, ``end2end``: whether the graph ends in an end-to-end head's own post-processing,
from the exporter's metadata (NCNN, for one, cannot) and, for a failure, the error). A format
that fails to export does not raise: it records ``status: failed`` so that the benchmark table
still gets its row.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from yoloshrink import layout
from yoloshrink.fsutil import fresh_tmp_dir, path_size, publish_dir
from yoloshrink.targets import EXPORTS


def export_model(
    weights: Path,
    fmt: str,
    out_dir: Path,
    imgsz: int,
    extra: dict[str, Any] | None = None,
    variant: str = "",
) -> dict[str, Any]:
    """Export ``weights`` (a ``.pt``) to ``fmt`` (a float format of
    :data:`yoloshrink.targets.EXPORTS`) into ``out_dir``; return the ``export.json`` record
    (``variant`` is its identity). The INT8 formats are :func:`yoloshrink.quantize.quantize_job`'s.

    Work happens in a sibling temporary folder renamed to ``out_dir`` at the end, so the folder
    is either complete or absent.
    """
    if fmt not in EXPORTS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {list(EXPORTS)}")
    spec = EXPORTS[fmt]
    if spec.calibrated:
        raise ValueError(f"{fmt} is an INT8 format: yoloshrink.quantize.quantize_job makes it")
    out_dir = Path(out_dir)
    tmp = fresh_tmp_dir(out_dir)
    local = tmp / "best.pt"
    shutil.copyfile(weights, local)
    args = {**spec.args, **(extra or {})}
    record: dict[str, Any] = {"variant": variant, "format": fmt, "imgsz": int(imgsz), "args": args}
    t0 = time.perf_counter()
    try:
        from ultralytics import YOLO

        from yoloshrink.model import checkpoint_end2end, head_args

        yolo = YOLO(str(local), task="detect")
        # an end-to-end head is exported as it runs (one-to-one branch, no NMS) where the format
        # can; what the exporter made of it is its own metadata's "end2end", kept in the record
        args = {**head_args(checkpoint_end2end(yolo.model)), **args}
        record["args"] = args
        metadata: dict[str, Any] = {}
        yolo.add_callback("on_export_end", lambda exporter: metadata.update(exporter.metadata or {}))
        produced = Path(yolo.export(format=spec.ultralytics_format, imgsz=imgsz, device="cpu", **args))
        if not produced.exists():
            raise FileNotFoundError(f"ultralytics reported {produced} but it does not exist")
        record.update(
            status="ok",
            artefact=produced.name,
            size_bytes=path_size(produced),
            end2end=bool(metadata.get("end2end", False)),
        )
    except Exception as exc:
        record = layout.failure(exc, **record)
    record["seconds"] = round(time.perf_counter() - t0, 2)
    return publish_export(tmp, out_dir, record)


def publish_export(tmp: Path, out_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Publish the export folder ``out_dir`` from its temporary sibling ``tmp``: only the
    record's artefact is kept (ultralytics and the quantizers leave intermediate files beside
    it), ``export.json`` is written, then the folder is renamed into place. Returns ``record``."""
    for entry in tmp.iterdir():
        if entry.name != record.get("artefact"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    layout.write_record("export", tmp / layout.EXPORT_RECORD, record)
    publish_dir(tmp, out_dir)
    return record


def export_job(
    variant: str,
    train_info: Path,
    fmt: str,
    out_dir: Path,
    imgsz: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The export rule (the float formats): export the training's best.pt, or record why there
    is nothing to export (the quantize rule makes the INT8 formats from these)."""
    try:
        weights = layout.weights_of(train_info)
    except RuntimeError as exc:
        tmp = fresh_tmp_dir(Path(out_dir))
        record = {"variant": variant, "format": fmt, "imgsz": int(imgsz), "status": "failed", "error": str(exc)}
        layout.write_record("export", tmp / layout.EXPORT_RECORD, record)
        publish_dir(tmp, Path(out_dir))
        return record
    return export_model(weights, fmt, out_dir, imgsz, extra, variant=variant)
