"""INT8 for the CPU at hand, OpenVINO: NNCF's built-in candidates give valid models with the
settings they record, and its presets differ where they should (on the small untrained detector
of conftest.py; ONNX Runtime's candidates and the choosing: test_quantize.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import calibration_tensors

from yoloshrink import layout, quantize
from yoloshrink.bench import runners


def openvino_fake_quantize(folder: Path) -> list:
    import openvino as ov

    model = ov.Core().read_model(str(next(Path(folder).glob("*.xml"))))
    return [op for op in model.get_ordered_ops() if op.get_type_name() == "FakeQuantize"]


@pytest.fixture(scope="module")
def openvino_int8(detector, tmp_path_factory):
    """``get(name)``: the detector's OpenVINO export quantized with the built-in candidate
    ``name``, made once for this module's tests (each only reads it)."""
    made: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("openvino-int8")

    def get(name: str) -> Path:
        if name not in made:
            out = root / name / "best_int8_openvino_model"
            settings = quantize.CANDIDATES["openvino-int8"][name]
            quantize.quantize_openvino(detector["openvino"], out, calibration_tensors(detector), settings)
            made[name] = out
        return made[name]

    return get


@pytest.mark.parametrize("name", list(quantize.CANDIDATES["openvino-int8"]))
def test_openvino_candidates_give_valid_models_with_their_settings(openvino_int8, tmp_path, name):
    settings = quantize.CANDIDATES["openvino-int8"][name]
    out = openvino_int8(name)
    assert (out / "metadata.yaml").exists()
    fq = openvino_fake_quantize(out)
    assert fq, "no FakeQuantize: nothing was quantized"
    import openvino as ov

    model = ov.Core().read_model(str(next(out.glob("*.xml"))))
    kept = set(quantize.openvino_keep_float(model, settings["keep_float"]))
    fed = {c.get_node().get_friendly_name() for op in fq for t in op.outputs() for c in t.get_target_inputs()}
    assert (kept & fed) == set(), "an op kept in float is fed by a FakeQuantize"
    if settings["keep_float"] == "decode":
        assert any(".dfl" in k for k in kept)
    layout.write_record(
        "export", out.parent / layout.EXPORT_RECORD, {"variant": "v", "format": "openvino-int8", "status": "ok"}
    )
    runner = runners.make_runner("openvino-int8", out, threads=1)
    y = runner.to_numpy(runner.run(runner.prepare(np.zeros((96, 96, 3), np.uint8))))
    assert y.shape == (1, 6, 189) and np.isfinite(y).all()


def test_openvino_presets_differ_in_their_activation_ranges(openvino_int8):
    """MIXED quantizes activations asymmetrically, PERFORMANCE symmetrically (NNCF's presets):
    the built-in candidates "ultralytics" and "performance" differ in the preset alone."""
    presets = {"ultralytics": "mixed", "performance": "performance"}
    for name, preset in presets.items():
        assert quantize.CANDIDATES["openvino-int8"][name] == {
            **quantize.CANDIDATES["openvino-int8"]["ultralytics"],
            "preset": preset,
        }, name
    asymmetric = {}
    for name, preset in presets.items():
        n = 0
        for op in openvino_fake_quantize(openvino_int8(name)):
            low, high = (op.input_value(i).get_node().get_data() for i in (1, 2))
            if low.size == 1 and low.item() < 0 and not np.isclose(-low.item(), high.item(), rtol=0.02):
                n += 1
        asymmetric[preset] = n
    assert asymmetric["mixed"] > 0 and asymmetric["performance"] == 0, asymmetric
