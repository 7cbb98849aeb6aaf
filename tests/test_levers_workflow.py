"""End-to-end: the levers beyond width on the tiny config, one short run shared by the tests.

YOLOv8 w0.125 (the teacher) and YOLO26 w0.125, plus YOLO26 w0.125 distilled from the teacher
(``yolo26-w0.125-kd``); one seed, ONNX (keeps YOLO26's end-to-end head) and NCNN (cannot: the
exporter falls back to the one-to-many branch and NMS). The run continues a copy of the
session's tiny run (conftest.py's ``tiny_run``): its dataset, the teacher's training, exports
and timings are reused, as a user who adds the levers to a finished run would see.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import copy_run, job_counts, job_record, snakemake, write_config

pytestmark = pytest.mark.e2e

VARIANTS = ["w0.125", "yolo26-w0.125", "yolo26-w0.125-kd"]


def levers(cfg: dict) -> None:
    cfg["model"].update(families=["yolov8", "yolo26"], widths=[0.125])
    cfg["train"].update(seeds=[0], distill={"teacher": "w0.125", "weight": 2.0})
    cfg["export"]["formats"] = ["onnx", "ncnn"]


@pytest.fixture(scope="module")
def run(tiny_run, tmp_path_factory) -> Path:
    workdir = copy_run(tiny_run, tmp_path_factory.mktemp("levers") / "run")
    cfg = write_config(workdir, "levers.yaml", levers)
    counts = job_counts(snakemake(workdir, "--configfile", cfg, "--dry-run").stdout)
    # the teacher (w0.125, seed 0) and the dataset come from the tiny run: only the new families train
    assert counts.get("train") == 2 and "builtin_dataset" not in counts, counts
    snakemake(workdir, "--configfile", cfg)
    return workdir


def test_every_family_and_the_distilled_student_get_their_rows(run):
    df = pd.read_csv(run / "results/benchmark.csv")
    assert list(dict.fromkeys(df["variant"])) == VARIANTS
    assert (df["status"] == "ok").all(), df.loc[df["status"] != "ok", ["variant", "target", "error"]]
    assert set(df["target"]) == {"pytorch", "onnx", "ncnn"}
    by = df.set_index(["variant", "target"])
    assert by.loc["yolo26-w0.125-kd", "onnx"]["distilled_from"] == "w0.125"
    assert by["family"].to_dict()[("yolo26-w0.125", "onnx")] == "yolo26"
    # YOLO26 runs without NMS where the graph keeps its end-to-end head; NCNN's export cannot
    for v in ("yolo26-w0.125", "yolo26-w0.125-kd"):
        assert by.loc[(v, "pytorch"), "end2end"] and by.loc[(v, "onnx"), "end2end"], v
        assert not by.loc[(v, "ncnn"), "end2end"], v
    assert not by.loc["w0.125"]["end2end"].any()
    report = (run / "results/report/README.md").read_text()
    assert "**Model family** (1 pair(s)" in report and "**Distillation** from w0.125 (1 student(s)" in report


def test_the_student_trained_after_its_teacher_from_its_best_pt(run):
    teacher = job_record(run, "results/train/w0.125/train_info.json")  # seed 0, from the tiny run
    student = job_record(run, "results/train/yolo26-w0.125-kd/train_info.json")
    assert teacher["rule"] == student["rule"] == "train"
    assert "results/models/w0.125/model.yaml" in teacher["input"]
    assert "results/models/yolo26-w0.125-kd/model.yaml" in student["input"]
    assert "results/train/w0.125/train_info.json" in student["input"]
    assert student["starttime"] >= teacher["endtime"]
    info = json.loads((run / "results/train/yolo26-w0.125-kd/train_info.json").read_text())
    assert info["status"] == "ok" and info["distill"]["teacher"] == "w0.125" and info["distill"]["weight"] == 2.0
    best = run / "results/train/w0.125/weights/best.pt"
    assert info["train_args"]["distill_model"] == str(best.resolve())
    assert info["train_args"]["nms"] is False  # YOLO26's head validated as deployed


def test_the_exported_student_is_the_plain_student(run):
    import onnx
    import torch

    ckpts = {v: torch.load(run / f"results/train/{v}/weights/best.pt", weights_only=False) for v in VARIANTS[1:]}
    student, twin = ckpts["yolo26-w0.125-kd"]["model"], ckpts["yolo26-w0.125"]["model"]
    assert type(student).__name__ == "DetectionModel"
    keys = list(student.state_dict())
    assert not [k for k in keys if "teacher" in k or "projector" in k]
    assert keys == list(twin.state_dict())
    assert sum(p.numel() for p in student.parameters()) == sum(p.numel() for p in twin.parameters())
    graphs = {v: onnx.load(run / f"results/export/{v}/onnx/best.onnx").graph for v in VARIANTS[1:]}
    assert [n.op_type for n in graphs["yolo26-w0.125-kd"].node] == [n.op_type for n in graphs["yolo26-w0.125"].node]


def test_changing_the_distillation_weight_retrains_the_student_only(run):
    cfg = write_config(run, "weight.yaml", lambda c: (levers(c), c["train"]["distill"].update(weight=3.0)))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    assert counts.get("train") == 1, counts
    assert counts.get("export") == 2 and counts.get("latency") == 3 and counts.get("speedup") == 3, counts
    assert "model_yaml" not in counts
