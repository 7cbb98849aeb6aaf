"""Runtimes: load a model with its own runtime on a thread count, and the input it is timed on.

A :class:`Runner` wraps one loaded model: ``run(x)`` infers one batch-1 NCHW float32 tensor
through the runtime's native API, and says which runtime, version and precision actually ran
and whether its output is an end-to-end head's detections (no NMS left to do).
:data:`LOADERS` has one loader per runtime named in :mod:`yoloshrink.targets`; adding a runtime
is a registry entry and a loader here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink import layout
from yoloshrink.targets import TARGETS, Target


@dataclass
class Runner:
    """A loaded model, ready to time: ``run(x)`` infers one NCHW float32 batch."""

    run: Callable[[np.ndarray], Any]
    runtime: str
    runtime_version: str
    precision: str
    to_numpy: Callable[[Any], np.ndarray]
    end2end: bool = False  # the output is an end-to-end head's detections: no NMS to run


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


def _torch(target: Target, model_path: Path, threads: int) -> Runner:
    import torch

    torch.set_num_threads(threads)
    if target.export is None:  # the trained checkpoint
        from ultralytics import YOLO

        from yoloshrink.model import checkpoint_end2end

        net = YOLO(str(model_path), task="detect").model.float()
        end2end = checkpoint_end2end(net)
        if end2end:
            net.end2end = True  # run the one-to-one branch, as deployed (fusing drops the other)
        net = net.fuse().eval()
    else:
        net = torch.jit.load(str(model_path), map_location="cpu").eval()
        end2end = False  # make_runner reads it from the export's record

    def run_torch(x: np.ndarray) -> Any:
        with torch.inference_mode():
            return net(torch.from_numpy(x))

    def torch_out(y: Any) -> np.ndarray:
        return (y[0] if isinstance(y, (list, tuple)) else y).numpy()

    return Runner(run_torch, "torch", torch.__version__, "f32", torch_out, end2end)


def _onnxruntime(target: Target, model_path: Path, threads: int) -> Runner:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return Runner(lambda x: sess.run(None, {name: x}), "onnxruntime", ort.__version__, "f32", lambda y: y[0])


def _openvino(target: Target, model_path: Path, threads: int) -> Runner:
    import openvino as ov

    core = ov.Core()
    xml = model_path if model_path.is_file() else next(model_path.glob("*.xml"))
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if target.precision:
        config["INFERENCE_PRECISION_HINT"] = target.precision
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", config)
    request = compiled.create_infer_request()
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")  # an ov.Type: f32, bf16, f16
    ran = hint.to_string() if hasattr(hint, "to_string") else str(hint)
    return Runner(lambda x: request.infer({0: x}), "openvino", ov.get_version(), ran, lambda y: y[0])


def _ncnn(target: Target, model_path: Path, threads: int) -> Runner:
    import ncnn

    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    param = next(model_path.glob("*.param"))
    net.load_param(str(param))
    net.load_model(str(param.with_suffix(".bin")))

    def run_ncnn(x: np.ndarray) -> Any:
        with net.create_extractor() as ex:
            ex.input("in0", ncnn.Mat(x[0]))
            return ex.extract("out0")[1]

    return Runner(run_ncnn, "ncnn", ncnn.__version__, "f32", lambda y: np.array(y)[None])


#: Runtime name (a :class:`yoloshrink.targets.Target`'s ``runtime``) -> its loader.
LOADERS: dict[str, Callable[[Target, Path, int], Runner]] = {
    "torch": _torch,
    "onnxruntime": _onnxruntime,
    "openvino": _openvino,
    "ncnn": _ncnn,
}


def make_runner(target: str, model_path: Path, threads: int) -> Runner:
    """Load ``model_path`` for ``target`` (a name in :data:`yoloshrink.targets.TARGETS`) with its
    runtime on ``threads`` threads, at the precision the target asks for; the returned Runner
    says what actually ran (an INT8 export's precision is int8: quantized weights and
    activations, the head's decode in float)."""
    if target not in TARGETS:
        raise ValueError(f"no runner for target {target!r}; expected one of {list(TARGETS)}")
    spec = TARGETS[target]
    runner = LOADERS[spec.runtime](spec, Path(model_path), threads)
    if spec.calibrated:
        runner.precision = "int8"
    if spec.export is not None:  # whether the exporter kept an end-to-end head end to end
        record = layout.read_record("export", Path(model_path).parent / layout.EXPORT_RECORD)
        runner.end2end = bool(record.get("end2end", False))
    return runner


def load_images(images_dir: Path, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` validation images (sorted by name) as BGR arrays."""
    import cv2

    from yoloshrink.datasets.files import list_images

    images = [cv2.imread(f) for f in list_images(images_dir)[:limit]]
    if not images or any(im is None for im in images):
        raise FileNotFoundError(f"no readable images in {images_dir}")
    return images


def resolve_model(target: str, model: Path) -> Path:
    """The file or folder ``target``'s runtime loads: the training's ``best.pt``, or the export's
    artefact. ``model`` is a training's ``train_info.json`` (the checkpoint's target) or an
    export folder. Raises RuntimeError carrying the training's or the export's own error when
    that step failed."""
    if TARGETS[target].export is None:
        return layout.weights_of(Path(model))
    return layout.export_artefact(Path(model))
