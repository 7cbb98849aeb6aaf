"""End-to-end: the same results whatever --cores: a fresh run at --cores 8 against the session's
tiny run (conftest.py's ``tiny_run``, --cores 2)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import make_workdir, snakemake

from yoloshrink import layout

pytestmark = pytest.mark.e2e

# the tiny config's narrow variant: both seeds' trainings, and its float and INT8 exports
# (.test/config.yaml names OpenVINO's INT8 setting: the export is a function of the model alone,
# where "auto" would keep whichever candidate timed faster)
FORMATS = ("onnx", "openvino-int8")
TARGETS = [layout.train_info("w0.125-seed1")] + [layout.accuracy_json("w0.125", t) for t in ("pytorch", *FORMATS)]


def test_cores_8_gives_the_models_and_scores_of_the_run_at_cores_2(request, tmp_path):
    """At --cores 8 both trainings of w0.125 (2 threads each, as the tiny config sets), then its
    exports and scoring jobs, are in flight together; in the tiny run (--cores 2) each training
    held both cores, one after the other. Models, exports and scores must be the same.

    The fresh run stops at the accuracy records: what follows (timing, the table, the report)
    is a function of those records and of the clock. The training threads are the config's in
    both runs: torch's results depend on its thread count, and Snakemake caps a job's threads at
    --cores (so --cores 1 would train differently by design, not by a bug).
    """
    import numpy as np
    import onnxruntime as ort
    import torch

    a = make_workdir(tmp_path / "cores8")
    snakemake(a, *TARGETS, "--configfile", ".test/config.yaml", cores=8)  # the targets before --configfile
    # the session's tiny run only now: this run needs nothing of it, and goes on beside it
    # instead of waiting for it first (the levers file, after this one, waits for both)
    b = request.getfixturevalue("tiny_run")
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
    for fmt in FORMATS:
        ea, eb = (json.loads((w / layout.export_dir("w0.125", fmt) / layout.EXPORT_RECORD).read_text()) for w in (a, b))
        assert ea["status"] == eb["status"] == "ok" and ea["size_bytes"] == eb["size_bytes"], fmt
    for target in ("pytorch", *FORMATS):
        sa, sb = (json.loads((w / layout.accuracy_json("w0.125", target)).read_text()) for w in (a, b))
        sa.pop("val_ms_per_image"), sb.pop("val_ms_per_image")  # a clock reading
        assert sa["status"] == "ok" and {"map50_95", "map50", "precision", "recall"} <= set(sa), sa
        assert sa == sb, target
