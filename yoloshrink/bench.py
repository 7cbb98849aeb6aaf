"""Benchmark one exported model: latency through its runtime's own API, accuracy through ultralytics.

Latency is measured in-process with each runtime's native API on one preprocessed input
(batch 1, fixed square size, float32 NCHW in [0, 1], letterboxed from a real validation image):
warm-up runs, then timed runs until both ``min_runs`` and ``min_seconds`` are reached (and at
most ``max_runs``). Thread counts are set through each runtime's own knob; the rule's
``OMP_NUM_THREADS`` is set by Snakemake as well.

Accuracy is ultralytics' validator run on the exported model (its AutoBackend loads every
format), batch 1, on the val split, so every format is scored by the same code.
"""

from __future__ import annotations

import math
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from yoloshrink.export import EXPORT_FORMATS
from yoloshrink.fsutil import atomic_write_json, read_json


@dataclass
class Runner:
    """A ready-to-time inference call and what actually ran."""

    run: Callable[[], Any]
    runtime: str
    runtime_version: str
    precision: str


def timing_stats(samples_ms: list[float] | np.ndarray) -> dict[str, float]:
    """n, mean, sd (sample), min, max, p50, p90, p99 of latency samples in milliseconds.

    Percentiles use linear interpolation (numpy's default). Raises ValueError on no samples.
    """
    a = np.asarray(samples_ms, dtype=float)
    if a.size == 0:
        raise ValueError("no timing samples")
    return {
        "n": int(a.size),
        "mean_ms": float(a.mean()),
        "sd_ms": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
        "p50_ms": float(np.percentile(a, 50)),
        "p90_ms": float(np.percentile(a, 90)),
        "p99_ms": float(np.percentile(a, 99)),
    }


def time_calls(
    fn: Callable[[], Any],
    warmup: int,
    min_runs: int,
    min_seconds: float,
    max_runs: int | None = None,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> list[float]:
    """Call ``fn`` ``warmup`` times, then time calls until ``min_runs`` and ``min_seconds``.

    Stops early at ``max_runs`` if given. Returns the per-call times in milliseconds.
    """
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    start = clock()
    while True:
        t0 = clock()
        fn()
        t1 = clock()
        samples.append((t1 - t0) / 1e6)
        elapsed = (t1 - start) / 1e9
        if max_runs is not None and len(samples) >= max_runs:
            break
        if len(samples) >= min_runs and elapsed >= min_seconds:
            break
    return samples


def letterbox(image: np.ndarray, size: int, fill: int = 114) -> np.ndarray:
    """Resize a BGR image to fit ``size`` x ``size`` keeping its aspect ratio, padded centrally."""
    import cv2

    h, w = image.shape[:2]
    r = min(size / h, size / w)
    nh, nw = round(h * r), round(w * r)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    out = np.full((size, size, 3), fill, dtype=np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top : top + nh, left : left + nw] = resized
    return out


def preprocess(image: np.ndarray, size: int) -> np.ndarray:
    """BGR uint8 image -> letterboxed RGB float32 NCHW tensor in [0, 1], batch 1."""
    lb = letterbox(image, size)
    x = lb[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(x)


def sample_input(images_dir: Path, size: int) -> np.ndarray:
    """The first validation image (sorted by name), preprocessed to ``size``."""
    import cv2

    files = sorted(
        p for p in Path(images_dir).iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp"}
    )
    if not files:
        raise FileNotFoundError(f"no images in {images_dir}")
    image = cv2.imread(str(files[0]))
    if image is None:
        raise ValueError(f"cannot read image {files[0]}")
    return preprocess(image, size)


def artefact_path(export_dir: Path, record: dict[str, Any]) -> Path:
    """Path of the exported artefact named in an ``export.json`` record."""
    return Path(export_dir) / record["artefact"]


def make_runner(fmt: str, model_path: Path, threads: int, x: np.ndarray, precision: str = "") -> Runner:
    """Load ``model_path`` (format ``fmt``) with its own runtime on ``threads`` threads.

    ``precision`` asks OpenVINO for an inference precision ("f32", "bf16"); empty means the
    runtime's default, and the returned Runner says what actually ran.
    """
    model_path = Path(model_path)
    if fmt in ("pytorch", "torchscript"):
        import torch

        torch.set_num_threads(threads)
        if fmt == "pytorch":
            from ultralytics import YOLO

            net = YOLO(str(model_path), task="detect").model.float().fuse().eval()
        else:
            net = torch.jit.load(str(model_path), map_location="cpu").eval()
        xt = torch.from_numpy(x)

        def run() -> Any:
            with torch.inference_mode():
                return net(xt)

        return Runner(run, "torch", torch.__version__, "f32")
    if fmt == "onnx":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        return Runner(lambda: sess.run(None, {name: x}), "onnxruntime", ort.__version__, "f32")
    if fmt == "openvino":
        import openvino as ov

        core = ov.Core()
        xml = model_path if model_path.is_file() else next(model_path.glob("*.xml"))
        config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        if precision:
            config["INFERENCE_PRECISION_HINT"] = precision
        compiled = core.compile_model(core.read_model(str(xml)), "CPU", config)
        request = compiled.create_infer_request()
        ran = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
        return Runner(lambda: request.infer({0: x}), "openvino", ov.get_version(), ran)
    if fmt == "ncnn":
        import ncnn

        net = ncnn.Net()
        net.opt.use_vulkan_compute = False
        net.opt.num_threads = threads
        param = next(model_path.glob("*.param"))
        net.load_param(str(param))
        net.load_model(str(param.with_suffix(".bin")))
        mat = ncnn.Mat(x[0])

        def run_ncnn() -> Any:
            with net.create_extractor() as ex:
                ex.input("in0", mat)
                return ex.extract("out0")

        return Runner(run_ncnn, "ncnn", ncnn.__version__, "f32")
    raise ValueError(f"no runner for format {fmt!r}; expected one of {('pytorch', *EXPORT_FORMATS)}")


def measure_latency(
    fmt: str,
    model_path: Path,
    images_dir: Path,
    imgsz: int,
    threads: int,
    warmup: int,
    min_runs: int,
    min_seconds: float,
    max_runs: int | None = None,
    precision: str = "",
) -> dict[str, Any]:
    """Latency record for one (format, threads): runtime, precision and timing statistics."""
    x = sample_input(images_dir, imgsz)
    runner = make_runner(fmt, model_path, threads, x, precision)
    samples = time_calls(runner.run, warmup, min_runs, min_seconds, max_runs)
    return {
        "status": "ok",
        "format": fmt,
        "threads": int(threads),
        "imgsz": int(imgsz),
        "runtime": runner.runtime,
        "runtime_version": runner.runtime_version,
        "precision": runner.precision,
        "warmup": int(warmup),
        **timing_stats(samples),
    }


def measure_accuracy(model_path: Path, data_yaml: Path, imgsz: int, work_dir: Path) -> dict[str, Any]:
    """mAP50-95, mAP50, precision and recall of ``model_path`` on the val split (batch 1)."""
    from ultralytics import YOLO

    metrics = YOLO(str(model_path), task="detect").val(
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


def failure(exc: BaseException, **fields: Any) -> dict[str, Any]:
    """A ``failed`` record carrying the error message (and a short traceback)."""
    return {
        **fields,
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}".strip(),
        "traceback": traceback.format_exc(limit=5),
    }


def resolve_model(fmt: str, model: Path) -> Path:
    """The file or folder a runtime loads: ``best.pt`` itself, or the export's artefact.

    Raises RuntimeError carrying the export's own error when the export failed.
    """
    if fmt == "pytorch":
        return Path(model)
    record = read_json(Path(model) / "export.json")
    if record.get("status") != "ok":
        raise RuntimeError(f"export failed: {record.get('error', 'unknown error')}")
    return artefact_path(Path(model), record)


def val_images_dir(data_yaml: Path) -> Path:
    """The (first) validation image folder of a canonical data.yaml."""
    data = yaml.safe_load(Path(data_yaml).read_text())
    val = data["val"][0] if isinstance(data["val"], list) else data["val"]
    path = Path(val)
    return path if path.is_absolute() else Path(data["path"]) / path


def accuracy_job(fmt: str, model: Path, data_yaml: Path, imgsz: int, out: Path) -> dict[str, Any]:
    """Score one (variant, format) and write its record to ``out``; failures become records."""
    fields = {"format": fmt, "imgsz": int(imgsz)}
    try:
        path = resolve_model(fmt, model)
        record = {**fields, **measure_accuracy(path, data_yaml, imgsz, out.parent / ".val")}
    except Exception as exc:
        record = failure(exc, **fields)
    shutil.rmtree(out.parent / ".val", ignore_errors=True)
    atomic_write_json(out, record)
    return record


def latency_job(
    fmt: str,
    model: Path,
    data_yaml: Path,
    imgsz: int,
    threads: int,
    timing: dict[str, Any],
    out: Path,
) -> dict[str, Any]:
    """Time one (variant, format, threads) and write its record to ``out``."""
    fields = {"format": fmt, "imgsz": int(imgsz), "threads": int(threads)}
    try:
        record = measure_latency(
            fmt,
            resolve_model(fmt, model),
            val_images_dir(data_yaml),
            imgsz,
            threads,
            warmup=int(timing.get("warmup", 10)),
            min_runs=int(timing.get("min_runs", 100)),
            min_seconds=float(timing.get("min_seconds", 10.0)),
            max_runs=timing.get("max_runs"),
            precision=str(timing.get("precision", "")),
        )
    except Exception as exc:
        record = failure(exc, **fields)
    atomic_write_json(out, record)
    return record
