"""End-to-end: changes to a finished tiny run, each on a copy of the session's run (conftest.py's
``tiny_run``, which other files read): a failed training and a broken format give failed rows,
and a training killed mid-way leaves nothing complete and finishes on the rerun.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helpers import (
    FORMATS,
    SNAKEMAKE,
    TARGETS,
    VARIANTS,
    copy_run,
    job_counts,
    snakemake,
    timed_targets,
    workflow_env,
    write_config,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def run(tiny_run) -> Path:
    return tiny_run


def test_failed_training_and_broken_format_give_failed_rows_not_a_crash(run, tmp_path):
    work = copy_run(run, tmp_path / "copy")  # mtimes kept: only the edited branches rerun
    cfg = write_config(work, "broken.yaml", lambda c: c["export"].update(args={"onnx": {"opset": 5}}))
    # a training that fails: w0.125's model definition is broken (newer than its training)
    (work / "results/models/w0.125/model.yaml").write_text("backbone: [[-1, 1, NoSuchModule, [16]]]\n")
    counts = job_counts(snakemake(work, "--configfile", cfg, "--dry-run").stdout)
    # w0.125's two seeds retrain; its six formats and w0.25's onnx re-export, and w0.25's ONNX INT8
    # is quantized again from that onnx export (the quantize rule's input)
    assert counts.get("train") == 2 and counts.get("export") == 5 and counts.get("quantize") == 3, counts
    snakemake(work, "--configfile", cfg)
    df = pd.read_csv(work / "results/benchmark.csv")
    assert len(df) == len(VARIANTS) * len(timed_targets())
    narrow = df[df["variant"] == "w0.125"]
    assert (narrow["status"] == "failed").all() and narrow["error"].str.contains("training failed").all()
    assert narrow["speedup"].isna().all() and narrow["speedup_verdict"].str.startswith("not measured").all()
    wide = df[df["variant"] == "w0.25"]
    onnx = wide[wide["target"].isin(["onnx", "onnx-int8"])]  # the INT8 one: its float export failed
    assert len(onnx) == 2 and (onnx["status"] == "failed").all(), onnx
    assert onnx["error"].str.contains("opset").all(), onnx["error"]
    assert (wide[~wide["target"].isin(["onnx", "onnx-int8"])]["status"] == "ok").all()
    report = (work / "results/report/README.md").read_text()
    assert "Failed rows" in report and "training failed" in report
    assert "w0.125" in report.split("## Variants", 1)[1].split("##", 1)[0]  # shown as missing, not dropped


def test_job_killed_mid_training_leaves_nothing_complete_and_rerun_finishes(run, tmp_path):
    import signal
    import time

    import psutil

    work = copy_run(run, tmp_path / "kill")
    info = work / "results/train/w0.125/train_info.json"
    cmd = [
        str(SNAKEMAKE),
        "--cores",
        "2",
        "--configfile",
        ".test/config.yaml",
        "--forcerun",
        str(info.relative_to(work)),
    ]
    proc = subprocess.Popen(cmd, cwd=work, env=workflow_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = work / "results/train/.partial/w0.125"
    deadline = time.time() + 300
    while time.time() < deadline and not (partial / "weights" / "last.pt").exists():
        time.sleep(0.2)
    jobs = [p for p in psutil.Process(proc.pid).children(recursive=True) if ".train.py" in " ".join(p.cmdline())]
    assert jobs, "the training job was not found running"
    for job in jobs:
        job.send_signal(signal.SIGKILL)  # the job dies mid-way; snakemake sees it fail
    assert proc.wait(timeout=120) != 0
    assert not info.exists(), "a killed training must not look complete"
    counts = job_counts(snakemake(work, "--configfile", ".test/config.yaml", "--dry-run").stdout)
    assert counts.get("train") == 1, counts  # only the killed training (and what follows it) reruns
    # the rerun finishes the training; what depends on it (and only that) is then stale
    snakemake(work, str(info.relative_to(work)), "--configfile", ".test/config.yaml")
    assert json.loads(info.read_text())["status"] == "ok"
    assert not (work / "results/train/.partial/w0.125").exists()
    counts = job_counts(snakemake(work, "--configfile", ".test/config.yaml", "--dry-run").stdout)
    int8 = [f for f in FORMATS[1:] if f.endswith("-int8")]
    assert "train" not in counts and counts.get("export") == len(FORMATS) - 1 - len(int8), counts
    assert counts.get("quantize") == len(int8), counts
    assert counts.get("latency") == len(TARGETS) and counts.get("speedup") == len(TARGETS), counts
    assert "model_yaml" not in counts, counts
