"""Runtimes: load a model with its own runtime on a thread count, and the frames it is timed on.

A :class:`Runner` wraps one loaded model: ``prepare(lb)`` turns a letterboxed BGR uint8 image
into the runtime's input and ``run(x)`` infers it (batch 1) through the runtime's native API;
it says which runtime, version and precision actually ran, how its input is made
(``input_path``) and whether its output is an end-to-end head's detections (no NMS to do).

A frame is the runner's ``letterbox``, ``prepare``, ``run`` and :func:`postprocess` (NMS at
ultralytics' predict thresholds, boxes scaled back to the image). With ``fast=True`` (the
default) each step takes the cheapest correct path: a letterbox into a kept buffer
(:class:`Letterbox`); as ``prepare``, OpenCV's ``blobFromImage`` (one pass to float NCHW RGB /
255) for torch and ONNX Runtime, a uint8 NHWC BGR input converted inside the compiled graph by
OpenVINO's ``PrePostProcessor``, NCNN's own ``Mat.from_pixels`` with its normalisation; OpenCV's
batched NMS. ``fast=False`` is the reference every runtime shares (:func:`letterbox`,
:func:`to_tensor` in numpy, ultralytics' ``non_max_suppression``); the tests check that both
give the same detections.

:data:`LOADERS` has one loader per runtime named in :mod:`yoloshrink.targets`; adding a runtime
is a registry entry and a loader here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink import layout
from yoloshrink.targets import TARGETS, Target

#: ultralytics' predict defaults (``yolo predict``): the thresholds a deployed detector runs at.
PREDICT_CONF, PREDICT_IOU, PREDICT_MAX_DET = 0.25, 0.7, 300


@dataclass
class Runner:
    """A loaded model, ready to time: ``run(prepare(letterbox(image)))`` infers one frame."""

    run: Callable[[Any], Any]
    runtime: str
    runtime_version: str
    precision: str
    to_numpy: Callable[[Any], np.ndarray]
    end2end: bool = False  # the output is an end-to-end head's detections: no NMS to run
    prepare: Callable[[np.ndarray], Any] = field(default=lambda lb: to_tensor(lb))
    input_path: str = "numpy"  # how prepare makes the input (see the module docstring)
    fast: bool = False  # the fast frame path: buffered letterbox, OpenCV's NMS (see postprocess)
    letterbox: Callable[[np.ndarray, int], np.ndarray] = field(default=lambda image, size: letterbox(image, size))

    @property
    def post_path(self) -> str:
        """How :func:`postprocess` turns this runner's output into detections."""
        if self.end2end:
            return "confidence filter (end-to-end head)"
        return "cv2.dnn.NMSBoxesBatched" if self.fast else "ultralytics non_max_suppression"


def letterbox(image: np.ndarray, size: int, fill: int = 114) -> np.ndarray:
    """Resize a BGR image to fit ``size`` x ``size`` keeping its aspect ratio, padded centrally."""
    import cv2

    h, w = image.shape[:2]
    r = min(size / h, size / w)
    nh, nw = round(h * r), round(w * r)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nh, nw) != (h, w) else image
    top, left = (size - nh) // 2, (size - nw) // 2
    border = (top, size - nh - top, left, size - nw - left)
    return cv2.copyMakeBorder(resized, *border, cv2.BORDER_CONSTANT, value=(fill, fill, fill))


class Letterbox:
    """:func:`letterbox` into a buffer kept between calls, one per size: each call writes the
    padding and the image only, and allocates nothing (the fast frame path). The returned array
    is overwritten by the next call."""

    def __init__(self, fill: int = 114) -> None:
        self.fill = fill
        self.buffers: dict[int, np.ndarray] = {}

    def __call__(self, image: np.ndarray, size: int) -> np.ndarray:
        import cv2

        h, w = image.shape[:2]
        r = min(size / h, size / w)
        nh, nw = round(h * r), round(w * r)
        top, left = (size - nh) // 2, (size - nw) // 2
        out = self.buffers.get(size)
        if out is None:
            out = self.buffers[size] = np.empty((size, size, 3), dtype=np.uint8)
        out[:top] = self.fill
        out[top + nh :] = self.fill
        out[top : top + nh, :left] = self.fill
        out[top : top + nh, left + nw :] = self.fill
        same = (nh, nw) == (h, w)
        out[top : top + nh, left : left + nw] = (
            image if same else cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        )
        return out


def to_tensor(lb: np.ndarray) -> np.ndarray:
    """The reference input: a letterboxed BGR uint8 image -> RGB float32 NCHW in [0, 1], batch 1
    (numpy, as ultralytics' own predictor makes it)."""
    return np.ascontiguousarray(lb[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0)


def blob(lb: np.ndarray) -> np.ndarray:
    """The fast float input: :func:`to_tensor`'s result in one pass of OpenCV's ``blobFromImage``
    (:func:`to_tensor` itself on a host without OpenCV, :mod:`yoloshrink.hostbench`)."""
    try:
        import cv2
    except ImportError:
        return to_tensor(lb)
    return cv2.dnn.blobFromImage(lb, scalefactor=1 / 255.0, swapRB=True)


def preprocess(image: np.ndarray, size: int) -> np.ndarray:
    """BGR uint8 image -> letterboxed RGB float32 NCHW tensor in [0, 1], batch 1 (the reference)."""
    return to_tensor(letterbox(image, size))


def postprocess(runner: Runner, y: Any, imgsz: int, shape: tuple[int, ...]) -> np.ndarray:
    """A frame's detections from the runner's output ``y`` at ultralytics' predict thresholds,
    boxes scaled from the ``imgsz`` letterbox back to the image of ``shape``: an (n, 6) array of
    x1, y1, x2, y2, confidence, class, most confident first. An end-to-end head's output needs
    only the confidence filter. Otherwise NMS per class: ultralytics' ``non_max_suppression``
    and ``scale_boxes`` (the reference), or for a ``fast`` runner the confidence filter in numpy
    and OpenCV's ``NMSBoxesBatched`` on the survivors, as ultralytics' own ONNX Runtime and
    OpenCV examples do (the tests check both give the same detections)."""
    out = np.ascontiguousarray(runner.to_numpy(y))
    if runner.fast or runner.end2end:
        return _scaled(_nms_fast(out[0], runner.end2end), imgsz, shape)
    import torch
    from ultralytics.utils.nms import non_max_suppression
    from ultralytics.utils.ops import scale_boxes

    (det,) = non_max_suppression(
        torch.from_numpy(out), conf_thres=PREDICT_CONF, iou_thres=PREDICT_IOU, max_det=PREDICT_MAX_DET
    )
    det[:, :4] = scale_boxes((imgsz, imgsz), det[:, :4], shape[:2])
    return det.numpy()


def _nms_fast(p: np.ndarray, end2end: bool) -> np.ndarray:
    """Detections (xyxy, confidence, class; letterbox pixels) of one image's output: an
    end-to-end head's (max_det, 6) rows above the threshold, or NMS per class of a (4 + nc, n)
    output with OpenCV, at ultralytics' predict thresholds."""
    import cv2

    if end2end:  # already xyxy, confidence, class, best first
        return p[p[:, 4] > PREDICT_CONF][:PREDICT_MAX_DET]
    scores = p[4:]
    cls = scores.argmax(0)
    conf = scores[cls, np.arange(scores.shape[1])]
    keep = conf > PREDICT_CONF
    xywh, conf, cls = p[:4, keep].T, conf[keep], cls[keep]
    if not len(conf):
        return np.zeros((0, 6), dtype=np.float32)
    xyxy = np.concatenate((xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2), axis=1)
    boxes = np.concatenate((xyxy[:, :2], xywh[:, 2:]), axis=1)  # OpenCV's (x, y, w, h)
    i = cv2.dnn.NMSBoxesBatched(boxes.tolist(), conf.tolist(), cls.tolist(), PREDICT_CONF, PREDICT_IOU)
    i = np.asarray(i, dtype=int).reshape(-1)[:PREDICT_MAX_DET]
    return np.concatenate((xyxy[i], conf[i, None], cls[i, None].astype(np.float32)), axis=1)


def _scaled(det: np.ndarray, imgsz: int, shape: tuple[int, ...]) -> np.ndarray:
    """``det``'s boxes from the ``imgsz`` letterbox back to the image of ``shape``, clipped to it
    (ultralytics' ``scale_boxes``: the gain, then the centred padding)."""
    h, w = shape[:2]
    gain = min(imgsz / h, imgsz / w)
    pad_x, pad_y = round((imgsz - w * gain) / 2 - 0.1), round((imgsz - h * gain) / 2 - 0.1)
    det = det.copy()
    det[:, [0, 2]] = ((det[:, [0, 2]] - pad_x) / gain).clip(0, w)
    det[:, [1, 3]] = ((det[:, [1, 3]] - pad_y) / gain).clip(0, h)
    return det


def detect(runner: Runner, image: np.ndarray, imgsz: int) -> np.ndarray:
    """One whole frame: the runner's letterbox and input path, inference, :func:`postprocess`."""
    return postprocess(runner, runner.run(runner.prepare(runner.letterbox(image, imgsz))), imgsz, image.shape)


def _torch(target: Target, model_path: Path, threads: int, fast: bool) -> Runner:
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

    runner = Runner(run_torch, "torch", torch.__version__, "f32", torch_out, end2end)
    if fast:
        runner.prepare, runner.input_path = blob, "cv2.dnn.blobFromImage"
    return runner


def _onnxruntime(target: Target, model_path: Path, threads: int, fast: bool) -> Runner:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    runner = Runner(lambda x: sess.run(None, {name: x}), "onnxruntime", ort.__version__, "f32", lambda y: y[0])
    if fast:
        runner.prepare, runner.input_path = blob, "cv2.dnn.blobFromImage"
    return runner


def uint8_input(model: Any) -> Any:
    """An OpenVINO model taking a letterboxed BGR uint8 NHWC image: the conversion to float RGB
    NCHW / 255 becomes part of the compiled graph (OpenVINO's ``PrePostProcessor``)."""
    import openvino as ov
    from openvino.preprocess import ColorFormat, PrePostProcessor

    ppp = PrePostProcessor(model)
    tensor = ppp.input().tensor()
    tensor.set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    ppp.input().preprocess().convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB).scale(255.0)
    return ppp.build()


def _openvino(target: Target, model_path: Path, threads: int, fast: bool) -> Runner:
    import openvino as ov

    core = ov.Core()
    xml = model_path if model_path.is_file() else next(model_path.glob("*.xml"))
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if target.precision:
        config["INFERENCE_PRECISION_HINT"] = target.precision
    model = core.read_model(str(xml))
    compiled = core.compile_model(uint8_input(model) if fast else model, "CPU", config)
    request = compiled.create_infer_request()
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")  # an ov.Type: f32, bf16, f16
    ran = hint.to_string() if hasattr(hint, "to_string") else str(hint)
    runner = Runner(lambda x: request.infer({0: x}), "openvino", ov.get_version(), ran, lambda y: y[0])
    if fast:
        runner.prepare, runner.input_path = (lambda lb: lb[None]), "uint8 NHWC, PrePostProcessor"
    return runner


def _ncnn(target: Target, model_path: Path, threads: int, fast: bool) -> Runner:
    import ncnn

    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    param = next(model_path.glob("*.param"))
    net.load_param(str(param))
    net.load_model(str(param.with_suffix(".bin")))

    def run_ncnn(x: Any) -> Any:
        with net.create_extractor() as ex:
            ex.input("in0", x)
            return ex.extract("out0")[1]

    def from_pixels(lb: np.ndarray) -> Any:
        """NCNN's own uint8 path: BGR pixels to an RGB float Mat, scaled by 1/255 in place."""
        mat = ncnn.Mat.from_pixels(lb, ncnn.Mat.PixelType.PIXEL_BGR2RGB, lb.shape[1], lb.shape[0])
        mat.substract_mean_normalize([], [1 / 255.0] * 3)
        return mat

    def from_tensor(lb: np.ndarray) -> Any:
        """The reference: :func:`to_tensor`'s array as a Mat. ``ncnn.Mat(array)`` wraps the
        array's memory without keeping the array alive, so the clone owns a copy."""
        x = to_tensor(lb)[0]  # alive until the clone is made
        return ncnn.Mat(x).clone()

    runner = Runner(run_ncnn, "ncnn", ncnn.__version__, "f32", lambda y: np.array(y)[None])
    runner.prepare, runner.input_path = (from_pixels, "ncnn.Mat.from_pixels") if fast else (from_tensor, "numpy")
    return runner


#: Runtime name (a :class:`yoloshrink.targets.Target`'s ``runtime``) -> its loader.
LOADERS: dict[str, Callable[[Target, Path, int, bool], Runner]] = {
    "torch": _torch,
    "onnxruntime": _onnxruntime,
    "openvino": _openvino,
    "ncnn": _ncnn,
}


def make_runner(target: str, model_path: Path, threads: int, fast: bool = True) -> Runner:
    """Load ``model_path`` for ``target`` (a name in :data:`yoloshrink.targets.TARGETS`) with its
    runtime on ``threads`` threads, at the precision the target asks for, its input made the
    runtime's fast way (``fast``) or the reference way; the returned Runner says what actually
    ran (an INT8 export's precision is int8: quantized weights and activations, the head's
    decode in float)."""
    if target not in TARGETS:
        raise ValueError(f"no runner for target {target!r}; expected one of {list(TARGETS)}")
    spec = TARGETS[target]
    runner = LOADERS[spec.runtime](spec, Path(model_path), threads, fast)
    if fast:
        runner.fast, runner.letterbox = True, Letterbox()
    if spec.calibrated:
        runner.precision = "int8"
    if spec.export is not None:  # whether the exporter kept an end-to-end head end to end
        record = layout.read_record("export", Path(model_path).parent / layout.EXPORT_RECORD)
        runner.end2end = bool(record.get("end2end", False))
    return runner


def precision_that_runs(target: str) -> str:
    """The precision ``target`` runs at on this machine, without loading a model: its INT8, or
    what its runtime does with the precision it asks for. OpenVINO's CPU plugin runs its default
    hint (bf16 where the CPU computes bf16 natively, f32 elsewhere) for no precision asked, and
    f32 for bf16 where the CPU lacks it; the other runtimes run f32."""
    spec = TARGETS[target]
    if spec.calibrated:
        return "int8"
    if spec.runtime != "openvino":
        return spec.precision or "f32"
    import openvino as ov

    core = ov.Core()
    if not spec.precision:
        hint = core.get_property("CPU", "INFERENCE_PRECISION_HINT")
        return hint.to_string() if hasattr(hint, "to_string") else str(hint)
    if spec.precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        return "f32"
    return spec.precision


def timed_as(target: str) -> str:
    """The target whose timing ``target``'s is on this machine: ``target`` itself, or the
    target of the same export and runtime that asks for the precision ``target`` runs at (e.g.
    ``openvino``, the default, is ``openvino-bf16`` where the default is bf16). The export's
    targets are always benchmarked together (:func:`yoloshrink.targets.targets_for`), so that
    one has its own row: one thing run is timed once."""
    spec = TARGETS[target]
    ran = precision_that_runs(target)
    for other in TARGETS.values():
        same = other.export == spec.export and other.runtime == spec.runtime and other.name != target
        if same and other.precision == ran and ran != spec.precision:
            return other.name
    return target


def load_images(images_dir: Path, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` validation images (sorted by name) as BGR arrays."""
    from yoloshrink.datasets.files import list_images

    return read_images(list_images(images_dir)[:limit], images_dir)


def read_images(paths: list[str], where: Path | str | None = None) -> list[np.ndarray]:
    """The image files ``paths`` as BGR arrays; FileNotFoundError naming ``where`` (or the first
    unreadable file) when there are none or one cannot be read."""
    import cv2

    images = [cv2.imread(str(f)) for f in paths]
    bad = [str(f) for f, im in zip(paths, images, strict=True) if im is None]
    if not images or bad:
        raise FileNotFoundError(f"no readable images in {where or (bad[0] if bad else 'an empty list')}")
    return images


def resolve_model(target: str, model: Path) -> Path:
    """The file or folder ``target``'s runtime loads: the training's ``best.pt``, or the export's
    artefact. ``model`` is a training's ``train_info.json`` (the checkpoint's target) or an
    export folder. Raises RuntimeError carrying the training's or the export's own error when
    that step failed."""
    if TARGETS[target].export is None:
        return layout.weights_of(Path(model))
    return layout.export_artefact(Path(model))
