"""Model families and distillation: end-to-end heads, the training arguments a distilled student
gets, and the report's lever comparisons (on a hand-made table with known answers)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from test_report import stats_for

from yoloshrink import model, train
from yoloshrink.report import levers, text


def build(tmp_path, family: str, width: float = 0.125):
    from ultralytics.nn.tasks import DetectionModel

    path = tmp_path / f"{family}.yaml"
    model.write_variant_yaml(path, model.variant_yaml(width, model.stock_depth(family), 1024, 2, family=family))
    return path, DetectionModel(cfg=str(path), nc=2, verbose=False)


def test_only_an_end_to_end_head_is_run_without_nms(tmp_path):
    import yaml

    for family, e2e in (("yolov8", False), ("yolo11", False), ("yolo26", True)):
        path, net = build(tmp_path, family)
        assert model.checkpoint_end2end(net) is e2e, family
        assert model.is_end2end(yaml.safe_load(path.read_text())) is e2e
        # the training arguments follow the model yaml: validation during training picks best.pt
        # from the head as deployed
        args = train.train_arguments({"epochs": 1}, yaml.safe_load(path.read_text()))
        assert args == ({"epochs": 1, "nms": False} if e2e else {"epochs": 1})
    assert model.checkpoint_end2end("results/export/x/onnx/best.onnx") is False  # an exported model's path


def test_a_student_trains_from_its_teachers_best_pt_and_fails_clearly_without_one(tmp_path):
    weights = tmp_path / "train/w0.25/weights"
    weights.mkdir(parents=True)
    (weights / "best.pt").write_bytes(b"teacher")
    info = tmp_path / "train/w0.25/train_info.json"
    info.write_text(json.dumps({"run": "w0.25", "variant": "w0.25", "seed": 0, "status": "ok"}))
    settings = {"epochs": 1, "distill": {"teacher": str(info), "weight": 2.0}}
    args = train.train_arguments(settings)
    assert args == {"epochs": 1, "distill_model": str((weights / "best.pt").resolve()), "dis": 2.0}
    assert train.distill_fields(settings) == {"teacher": "w0.25", "teacher_run": "w0.25", "weight": 2.0}
    # the teacher's checkpoint is part of the student's fingerprint: a retrained teacher is
    # another training, whose interrupted run must not be resumed
    (tmp_path / "m.yaml").write_text("nc: 2\n")
    (tmp_path / "d.yaml").write_text("nc: 2\n")
    before = train.fingerprint(tmp_path / "m.yaml", tmp_path / "d.yaml", args)
    (weights / "best.pt").write_bytes(b"retrained teacher")
    assert train.fingerprint(tmp_path / "m.yaml", tmp_path / "d.yaml", args) != before
    info.write_text(json.dumps({"run": "w0.25", "variant": "w0.25", "seed": 0, "status": "failed", "error": "NaN"}))
    with pytest.raises(RuntimeError, match="the teacher's training failed"):
        train.train_arguments(settings)


def row(variant, family, teacher, width, depth, p50, speedup, lo, hi, params, target="onnx", threads=1):
    return {
        "variant": variant,
        "family": family,
        "distilled_from": teacher,
        "width": width,
        "depth": depth,
        "heads": "P3-P5",
        "imgsz": 192,
        "parameters": params,
        "target": target,
        "threads": threads,
        "status": "ok",
        "runtime": "onnxruntime",
        "p50_ms": p50,
        "speedup": speedup,
        "speedup_ci_low": lo,
        "speedup_ci_high": hi,
        "map50_95": 0.1,
    }


@pytest.fixture
def lever_table() -> pd.DataFrame:
    rows = [
        row("w0.25", "yolov8", "", 0.25, 0.33, 10.0, 1.0, 1.0, 1.0, 3_011_238),
        row("w0.125", "yolov8", "", 0.125, 0.33, 5.0, 2.0, 1.9, 2.1, 912_830),
        row("yolo26-w0.25", "yolo26", "", 0.25, 0.5, 8.0, 1.25, 1.2, 1.3, 2_504_580),
        row("yolo26-w0.125", "yolo26", "", 0.125, 0.5, 5.2, 1.9, 1.8, 2.0, 677_780),
        row("yolo26-w0.125-d0.33", "yolo26", "", 0.125, 0.33, 4.0, 2.5, 2.4, 2.6, 600_000),  # no yolov8 twin
        row("w0.125-kd", "yolov8", "w0.25", 0.125, 0.33, 4.9, 2.04, 1.95, 2.1, 912_830),
    ]
    return pd.DataFrame(rows)


def test_levers_pair_variants_that_differ_in_that_lever_only(lever_table):
    assert levers.pairs(lever_table, "family") == [("yolo26-w0.25", "w0.25"), ("yolo26-w0.125", "w0.125")]
    assert levers.pairs(lever_table, "distillation") == [("w0.125-kd", "w0.125")]
    with pytest.raises(ValueError, match="unknown lever"):
        levers.pairs(lever_table, "width")


def test_lever_comparisons_use_seed_means_and_the_paired_speedups(lever_table):
    stats = stats_for(
        {
            "w0.25": [0.30, 0.32, 0.34],
            "w0.125": [0.20, 0.21, 0.22],
            "yolo26-w0.25": [0.40, 0.41, 0.42],  # +0.09: beyond 2 SE
            "yolo26-w0.125": [0.19, 0.22, 0.25],  # +0.01: within
            "w0.125-kd": [0.25, 0.26, 0.27],  # +0.05 over its twin: beyond
        }
    )
    family = levers.compare(lever_table, stats, "family")
    assert [(i["variant"], i["base"]) for i in family] == [("yolo26-w0.25", "w0.25"), ("yolo26-w0.125", "w0.125")]
    assert family[0]["diff"] == pytest.approx(0.09) and family[0]["larger"]
    assert family[0]["ratio"] == pytest.approx(1.25) and family[0]["paired"]  # 1.25 / 1.0: faster
    assert family[0]["overlap"] is False  # [1.2, 1.3] vs the baseline's [1, 1]
    assert family[1]["ratio"] == pytest.approx(0.95) and family[1]["overlap"] is True  # 1.9 / 2.0: slower
    s = levers.summary(family, "family")
    assert [i["variant"] for i in s["gains"]] == ["yolo26-w0.25"] and s["undecided"] == 1 and not s["losses"]
    sentence = text.sentence("lever", s, "onnxruntime")
    assert "higher beyond 2 standard errors for 1 (yolo26-w0.25)" in sentence
    assert (
        "from 1.05x slower to 1.25x faster" in sentence
        and "overlapping (the difference not established) in 1 of 2" in sentence
    )
    kd = levers.compare(lever_table, stats, "distillation")
    assert kd[0]["diff"] == pytest.approx(0.05) and kd[0]["larger"] and kd[0]["teacher"] == "w0.25"
    s = levers.summary(kd, "distillation")
    assert s["same_parameters"] and s["teachers"] == ["w0.25"]
    sentence = text.sentence("lever", s, "onnxruntime")
    assert sentence.startswith(
        "**Distillation** from w0.25 (1 student(s) against their undistilled twins, same parameter counts)"
    )
    assert "a student's exported graph is its twin's" in sentence
    table = levers.lever_table(kd)
    assert table.loc[0, "mAP50-95 (seeds)"] == "0.260 (n=3)" and table.loc[0, "beyond 2 SE"] == "yes"


def test_without_paired_speedups_the_ratio_is_of_p50s_and_says_so(lever_table):
    lever_table["speedup"] = math.nan
    stats = stats_for({"w0.125": [0.2], "w0.125-kd": [0.3]})
    kd = levers.compare(lever_table, stats, "distillation")
    assert kd[0]["ratio"] == pytest.approx(5.0 / 4.9) and not kd[0]["paired"] and kd[0]["kind"] == "unknown"
    assert "ratio of p50s from separate timing jobs" in text.sentence(
        "lever", levers.summary(kd, "distillation"), "ort"
    )
