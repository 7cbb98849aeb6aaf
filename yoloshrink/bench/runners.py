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

import contextlib
import math
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from yoloshrink.export import EXPORT_FORMATS, needs_calibration, runtime_format
from yoloshrink.fsutil import atomic_write_json, read_json

#: Benchmark targets: an exported format, optionally with a precision OpenVINO is asked for.
#: "openvino" runs at OpenVINO's default precision for the CPU (bf16 where the CPU has it);
#: "openvino-f32" and "openvino-bf16" name it (a CPU without bf16 runs f32 whatever the hint:
#: the ``precision`` column says what ran). The INT8 targets are their own exports.
TARGETS = {
    "pytorch": ("pytorch", ""),
    "torchscript": ("torchscript", ""),
    "onnx": ("onnx", ""),
    "openvino": ("openvino", ""),
    "openvino-f32": ("openvino", "f32"),
    "openvino-bf16": ("openvino", "bf16"),
    "ncnn": ("ncnn", ""),
    "onnx-int8": ("onnx-int8", ""),
    "openvino-int8": ("openvino-int8", ""),
}


def target_format(target: str) -> str:
    """The exported format a benchmark target reads ("openvino-f32" -> "openvino")."""
    return TARGETS[target][0]


def target_precision(target: str) -> str:
    """The precision a target asks its runtime for ("" = the runtime's default)."""
    return TARGETS[target][1]


#: Thread-count variables of the OpenMP/BLAS libraries under the runtimes. Snakemake sets them to
#: the job's cores; a timing job holds every core but times a given thread count.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def limit_thread_env(threads: int) -> None:
    """Set :data:`THREAD_ENV` to ``threads`` in this process; call before importing a runtime."""
    os.environ.update({name: str(int(threads)) for name in THREAD_ENV})


@dataclass
class Runner:
    """A loaded model, ready to time: ``run(x)`` infers one NCHW float32 batch."""

    run: Callable[[np.ndarray], Any]
    runtime: str
    runtime_version: str
    precision: str
    to_numpy: Callable[[Any], np.ndarray]


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


def artefact_path(export_dir: Path, record: dict[str, Any]) -> Path:
    """Path of the exported artefact named in an ``export.json`` record."""
    return Path(export_dir) / record["artefact"]


def make_runner(fmt: str, model_path: Path, threads: int, precision: str = "") -> Runner:
    """Load ``model_path`` (format ``fmt``) with its own runtime on ``threads`` threads.

    ``precision`` asks OpenVINO for an inference precision ("f32", "bf16"); empty means the
    runtime's default, and the returned Runner says what actually ran.
    """
    model_path = Path(model_path)
    if fmt in EXPORT_FORMATS and needs_calibration(fmt):
        runner = make_runner(runtime_format(fmt), model_path, threads, precision)
        runner.precision = "int8"  # quantized weights and activations (the head's decode stays float)
        return runner
    if fmt in ("pytorch", "torchscript"):
        import torch

        torch.set_num_threads(threads)
        if fmt == "pytorch":
            from ultralytics import YOLO

            net = YOLO(str(model_path), task="detect").model.float().fuse().eval()
        else:
            net = torch.jit.load(str(model_path), map_location="cpu").eval()

        def run_torch(x: np.ndarray) -> Any:
            with torch.inference_mode():
                return net(torch.from_numpy(x))

        def torch_out(y: Any) -> np.ndarray:
            return (y[0] if isinstance(y, (list, tuple)) else y).numpy()

        return Runner(run_torch, "torch", torch.__version__, "f32", torch_out)
    if fmt == "onnx":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        return Runner(lambda x: sess.run(None, {name: x}), "onnxruntime", ort.__version__, "f32", lambda y: y[0])
    if fmt == "openvino":
        import openvino as ov

        core = ov.Core()
        xml = model_path if model_path.is_file() else next(model_path.glob("*.xml"))
        config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        if precision:
            config["INFERENCE_PRECISION_HINT"] = precision
        compiled = core.compile_model(core.read_model(str(xml)), "CPU", config)
        request = compiled.create_infer_request()
        hint = compiled.get_property("INFERENCE_PRECISION_HINT")  # an ov.Type: f32, bf16, f16
        ran = hint.to_string() if hasattr(hint, "to_string") else str(hint)
        return Runner(lambda x: request.infer({0: x}), "openvino", ov.get_version(), ran, lambda y: y[0])
    if fmt == "ncnn":
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
    raise ValueError(f"no runner for format {fmt!r}; expected one of {('pytorch', *EXPORT_FORMATS)}")


def load_images(images_dir: Path, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` validation images (sorted by name) as BGR arrays."""
    import cv2

    files = sorted(p for p in Path(images_dir).iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp"})[
        :limit
    ]
    images = [cv2.imread(str(f)) for f in files]
    if not images or any(im is None for im in images):
        raise FileNotFoundError(f"no readable images in {images_dir}")
    return images


def end_to_end(runner: Runner, images: list[np.ndarray], imgsz: int) -> Callable[[], Any]:
    """A call doing what a frame costs: letterbox + inference + NMS, cycling over ``images``."""
    import torch
    from ultralytics.utils.nms import non_max_suppression

    state = {"i": 0}

    def call() -> Any:
        image = images[state["i"] % len(images)]
        state["i"] += 1
        y = runner.to_numpy(runner.run(preprocess(image, imgsz)))
        return non_max_suppression(torch.from_numpy(np.ascontiguousarray(y)), conf_thres=0.25, iou_thres=0.7)

    return call


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
    e2e_images: int = 20,
) -> dict[str, Any]:
    """Latency record for one (format, threads): network-only and end-to-end statistics.

    Network-only: the runtime's call on one preprocessed tensor. End-to-end: letterbox +
    inference + NMS on real validation images in turn. Both after ``warmup`` calls.
    """
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)  # the end-to-end letterbox resizes on the timed threads too
    images = load_images(images_dir, e2e_images)
    x = preprocess(images[0], imgsz)
    runner = make_runner(fmt, model_path, threads, precision)
    net = time_calls(lambda: runner.run(x), warmup, min_runs, min_seconds, max_runs)
    e2e = time_calls(end_to_end(runner, images, imgsz), warmup, min_runs, min_seconds, max_runs)
    return {
        "status": "ok",
        "format": fmt,
        "threads": int(threads),
        "imgsz": int(imgsz),
        "runtime": runner.runtime,
        "runtime_version": runner.runtime_version,
        "precision": runner.precision,
        "warmup": int(warmup),
        **timing_stats(net),
        **{f"e2e_{k}": v for k, v in timing_stats(e2e).items()},
    }


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
    """The file or folder a runtime loads: the training's ``best.pt``, or the export's artefact.

    ``model`` is a training's ``train_info.json`` (pytorch) or an export folder. Raises
    RuntimeError carrying the training's or the export's own error when that step failed.
    """
    if fmt == "pytorch":
        from yoloshrink.train import weights_of

        return weights_of(Path(model))
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


def accuracy_job(target: str, model: Path, data_yaml: Path, imgsz: int, out: Path) -> dict[str, Any]:
    """Score one (variant, target) and write its record to ``out``; failures become records."""
    fields = {"target": target, "format": target_format(target), "imgsz": int(imgsz)}
    try:
        path = resolve_model(target_format(target), model)
        with openvino_precision(target_precision(target)):
            record = {**fields, **measure_accuracy(path, data_yaml, imgsz, out.parent / ".val")}
    except Exception as exc:
        record = failure(exc, **fields)
    shutil.rmtree(out.parent / ".val", ignore_errors=True)
    atomic_write_json(out, record)
    return record


def latency_job(
    target: str,
    model: Path,
    data_yaml: Path,
    imgsz: int,
    threads: int,
    timing: dict[str, Any],
    out: Path,
) -> dict[str, Any]:
    """Time one (variant, target, threads) and write its record to ``out``."""
    fields = {"target": target, "format": target_format(target), "imgsz": int(imgsz), "threads": int(threads)}
    try:
        record = measure_latency(
            target_format(target),
            resolve_model(target_format(target), model),
            val_images_dir(data_yaml),
            imgsz,
            threads,
            warmup=int(timing.get("warmup", 10)),
            min_runs=int(timing.get("min_runs", 100)),
            min_seconds=float(timing.get("min_seconds", 10.0)),
            max_runs=timing.get("max_runs"),
            precision=target_precision(target),
            e2e_images=int(timing.get("e2e_images", 20)),
        )
        record["target"] = target
    except Exception as exc:
        record = failure(exc, **fields)
    atomic_write_json(out, record)
    return record


def has_native_bf16() -> bool:
    """Whether the CPU has bf16 matrix instructions (AVX512_BF16 or AMX-BF16)."""
    from yoloshrink.environment import cpu_info

    flags = cpu_info()["cpu_flags"]
    return bool(flags["avx512_bf16"] or flags["amx_bf16"])


def machine_peak(threads: list[int], size: int = 2048, repeats: int = 5) -> dict[str, Any]:
    """This CPU's measured reference roofs per thread count, and its theoretical peak.

    ``peaks``: the best of ``repeats`` timed ``size``x``size`` matmuls after one warm-up, fp32
    and bf16 through torch and int8 through ONNX Runtime's ``MatMulInteger``: the reference the
    rows' ``fraction_of_peak`` is taken against. A reference, not a limit: another runtime's
    kernels can beat torch's GEMM. bf16 is measured only where the CPU has native bf16
    instructions: elsewhere torch emulates it at ~1 GFLOP/s, which is no roof, and the entry is
    null. ``theoretical``: :func:`yoloshrink.roofline.theoretical_peak` of this CPU (cores x
    clock x SIMD width x FMA units x 2, with its derivation), the bound the rows'
    ``fraction_of_theoretical`` is taken against.
    """
    import torch

    from yoloshrink.environment import cpu_info
    from yoloshrink.roofline import theoretical_peak

    bf16 = has_native_bf16()
    out: dict[str, Any] = {
        "method": f"best of {repeats} {size}x{size} matrix products after one warm-up: torch.matmul (fp32, bf16), "
        "ONNX Runtime MatMulInteger u8 x s8 -> s32 (int8)",
        "matrix_size": size,
        "repeats": repeats,
        "native_bf16": bf16,
        "theoretical": theoretical_peak(cpu_info(), threads),
        "peaks": {},
    }
    flops = 2 * size**3
    dtypes = [("fp32", torch.float32)] + ([("bf16", torch.bfloat16)] if bf16 else [])
    for t in threads:
        torch.set_num_threads(t)
        row: dict[str, float | None] = {"fp32_gflops": None, "bf16_gflops": None, "int8_gops": None}
        for name, dtype in dtypes:
            a = torch.randn(size, size).to(dtype)
            b = torch.randn(size, size).to(dtype)
            torch.matmul(a, b)
            best = min(_timed(lambda a=a, b=b: torch.matmul(a, b)) for _ in range(repeats))
            row[f"{name}_gflops"] = round(flops / best / 1e9, 2)
        row["int8_gops"] = int8_peak(t, size, repeats)
        out["peaks"][str(t)] = row
    return out


def int8_peak(threads: int, size: int = 2048, repeats: int = 5) -> float | None:
    """Peak u8 x s8 -> s32 matmul throughput (GOP/s) of ONNX Runtime's ``MatMulInteger`` on
    ``threads`` threads: the roof of the INT8 rows (the kernel their quantized Convs use).
    None when ONNX Runtime cannot run it."""
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper

        node = helper.make_node("MatMulInteger", ["a", "b"], ["y"])
        graph = helper.make_graph(
            [node],
            "int8_peak",
            [
                helper.make_tensor_value_info("a", TensorProto.UINT8, [size, size]),
                helper.make_tensor_value_info("b", TensorProto.INT8, [size, size]),
            ],
            [helper.make_tensor_value_info("y", TensorProto.INT32, [size, size])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        feeds = {
            "a": rng.integers(0, 255, (size, size), dtype=np.uint8),
            "b": rng.integers(-127, 127, (size, size), dtype=np.int8),
        }
        sess.run(None, feeds)
        best = min(_timed(lambda: sess.run(None, feeds)) for _ in range(repeats))
        return round(2 * size**3 / best / 1e9, 2)
    except Exception as exc:  # the fp32 roof still stands without it
        print(f"int8 peak not measured: {type(exc).__name__}: {exc}")
        return None


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ultralytics_crosscheck(train_info: Path, data_yaml: Path, imgsz: int, out: Path) -> None:
    """ultralytics' ``benchmark()`` (its val timer, all formats it can export) on ``weights``.

    It exports next to the weights, so it works on a private copy. Its table goes to ``out``.
    """
    import pandas as pd
    from ultralytics.utils.benchmarks import benchmark

    from yoloshrink.train import weights_of

    weights = weights_of(train_info)
    work = out.parent / ".crosscheck"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    local = work / "best.pt"
    shutil.copyfile(weights, local)
    df = benchmark(model=str(local), data=str(data_yaml), imgsz=imgsz, half=False, device="cpu", verbose=False)
    # ultralytics 8.4 returns a polars DataFrame (write_csv keeps its column names)
    text = df.write_csv() if hasattr(df, "write_csv") else pd.DataFrame(df).to_csv(index=False)
    shutil.rmtree(work, ignore_errors=True)
    from yoloshrink.fsutil import atomic_write_text

    atomic_write_text(out, text)
