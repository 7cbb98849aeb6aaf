"""End-to-end: the same results whatever --cores, from two fresh runs of the tiny config."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import make_workdir, snakemake, write_config

from yoloshrink import layout

pytestmark = pytest.mark.e2e


def pin_threads_fewer_formats(cfg: dict) -> None:
    """The tiny config with 1 training thread, one width trained with two seeds and two formats
    (one calibrated): both trainings and then the exports in flight together at --cores 8, in
    a fraction of the time."""
    cfg["train"]["threads"] = 1
    cfg["train"]["seeds"] = [0, 1]
    cfg["model"]["widths"] = [0.125]
    cfg["export"]["formats"] = ["onnx", "openvino-int8"]
    # "auto" keeps the fastest INT8 setting, and near-ties may go either way between two runs:
    # a named setting makes the INT8 export a function of the model alone
    cfg["export"]["quantize"] = {"choose": {"openvino-int8": "ultralytics"}}


def test_cores_8_and_cores_1_give_the_same_results(tmp_path):
    """Two fresh runs: --cores 8 (both trainings, the exports and the scoring jobs in flight
    together) and --cores 1 (one job at a time) must produce the same models and scores.

    Both stop at the accuracy records: what follows (timing, the table, the report) is a
    function of those records and of the clock, and would only add minutes. Training threads
    are pinned to 1 in both: torch's results depend on its thread count (its reductions are
    split differently), and Snakemake caps a job's threads at --cores, so the default config
    would compare different trainings.
    """
    import numpy as np
    import onnxruntime as ort
    import torch

    runs = {}
    for cores in (8, 1):
        work = make_workdir(tmp_path / f"cores{cores}")
        cfg = write_config(work, "pinned.yaml", pin_threads_fewer_formats)
        targets = [layout.train_info("w0.125-seed1")]
        targets += [layout.accuracy_json("w0.125", t) for t in ("pytorch", "onnx", "openvino-int8")]
        snakemake(work, *targets, "--configfile", cfg, cores=cores)  # the targets before --configfile
        runs[cores] = work
    a, b = runs[8], runs[1]
    for rel in ("results/dataset/summary.json", "results/dataset/data.yaml"):
        assert (a / rel).read_text().replace(str(a), "") == (b / rel).read_text().replace(str(b), ""), rel
    x = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    assert (a / "results/models/w0.125/model.yaml").read_bytes() == (
        b / "results/models/w0.125/model.yaml"
    ).read_bytes()
    for v in ("w0.125", "w0.125-seed1"):  # the two trainings
        sa, sb = (
            torch.load(w / f"results/train/{v}/weights/best.pt", weights_only=False)["model"].state_dict()
            for w in (a, b)
        )
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), f"{v}: weights differ"
        ra, rb = (pd.read_csv(w / f"results/train/{v}/results.csv").drop(columns="time") for w in (a, b))
        pd.testing.assert_frame_equal(ra, rb)
    outs = []
    for w in (a, b):
        onnx = next((w / "results/export/w0.125/onnx").glob("*.onnx"))
        sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
        outs.append(sess.run(None, {sess.get_inputs()[0].name: x})[0])
    assert np.array_equal(*outs), "the exported ONNX models disagree"
    assert (a / layout.model_summary("w0.125")).read_text() == (b / layout.model_summary("w0.125")).read_text()
    for fmt in ("onnx", "openvino-int8"):
        ea, eb = (json.loads((w / layout.export_dir("w0.125", fmt) / layout.EXPORT_RECORD).read_text()) for w in (a, b))
        assert ea["status"] == eb["status"] == "ok" and ea["size_bytes"] == eb["size_bytes"], fmt
    for target in ("pytorch", "onnx", "openvino-int8"):
        sa, sb = (json.loads((w / layout.accuracy_json("w0.125", target)).read_text()) for w in (a, b))
        sa.pop("val_ms_per_image"), sb.pop("val_ms_per_image")  # a clock reading
        assert sa["status"] == "ok" and {"map50_95", "map50", "precision", "recall"} <= set(sa), sa
        assert sa == sb, target
