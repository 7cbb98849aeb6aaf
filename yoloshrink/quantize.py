"""INT8 chosen for the CPU at hand: the runtimes' own post-training quantizers, their settings
tried on the calibration set, and the fastest one within the accuracy tolerance kept.

ultralytics' INT8 exports use one setting per runtime: ONNX Runtime's ``quantize_static`` with
its defaults (QDQ, signed 8-bit activations and weights, per-tensor, MinMax), every op but
Conv/Gemm/MatMul left in float; NNCF's ``MIXED`` preset with the head's decode left in float.
Which setting pays depends on the CPU: on x86 ONNX Runtime's fast integer kernels take unsigned
activations (U8S8), and every float op between two quantized ones costs a dequantize and a
quantize. So each calibrated export format (:data:`yoloshrink.targets.EXPORTS`, ``quantizer``)
has named **candidates** (:data:`CANDIDATES`, or the config's own), each a setting of that
runtime's quantizer in its own words, plus ``keep_float``: which ops stay float (``decode``: the
detection head's decode, as ultralytics keeps it; ``non-weighted``: every op without weights,
ultralytics' ONNX rule; ``none``).

``choose: auto`` (:func:`select`) takes the float export (the export rule's), quantizes it with
every candidate on the calibration images, scores each and the float model with ultralytics'
validator on the same images (the val split stays unseen), times them all side by side with
the benchmark's method (:mod:`yoloshrink.bench.timing`: one process pinned to ``threads`` cores,
warm-up, interleaved rounds, sessions; each runtime's fast input path) together with the
runtime's float precisions, and keeps the fastest candidate whose mAP50-95 is within
``tolerance`` of the float model's (else the most accurate). ``choose: <name>`` quantizes with
that candidate only. The export record's ``quantizer`` says what was tried and what was kept.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yoloshrink import layout
from yoloshrink.fsutil import fresh_tmp_dir, path_size
from yoloshrink.targets import EXPORTS, TARGETS

#: Each quantizer's settings: key -> the values it takes (a tuple) or its type.
SETTINGS: dict[str, dict[str, tuple[Any, ...] | type]] = {
    "onnxruntime": {
        "quant_format": ("QDQ", "QOperator"),
        "activation_type": ("QInt8", "QUInt8"),
        "weight_type": ("QInt8", "QUInt8"),
        "per_channel": bool,
        "reduce_range": bool,
        "calibrate_method": ("MinMax", "Entropy", "Percentile", "Distribution"),
        "keep_float": ("non-weighted", "decode", "none"),
    },
    "nncf": {
        "preset": ("mixed", "performance"),
        "fast_bias_correction": bool,
        "keep_float": ("decode", "none"),
    },
}

_ORT = {"per_channel": False, "reduce_range": False, "calibrate_method": "MinMax"}
_U8S8 = {"activation_type": "QUInt8", "weight_type": "QInt8", "keep_float": "decode"}

#: Built-in candidates per calibrated export format: name -> its quantizer's full settings.
#: ``ultralytics`` is what ultralytics' exporter does.
CANDIDATES: dict[str, dict[str, dict[str, Any]]] = {
    "onnx-int8": {
        "ultralytics": {
            **_ORT,
            "quant_format": "QDQ",
            "activation_type": "QInt8",
            "weight_type": "QInt8",
            "keep_float": "non-weighted",
        },
        "qdq-u8s8": {**_ORT, **_U8S8, "quant_format": "QDQ"},
        "qop-u8s8": {**_ORT, **_U8S8, "quant_format": "QOperator"},
        "qop-u8s8-pc-rr": {**_ORT, **_U8S8, "quant_format": "QOperator", "per_channel": True, "reduce_range": True},
        "qdq-s8s8-pc": {
            **_ORT,
            "quant_format": "QDQ",
            "activation_type": "QInt8",
            "weight_type": "QInt8",
            "per_channel": True,
            "keep_float": "decode",
        },
    },
    "openvino-int8": {
        "ultralytics": {"preset": "mixed", "fast_bias_correction": True, "keep_float": "decode"},
        "performance": {"preset": "performance", "fast_bias_correction": True, "keep_float": "decode"},
        "performance-all": {"preset": "performance", "fast_bias_correction": True, "keep_float": "none"},
        "mixed-all": {"preset": "mixed", "fast_bias_correction": True, "keep_float": "none"},
    },
}

#: The float targets an INT8 format is timed against: the same runtime's float precisions.
FLOAT_TARGETS = {"onnx-int8": ("onnx",), "openvino-int8": ("openvino", "openvino-f32")}


class QuantizeConfigError(ValueError):
    """A quantizer setting that is not one: the message names the key and what it may be."""


def check_candidates(fmt: str, candidates: dict[str, dict[str, Any]], where: str) -> dict[str, dict[str, Any]]:
    """``candidates`` of ``fmt`` completed with each quantizer's defaults (the first built-in
    candidate's settings), every key and value checked; ``where`` names them in errors."""
    quantizer = EXPORTS[fmt].quantizer
    allowed = SETTINGS[quantizer]
    defaults = next(iter(CANDIDATES[fmt].values()))
    if not candidates:
        raise QuantizeConfigError(f"{where}: no candidates")
    out = {}
    for name, settings in candidates.items():
        if not isinstance(settings, dict):
            raise QuantizeConfigError(f"{where}.{name}: expected a mapping of {quantizer} settings, got {settings!r}")
        for key, value in settings.items():
            if key not in allowed:
                raise QuantizeConfigError(
                    f"{where}.{name}.{key}: not a {quantizer} setting; expected some of {list(allowed)}"
                )
            kind = allowed[key]
            ok = isinstance(value, kind) if isinstance(kind, type) else value in kind
            if not ok:
                expected = kind.__name__ if isinstance(kind, type) else list(kind)
                raise QuantizeConfigError(f"{where}.{name}.{key}: {value!r} is invalid; expected {expected}")
        out[name] = {**defaults, **settings}
    return out


def resolve(fmt: str, choose: str, candidates: dict[str, dict[str, Any]] | None, where: str) -> dict[str, Any]:
    """The quantizer settings of ``fmt``: ``choose`` ("auto" or a candidate's name) and the
    candidates it chooses among (the config's, checked, or :data:`CANDIDATES`; only the chosen
    one when a name is given)."""
    full = check_candidates(fmt, candidates or CANDIDATES[fmt], f"{where}.candidates.{fmt}")
    if choose != "auto" and choose not in full:
        raise QuantizeConfigError(
            f"{where}.choose.{fmt}: {choose!r} is not a candidate; expected auto or one of {list(full)}"
        )
    return {"choose": choose, "candidates": full if choose == "auto" else {choose: full[choose]}}


# ----------------------------------------------------------------------------- the quantizers


def _last_module(names: list[str], sep: str) -> str:
    """The index of the model's last module (the detection head) in node names like
    ``/model.22/...`` (ONNX) or ``__module.model.22/...`` (OpenVINO)."""
    import re

    found = [int(m.group(1)) for n in names if (m := re.search(r"model\.(\d+)" + sep, n))]
    if not found:
        raise ValueError("no 'model.<i>' node names: not an ultralytics export")
    return str(max(found))


def onnx_keep_float(model_path: Path, keep_float: str) -> list[str]:
    """Names of the ONNX nodes left in float: every op without weights (ultralytics' rule), the
    head's decode (nodes of the last module outside its convolution branches; DFL included) or
    none."""
    import onnx

    nodes = onnx.load(str(model_path), load_external_data=False).graph.node
    if keep_float == "none":
        return []
    if keep_float == "non-weighted":
        return [n.name for n in nodes if n.op_type not in {"Conv", "Gemm", "MatMul"}]
    head = f"/model.{_last_module([n.name for n in nodes], '/')}/"
    branch = ("cv", "one2one_cv")  # the head's conv branches: cv2/cv3 (and YOLO26's one2one_*)
    return [n.name for n in nodes if n.name.startswith(head) and not n.name[len(head) :].startswith(branch)]


def quantize_onnx(source: Path, out: Path, images: list[Any], settings: dict[str, Any]) -> None:
    """ONNX Runtime's ``quantize_static`` of ``source`` into ``out`` with ``settings``
    (:data:`SETTINGS`), calibrated on ``images`` (float NCHW arrays); ultralytics' metadata kept."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(images)

        def get_next(self) -> dict[str, Any] | None:
            x = next(self.it, None)
            return None if x is None else {name: x}

    model = onnx.load(str(source))
    name = model.graph.input[0].name
    quantize_static(
        str(source),
        str(out),
        Reader(),
        quant_format=QuantFormat[settings["quant_format"]],
        activation_type=QuantType[settings["activation_type"]],
        weight_type=QuantType[settings["weight_type"]],
        per_channel=settings["per_channel"],
        reduce_range=settings["reduce_range"],
        calibrate_method=CalibrationMethod[settings["calibrate_method"]],
        nodes_to_exclude=onnx_keep_float(source, settings["keep_float"]),
    )
    quantized = onnx.load(str(out))
    if not quantized.metadata_props:  # ultralytics reads names, stride, end2end from these
        quantized.metadata_props.extend(model.metadata_props)
        onnx.save(quantized, str(out))


def openvino_keep_float(model: Any, keep_float: str) -> list[str]:
    """Names of the OpenVINO ops left in float: the head's decode as ultralytics' exporter
    ignores it (every Sigmoid, the head module's own ops and its DFL), or none."""
    if keep_float == "none":
        return []
    ops = model.get_ordered_ops()
    head = "__module.model." + _last_module([o.get_friendly_name() for o in ops], r"[/.]")
    return [
        o.get_friendly_name()
        for o in ops
        if o.get_type_name() == "Sigmoid" or o.get_friendly_name().startswith((f"{head}/", f"{head}.dfl"))
    ]


def quantize_openvino(source: Path, out: Path, images: list[Any], settings: dict[str, Any]) -> None:
    """NNCF's ``quantize`` of the OpenVINO model folder ``source`` into the folder ``out`` (same
    file names, ultralytics' metadata.yaml copied) with ``settings``, calibrated on ``images``."""
    import nncf
    import openvino as ov

    xml = next(Path(source).glob("*.xml"))
    model = ov.Core().read_model(str(xml))
    names = openvino_keep_float(model, settings["keep_float"])
    quantized = nncf.quantize(
        model,
        nncf.Dataset(images),
        preset={"mixed": nncf.QuantizationPreset.MIXED, "performance": nncf.QuantizationPreset.PERFORMANCE}[
            settings["preset"]
        ],
        subset_size=len(images),
        fast_bias_correction=settings["fast_bias_correction"],
        ignored_scope=nncf.IgnoredScope(names=names) if names else None,
    )
    Path(out).mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(Path(out) / xml.name), compress_to_fp16=False)
    for extra in Path(source).iterdir():
        if extra.suffix not in {".xml", ".bin"}:
            shutil.copy(extra, Path(out) / extra.name)


QUANTIZERS: dict[str, Callable[[Path, Path, list[Any], dict[str, Any]], None]] = {
    "onnxruntime": quantize_onnx,
    "nncf": quantize_openvino,
}


def int8_name(float_artefact: str) -> str:
    """The INT8 artefact's name as ultralytics' exporter gives it: ``best_int8.onnx``,
    ``best_int8_openvino_model``."""
    if float_artefact.endswith("_openvino_model"):
        return float_artefact.replace("_openvino_model", "_int8_openvino_model")
    stem, dot, suffix = float_artefact.rpartition(".")
    return f"{stem}_int8{dot}{suffix}"


# ----------------------------------------------------------------------------- choosing


def time_models(
    models: dict[str, tuple[str, Path]], images: list[Any], imgsz: int, threads: int, timing: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Time ``models`` (name -> (benchmark target, model file or folder)) side by side with the
    benchmark's method on ``threads`` pinned cores, each through its runtime's fast input path on
    the first of ``images`` (BGR uint8); return name -> its rounds (sessions of rounds of ms), and
    name -> the precision its runtime ran at (the runner's own report: bf16 where OpenVINO's
    default chose it)."""
    from yoloshrink.bench.latency import set_threads
    from yoloshrink.bench.runners import LOADERS, letterbox
    from yoloshrink.bench.timing import TimingPlan, in_sessions

    set_threads(threads)
    lb = letterbox(images[0], imgsz)

    precisions: dict[str, str] = {}

    def load() -> dict[str, Callable[[], Any]]:
        calls = {}
        for name, (target, path) in models.items():
            spec = TARGETS[target]
            runner = LOADERS[spec.runtime](spec, Path(path), threads, True)
            precisions[name] = runner.precision
            calls[name] = (lambda r, x: lambda: r.run(x))(runner, runner.prepare(lb))
        return calls

    timed, _ = in_sessions(load, TimingPlan.from_config(timing))
    return timed, precisions


def pick(candidates: list[dict[str, Any]], tolerance: float) -> tuple[str | None, str]:
    """The kept candidate and why: the fastest (p50) of those whose mAP50-95 drop from the float
    model is at most ``tolerance``; when none is, the most accurate. None when none worked."""
    ok = [c for c in candidates if c["status"] == "ok"]
    if not ok:
        return None, "no candidate could be quantized, scored and timed"
    within = [c for c in ok if c["map50_95_drop"] <= tolerance]
    if within:
        best = min(within, key=lambda c: c["p50_ms"])
        return best["name"], f"the fastest of {len(within)} within {tolerance:g} mAP50-95 of the float model"
    best = max(ok, key=lambda c: c["map50_95"])
    return best["name"], f"none within {tolerance:g} mAP50-95 of the float model: the most accurate"


def select(
    fmt: str,
    float_model: Path,
    calibration: Path,
    imgsz: int,
    settings: dict[str, Any],
    work: Path,
) -> tuple[Path, dict[str, Any]]:
    """Quantize the float export ``float_model`` with ``settings["candidates"]``, choose one
    (module docstring) and return its artefact (in ``work``) and the ``quantizer`` record.

    ``calibration`` is the calibration data.yaml (its val split: the calibration images).
    ``settings``: ``choose``, ``candidates`` and for ``auto`` also ``threads``, ``tolerance``
    and ``timing`` (the benchmark's timing keys).
    """
    from yoloshrink.bench.accuracy import measure_accuracy, openvino_precision
    from yoloshrink.bench.runners import load_images, preprocess
    from yoloshrink.bench.stats import P50_KEYS, SPEEDUP_KEYS, speedup, summarize
    from yoloshrink.datasets.files import val_images_dir

    spec = EXPORTS[fmt]
    bgr = load_images(val_images_dir(calibration), 10**6)
    tensors = [preprocess(im, imgsz) for im in bgr]
    record: dict[str, Any] = {"quantizer": spec.quantizer, "choose": settings["choose"], "images": len(bgr)}
    tried: list[dict[str, Any]] = []
    for name, cand in settings["candidates"].items():
        out = Path(work) / name / int8_name(Path(float_model).name)
        out.parent.mkdir(parents=True, exist_ok=True)
        entry: dict[str, Any] = {"name": name, "settings": cand}
        t0 = time.perf_counter()
        try:
            QUANTIZERS[spec.quantizer](Path(float_model), out, tensors, cand)
            entry.update(status="ok", path=str(out), size_bytes=path_size(out))
        except Exception as exc:
            entry.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        entry["quantize_seconds"] = round(time.perf_counter() - t0, 2)
        tried.append(entry)
    if settings["choose"] != "auto":
        (entry,) = tried
        if entry["status"] != "ok":
            raise RuntimeError(f"{fmt} candidate {entry['name']}: {entry['error']}")
        record.update(chosen=entry["name"], reason="named in the config", candidates=_public(tried))
        return Path(entry["path"]), record

    tolerance, threads = float(settings["tolerance"]), int(settings["threads"])
    floats = FLOAT_TARGETS[fmt]
    with openvino_precision(TARGETS[floats[-1]].precision):  # the float reference at f32
        ref = measure_accuracy(Path(float_model), calibration, imgsz, Path(work) / ".val")
    for entry in tried:
        if entry["status"] != "ok":
            continue
        try:
            acc = measure_accuracy(Path(entry["path"]), calibration, imgsz, Path(work) / ".val")
            entry.update(map50_95=acc["map50_95"], map50_95_drop=ref["map50_95"] - acc["map50_95"])
        except Exception as exc:
            entry.update(status="failed", error=f"scoring: {type(exc).__name__}: {exc}")
    models = {f"float:{t}": (t, Path(float_model)) for t in floats}
    models.update({e["name"]: (fmt, Path(e["path"])) for e in tried if e["status"] == "ok"})
    timed, ran_at = time_models(models, bgr, imgsz, threads, settings["timing"])
    float_p50 = {t: summarize(timed[f"float:{t}"]) for t in floats}
    best_float = min(floats, key=lambda t: float_p50[t]["p50_ms"])
    for entry in tried:
        if entry["status"] == "ok":
            s = summarize(timed[entry["name"]])
            entry.update({k: s[k] for k in P50_KEYS})
            for t in floats:
                sp = speedup(timed[f"float:{t}"], timed[entry["name"]])
                entry[f"speedup_over_{t}"] = {k: sp[k] for k in SPEEDUP_KEYS}
    chosen, reason = pick(tried, tolerance)
    if chosen is None:
        raise RuntimeError(f"{fmt}: {reason}: " + "; ".join(f"{e['name']}: {e.get('error')}" for e in tried))
    record.update(
        chosen=chosen,
        reason=reason,
        threads=threads,
        tolerance=tolerance,
        floats={
            t: {
                **{k: float_p50[t][k] for k in P50_KEYS},
                "runtime": TARGETS[t].runtime,
                "precision": ran_at[f"float:{t}"],
            }
            for t in floats
        },
        best_float=best_float,
        float_map50_95=ref["map50_95"],
        candidates=_public(tried),
    )
    return Path(next(e["path"] for e in tried if e["name"] == chosen)), record


def _public(tried: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates as recorded: without their working paths."""
    return [{k: v for k, v in e.items() if k != "path"} for e in tried]


def quantize_job(
    variant: str,
    float_export: Path,
    fmt: str,
    out_dir: Path,
    imgsz: int,
    calibration: Path,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The quantize rule: quantize the float export in the folder ``float_export`` (the export
    rule's, the very model the float rows benchmark) with :func:`select` and publish ``out_dir``
    with the kept artefact and its ``export.json`` (``quantizer``: what was tried and kept;
    ``source``: the float export's artefact and format). Any failure is a failed record."""
    from yoloshrink.export import publish_export

    out_dir = Path(out_dir)
    tmp = fresh_tmp_dir(out_dir)
    record: dict[str, Any] = {"variant": variant, "format": fmt, "imgsz": int(imgsz)}
    t0 = time.perf_counter()
    try:
        base = layout.read_record("export", Path(float_export) / layout.EXPORT_RECORD)
        if base["status"] != "ok":
            raise RuntimeError(f"the float {base['format']} export failed: {base.get('error')}")
        record.update(args=base.get("args", {}), source={"format": base["format"], "artefact": base["artefact"]})
        # a copy of the very file the float rows benchmark: no quantizer writes beside the original
        source = tmp / ".float" / base["artefact"]
        source.parent.mkdir()
        copy = shutil.copytree if (Path(float_export) / base["artefact"]).is_dir() else shutil.copy2
        copy(Path(float_export) / base["artefact"], source)
        artefact, quantizer = select(fmt, source, calibration, imgsz, settings, tmp / ".candidates")
        shutil.move(str(artefact), str(tmp / artefact.name))
        record.update(
            status="ok",
            artefact=artefact.name,
            size_bytes=path_size(tmp / artefact.name),
            end2end=base["end2end"],
            quantizer=quantizer,
        )
    except Exception as exc:
        record = layout.failure(exc, **record)
    record["seconds"] = round(time.perf_counter() - t0, 2)
    return publish_export(tmp, out_dir, record)
