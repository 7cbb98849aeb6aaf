"""Export a trained model to one deployment format with ultralytics' own exporter.

One call, one format, one folder: ``<out_dir>/`` holds the exported artefact (a file or a
folder, as ultralytics names it) and ``export.json`` (status, artefact name, size, seconds,
input size and, for a failure, the error). A format that fails to export does not raise: it
records ``status: failed`` so that the benchmark table still gets its row.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from yoloshrink.fsutil import atomic_write_json

#: Formats this workflow exports (the benchmark also times the trained checkpoint, "pytorch").
EXPORT_FORMATS = ("torchscript", "onnx", "openvino", "ncnn")


def path_size(path: Path) -> int:
    """Size in bytes of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_model(
    weights: Path, fmt: str, out_dir: Path, imgsz: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Export ``weights`` (a ``.pt``) to ``fmt`` into ``out_dir``; return the ``export.json`` record.

    Work happens in a sibling temporary folder renamed to ``out_dir`` at the end, so the folder
    is either complete or absent.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")
    out_dir = Path(out_dir)
    tmp = _fresh_tmp(out_dir)
    local = tmp / "best.pt"
    shutil.copyfile(weights, local)
    record: dict[str, Any] = {"format": fmt, "imgsz": int(imgsz), "args": dict(extra or {})}
    t0 = time.perf_counter()
    try:
        from ultralytics import YOLO

        produced = YOLO(str(local), task="detect").export(format=fmt, imgsz=imgsz, device="cpu", **(extra or {}))
        produced = Path(produced)
        if not produced.exists():
            raise FileNotFoundError(f"ultralytics reported {produced} but it does not exist")
        record.update(
            status="ok",
            artefact=produced.name,
            size_bytes=path_size(produced),
        )
    except Exception as exc:
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}".strip())
        record["traceback"] = traceback.format_exc(limit=5)
    record["seconds"] = round(time.perf_counter() - t0, 2)
    # keep only the artefact: ultralytics may leave intermediate files beside it
    for entry in tmp.iterdir():
        if entry.name != record.get("artefact"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    atomic_write_json(tmp / "export.json", record)
    _publish(tmp, out_dir)
    return record


def _fresh_tmp(out_dir: Path) -> Path:
    """An empty sibling temporary folder of ``out_dir``."""
    tmp = Path(out_dir).with_name(f".{Path(out_dir).name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def _publish(tmp: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` with the finished ``tmp`` folder by rename."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


def export_job(
    train_info: Path, fmt: str, out_dir: Path, imgsz: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The export rule: export the training's best.pt, or record why there is nothing to export."""
    from yoloshrink.train import weights_of

    try:
        weights = weights_of(train_info)
    except RuntimeError as exc:
        tmp = _fresh_tmp(Path(out_dir))
        record = {"format": fmt, "imgsz": int(imgsz), "status": "failed", "error": str(exc)}
        atomic_write_json(tmp / "export.json", record)
        _publish(tmp, Path(out_dir))
        return record
    return export_model(weights, fmt, out_dir, imgsz, extra)
