"""Export a trained model to one deployment format with ultralytics' own exporter.

One call, one format, one folder: ``<out_dir>/`` holds the exported artefact (a file or a
folder, as ultralytics names it) and ``export.json`` (status, artefact name, size, seconds,
input size and, for a failure, the error). A format that fails to export does not raise: it
records ``status: failed`` so that the benchmark table still gets its row.
"""

from __future__ import annotations

import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from yoloshrink.fsutil import atomic_write_json, fresh_tmp_dir, publish_dir

#: Formats this workflow exports (the benchmark also times the trained checkpoint, "pytorch"):
#: name -> (ultralytics format, export arguments it implies). The INT8 formats are ultralytics'
#: post-training static quantizations, calibrated on the images of a calibration data.yaml:
#: ONNX Runtime ``quantize_static`` (QDQ; weighted ops only, the head's decode stays float) and
#: OpenVINO through NNCF (the Detect head's decode ignored). NCNN's INT8 path needs its C++
#: ``ncnn2table``/``ncnn2int8`` tools, which no PyPI package ships, so it is not offered.
EXPORT_FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    "torchscript": ("torchscript", {}),
    "onnx": ("onnx", {}),
    "openvino": ("openvino", {}),
    "ncnn": ("ncnn", {}),
    "onnx-int8": ("onnx", {"quantize": 8}),
    "openvino-int8": ("openvino", {"quantize": 8}),
}


def needs_calibration(fmt: str) -> bool:
    """Whether exporting ``fmt`` reads calibration images (the INT8 formats)."""
    return EXPORT_FORMATS[fmt][1].get("quantize") == 8


def runtime_format(fmt: str) -> str:
    """The runtime family of a format: "onnx-int8" -> "onnx"; "pytorch" stays "pytorch"."""
    return EXPORT_FORMATS[fmt][0] if fmt in EXPORT_FORMATS else fmt


def path_size(path: Path) -> int:
    """Size in bytes of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_model(
    weights: Path,
    fmt: str,
    out_dir: Path,
    imgsz: int,
    extra: dict[str, Any] | None = None,
    calibration: Path | None = None,
) -> dict[str, Any]:
    """Export ``weights`` (a ``.pt``) to ``fmt`` into ``out_dir``; return the ``export.json`` record.

    ``calibration`` is the data.yaml whose ``val`` images calibrate an INT8 format. Work
    happens in a sibling temporary folder renamed to ``out_dir`` at the end, so the folder is
    either complete or absent.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {list(EXPORT_FORMATS)}")
    out_dir = Path(out_dir)
    tmp = fresh_tmp_dir(out_dir)
    local = tmp / "best.pt"
    shutil.copyfile(weights, local)
    ul_format, implied = EXPORT_FORMATS[fmt]
    args = {**implied, **(extra or {})}
    if needs_calibration(fmt) and calibration is not None:
        # the workflow's calibration set, one image per batch (the exported model's batch)
        args.update(data=str(calibration), split="val", batch=1)
    record: dict[str, Any] = {"format": fmt, "imgsz": int(imgsz), "args": args}
    t0 = time.perf_counter()
    try:
        if needs_calibration(fmt) and calibration is None:
            raise ValueError(f"{fmt}: an INT8 export needs a calibration data.yaml")
        from ultralytics import YOLO

        produced = YOLO(str(local), task="detect").export(format=ul_format, imgsz=imgsz, device="cpu", **args)
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
    publish_dir(tmp, out_dir)
    return record


def export_job(
    train_info: Path,
    fmt: str,
    out_dir: Path,
    imgsz: int,
    extra: dict[str, Any] | None = None,
    calibration: Path | None = None,
) -> dict[str, Any]:
    """The export rule: export the training's best.pt, or record why there is nothing to export."""
    from yoloshrink.train import weights_of

    try:
        weights = weights_of(train_info)
    except RuntimeError as exc:
        tmp = fresh_tmp_dir(Path(out_dir))
        record = {"format": fmt, "imgsz": int(imgsz), "status": "failed", "error": str(exc)}
        atomic_write_json(tmp / "export.json", record)
        publish_dir(tmp, Path(out_dir))
        return record
    return export_model(weights, fmt, out_dir, imgsz, extra, calibration)
