"""Accuracy of one exported model: ultralytics' validator on the val split, batch 1.

Every format is scored by the same code: ultralytics' ``AutoBackend`` loads each of them. A
target that asks OpenVINO for a precision is scored at that precision (:func:`openvino_precision`).
"""

from __future__ import annotations

import contextlib
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yoloshrink import layout
from yoloshrink.bench.runners import resolve_model
from yoloshrink.targets import TARGETS


@contextlib.contextmanager
def openvino_precision(precision: str) -> Iterator[None]:
    """Make every ``openvino.Core.compile_model`` in the block ask for ``precision``.

    ultralytics' OpenVINO backend compiles with the CPU's default precision (bf16 where the CPU
    has it); this is how the f32 target's accuracy is measured by the same validator.
    """
    if not precision:
        yield
        return
    import openvino as ov

    original = ov.Core.compile_model

    def compile_model(self: Any, model: Any, device_name: Any = None, config: Any = None, **kw: Any) -> Any:
        config = {**(config or {}), "INFERENCE_PRECISION_HINT": precision}
        return original(self, model, device_name, config, **kw)

    ov.Core.compile_model = compile_model
    try:
        yield
    finally:
        ov.Core.compile_model = original


def measure_accuracy(model_path: Path, data_yaml: Path, imgsz: int, work_dir: Path) -> dict[str, Any]:
    """mAP50-95, mAP50, precision and recall of ``model_path`` on the val split (batch 1)."""
    from ultralytics import YOLO

    from yoloshrink.model import checkpoint_end2end, head_args

    yolo = YOLO(str(model_path), task="detect")
    # a checkpoint's end-to-end head is scored as deployed (no NMS); an exported model's
    # metadata tells the validator itself whether its graph is end to end
    metrics = yolo.val(
        **head_args(checkpoint_end2end(yolo.model)),
        data=str(data_yaml),
        imgsz=imgsz,
        batch=1,
        device="cpu",
        workers=0,
        plots=False,
        verbose=False,
        project=str(Path(work_dir).resolve()),
        name="val",
        exist_ok=True,
    )
    box = metrics.box
    return {
        "status": "ok",
        "map50_95": float(box.map),
        "map50": float(box.map50),
        "precision": float(box.mp),
        "recall": float(box.mr),
        "val_ms_per_image": float(metrics.speed.get("inference", math.nan)),
    }


def accuracy_job(variant: str, target: str, model: Path, data_yaml: Path, imgsz: int, out: Path) -> dict[str, Any]:
    """Score ``target`` of ``variant`` and write its record to ``out``; failures become records.

    ``model`` is what :func:`yoloshrink.bench.runners.resolve_model` reads (the training's
    train_info.json for the checkpoint, else the export folder).
    """
    spec = TARGETS[target]
    fields = {"variant": variant, "target": target, "format": spec.format, "imgsz": int(imgsz)}
    work = Path(out).parent / ".val"
    try:
        path = resolve_model(target, model)
        with openvino_precision(spec.precision):
            record = {**fields, **measure_accuracy(path, data_yaml, imgsz, work)}
    except Exception as exc:
        record = layout.failure(exc, **fields)
    shutil.rmtree(work, ignore_errors=True)
    return layout.write_record("accuracy", out, record)
