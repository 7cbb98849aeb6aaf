"""INT8 for the CPU at hand: ONNX Runtime's candidates give valid models with the settings they
record, "auto" keeps the fastest within the tolerance, bad settings name their key (unit tests
on a small untrained detector, see conftest.py). OpenVINO's candidates (NNCF, seconds each):
test_quantize_openvino.py, a file of its own so that another pytest worker runs them."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from helpers import calibration_tensors

from yoloshrink import layout, quantize, workflowcfg
from yoloshrink.bench import runners
from yoloshrink.report import int8 as int8_report


def onnx_facts(path: Path) -> dict:
    """What an ONNX graph's quantization is: op types, the first QuantizeLinear's zero-point type,
    the quantized weights (values and scale sizes) and the float nodes left."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    ops = [n.op_type for n in graph.node]
    q_in = next(n for n in graph.node if n.op_type == "QuantizeLinear")
    weights, scales = [], []
    for n in graph.node:
        if n.op_type == "QLinearConv":
            weights.append(inits[n.input[3]])
            scales.append(inits[n.input[4]].size)
        if n.op_type == "DequantizeLinear" and n.input[0] in inits and inits[n.input[0]].ndim == 4:
            weights.append(inits[n.input[0]])
            scales.append(inits[n.input[1]].size)
    return {
        "ops": ops,
        "activation_dtype": inits[q_in.input[2]].dtype,
        "weights": weights,
        "scales": scales,
        "nodes": {n.name: n.op_type for n in graph.node},
    }


@pytest.mark.parametrize("name", list(quantize.CANDIDATES["onnx-int8"]))
def test_onnx_candidates_give_valid_models_with_their_settings(detector, tmp_path, name):
    settings = quantize.CANDIDATES["onnx-int8"][name]
    out = tmp_path / "best_int8.onnx"
    quantize.quantize_onnx(detector["onnx"], out, calibration_tensors(detector), settings)
    facts = onnx_facts(out)
    ops = set(facts["ops"])
    if settings["quant_format"] == "QOperator":
        assert "QLinearConv" in ops and "DequantizeLinear" in ops  # dequantized only where float resumes
    else:
        assert "QLinearConv" not in ops and {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    assert facts["activation_dtype"] == {"QUInt8": np.uint8, "QInt8": np.int8}[settings["activation_type"]]
    assert facts["weights"] and all(w.dtype == np.int8 for w in facts["weights"])
    assert any(n > 1 for n in facts["scales"]) == settings["per_channel"]
    biggest = max(int(np.abs(w.astype(int)).max()) for w in facts["weights"])
    assert (biggest <= 64) == settings["reduce_range"], biggest  # 7-bit weights with reduce_range
    kept = quantize.onnx_keep_float(detector["onnx"], settings["keep_float"])
    assert kept and all(facts["nodes"].get(k) not in (None, "QLinearConv") for k in kept)  # left as they were
    if settings["keep_float"] == "non-weighted":
        assert "Sigmoid" in ops and "QLinearSigmoid" not in ops  # SiLU stays float
    else:
        assert any(k.startswith("/model.22/dfl") for k in kept) and not any("/cv2." in k for k in kept)
    layout.write_record(
        "export", tmp_path / layout.EXPORT_RECORD, {"variant": "v", "format": "onnx-int8", "status": "ok"}
    )
    runner = runners.make_runner("onnx-int8", out, threads=1)
    y = runner.to_numpy(runner.run(runner.prepare(np.zeros((96, 96, 3), np.uint8))))
    assert y.shape == (1, 6, 189) and np.isfinite(y).all() and runner.precision == "int8"


def candidate(name, p50, drop, status="ok"):
    return {"name": name, "status": status, "p50_ms": p50, "map50_95": 0.5 - drop, "map50_95_drop": drop}


def test_pick_keeps_the_fastest_within_the_tolerance_else_the_most_accurate():
    tried = [candidate("a", 10.0, 0.002), candidate("b", 7.0, 0.03), candidate("c", 8.0, 0.009)]
    tried.append({"name": "d", "status": "failed", "error": "boom"})
    assert quantize.pick(tried, 0.01)[0] == "c"
    name, reason = quantize.pick(tried, 0.001)
    assert name == "a" and reason.startswith("none within 0.001")
    assert quantize.pick(tried, 0.05)[0] == "b"
    assert quantize.pick([tried[-1]], 0.01)[0] is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda q: q.update(choose={"onnx-int8": "fastest"}),
            "export.quantize.choose.onnx-int8: 'fastest' is not a candidate",
        ),
        (
            lambda q: q.update(candidates={"onnx-int8": {"mine": {"quant_format": "QDQQ"}}}),
            "export.quantize.candidates.onnx-int8.mine.quant_format: 'QDQQ' is invalid; expected ['QDQ', 'QOperator']",
        ),
        (
            lambda q: q.update(candidates={"openvino-int8": {"mine": {"per_channel": True}}}),
            "export.quantize.candidates.openvino-int8.mine.per_channel: not a nncf setting",
        ),
        (
            lambda q: q.update(candidates={"onnx-int8": {"mine": {"reduce_range": "yes"}}}),
            "export.quantize.candidates.onnx-int8.mine.reduce_range: 'yes' is invalid; expected bool",
        ),
    ],
)
def test_bad_quantizer_settings_name_the_key(edit, message):
    config = {
        "export": {"formats": ["onnx-int8", "openvino-int8"], "quantize": {}},
        "benchmark": {"threads": [1], "parity_tolerance": 0.01, **dict.fromkeys(workflowcfg.TIMING_KEYS, 1)},
    }
    edit(config["export"]["quantize"])
    with pytest.raises(workflowcfg.ConfigError) as err:
        for fmt in config["export"]["formats"]:
            workflowcfg.quantize_settings(config, fmt)
    assert message in str(err.value)


def test_own_candidates_complete_their_defaults_and_a_named_one_times_nothing():
    config = {
        "export": {
            "quantize": {
                "choose": {"onnx-int8": "mine"},
                "candidates": {"onnx-int8": {"mine": {"quant_format": "QOperator", "activation_type": "QUInt8"}}},
                "threads": 2,
            }
        },
        "benchmark": {"threads": [1, 4], "parity_tolerance": 0.02, **dict.fromkeys(workflowcfg.TIMING_KEYS, 1)},
    }
    named = workflowcfg.quantize_settings(config, "onnx-int8")
    assert named == {
        "candidates": {
            "mine": {
                **quantize.CANDIDATES["onnx-int8"]["ultralytics"],
                "quant_format": "QOperator",
                "activation_type": "QUInt8",
            }
        },
        "choose": "mine",
    }
    auto = workflowcfg.quantize_settings(config, "openvino-int8")
    assert auto["choose"] == "auto" and set(auto["candidates"]) == set(quantize.CANDIDATES["openvino-int8"])
    assert auto["threads"] == 2 and auto["tolerance"] == 0.02 and auto["timing"] == workflowcfg.QUANTIZE_TIMING
    config["export"]["quantize"]["timing"] = {"min_seconds": 0}
    assert workflowcfg.quantize_settings(config, "openvino-int8")["timing"]["min_seconds"] == 0
    del config["export"]["quantize"]["threads"]
    assert workflowcfg.quantize_settings(config, "openvino-int8")["threads"] == 1  # the smallest benchmark count


@pytest.mark.usefixtures("restore_threads")
def test_auto_quantizes_scores_times_and_records_every_candidate(detector, tmp_path):
    float_export = detector["onnx"].parent  # the export rule's folder: export.json and best.onnx
    before = {p.name: p.read_bytes() for p in float_export.iterdir()}
    timing = {"warmup": 1, "warmup_max": 4, "block": 2, "sessions": 2, "min_rounds": 4, "min_runs": 4}
    settings = {
        **quantize.resolve("onnx-int8", "auto", None, "export.quantize"),
        "threads": 1,
        "tolerance": 1.0,
        "timing": {**timing, "min_seconds": 0, "max_runs": 20},
    }
    out = tmp_path / "export" / "onnx-int8"
    record = quantize.quantize_job("w0.125", float_export, "onnx-int8", out, 96, detector["data"], settings)
    assert record["status"] == "ok", record.get("error")
    # made from the float export itself, which it leaves as it was
    assert record["source"] == {"format": "onnx", "artefact": detector["onnx"].name}
    assert {p.name: p.read_bytes() for p in float_export.iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == ["best_int8.onnx", "export.json"]  # nothing else left
    q = record["quantizer"]
    assert q["choose"] == "auto" and q["images"] == len(detector["images"]) and q["threads"] == 1
    assert [c["name"] for c in q["candidates"]] == list(quantize.CANDIDATES["onnx-int8"])
    for c in q["candidates"]:
        assert c["status"] == "ok" and c["settings"] == quantize.CANDIDATES["onnx-int8"][c["name"]]
        assert 0 < c["p50_ci_low_ms"] <= c["p50_ms"] <= c["p50_ci_high_ms"]
        assert c["speedup_over_onnx"]["speedup"] > 0 and 0 <= c["map50_95"] <= 1
    fastest = min(q["candidates"], key=lambda c: c["p50_ms"])
    assert q["chosen"] == fastest["name"]  # a tolerance of 1 admits every candidate
    assert q["best_float"] == "onnx" and q["floats"]["onnx"]["p50_ms"] > 0
    # what the float ran at, as its runner said (the report's label follows it)
    assert q["floats"]["onnx"]["runtime"] == "onnxruntime" and q["floats"]["onnx"]["precision"] == "f32"
    assert int8_report.float_label("onnx", q["floats"]["onnx"]) == "onnx: onnxruntime f32"
    assert layout.read_record("export", out / layout.EXPORT_RECORD)["quantizer"]["chosen"] == q["chosen"]
    again = copy.deepcopy(settings)
    again["candidates"] = {"qop-u8s8": again["candidates"]["qop-u8s8"]}
    again["choose"] = "qop-u8s8"
    named = quantize.quantize_job("w0.125", float_export, "onnx-int8", tmp_path / "named", 96, detector["data"], again)
    assert named["quantizer"]["chosen"] == "qop-u8s8" and "p50_ms" not in named["quantizer"]["candidates"][0]
