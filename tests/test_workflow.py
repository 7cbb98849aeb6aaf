"""End-to-end: the real Snakefile on the tiny config (.test/config.yaml), then caching checks.

The tests read the session's tiny run (conftest.py's ``tiny_run``, a few minutes on 2 cores,
built once for every file that uses it) and assert on its real outputs. Caching tests are dry
runs against the finished run with an edited config; tests that change a run are in
tests/test_workflow_changes.py and tests/test_host_venv.py, on copies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import (
    FORMATS,
    RUNS,
    TARGETS,
    VARIANTS,
    job_counts,
    no_network_prefix,
    recorded_jobs,
    snakemake,
    timed_targets,
    write_config,
)

from yoloshrink import layout
from yoloshrink.bench.runners import timed_as

pytestmark = pytest.mark.e2e


AIRGAP = no_network_prefix()  # what conftest.py's tiny_run ran under


@pytest.fixture
def run(tiny_run) -> Path:
    return tiny_run


def test_the_run_was_air_gapped(run):
    if not AIRGAP:
        pytest.skip("unshare --net is not available to this user: the run had the machine's network")
    probe = subprocess.run(
        [*AIRGAP, sys.executable, "-c", "import socket; socket.create_connection(('1.1.1.1', 443), 2)"],
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0 and "unreachable" in probe.stderr.lower(), probe.stderr[-500:]
    assert (run / "results/benchmark.csv").exists()


def test_every_stage_produced_real_files(run):
    for r in RUNS:
        info = yaml.safe_load((run / f"results/train/{r}/train_info.json").read_text())
        assert info["status"] == "ok" and info["train_args"]["seed"] == (1 if r.endswith("seed1") else 0), r
    for v in VARIANTS:
        assert (run / f"results/train/{v}/weights/best.pt").stat().st_size > 100_000
        assert list((run / f"results/train/{v}").glob("events.out.tfevents.*")), "TensorBoard events missing"
        info = yaml.safe_load((run / f"results/train/{v}/train_info.json").read_text())
        assert info["optimizer_resolved"] in {"AdamW", "SGD", "MuSGD"} and info["lr0_resolved"] > 0
        assert info["torch_threads_at_start"] == 2
        summary = yaml.safe_load((run / f"results/models/{v}/summary.json").read_text())
        assert summary["parameters"] == {"w0.25": 3_011_238, "w0.125": 912_830}[v]
        for fmt in FORMATS[1:]:
            rec = yaml.safe_load((run / f"results/export/{v}/{fmt}/export.json").read_text())
            assert rec["status"] == "ok", rec
            assert (run / f"results/export/{v}/{fmt}" / rec["artefact"]).exists()
    assert not list((run / "results/train").glob(".partial/*")), "partial training left behind"


def test_exported_models_load_and_run(run):
    import numpy as np

    from yoloshrink.bench import runners

    lb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)  # a letterboxed frame
    for fmt in FORMATS:
        model = runners.resolve_model(
            fmt,
            run / ("results/train/w0.125/train_info.json" if fmt == "pytorch" else f"results/export/w0.125/{fmt}"),
        )
        runner = runners.make_runner(fmt, model, threads=1)
        y = runner.to_numpy(runner.run(runner.prepare(lb)))
        assert y.shape[:2] == (1, 6), (fmt, y.shape)  # 4 box coordinates + 2 classes


def test_benchmark_csv_has_every_row_with_positive_figures(run):
    df = pd.read_csv(run / "results/benchmark.csv")
    assert list(df.columns) == layout.BENCHMARK_COLUMNS
    # one row per thing run: OpenVINO's default precision is bf16 or f32 here, and its row is that target's
    timed = {t: timed_as(t) for t in TARGETS}
    rows = timed_targets()
    assert "openvino" not in rows and "openvino-f32" in rows, timed
    assert len(df) == len(VARIANTS) * len(rows)
    assert set(zip(df["variant"], df["target"], strict=True)) == {(v, t) for v in VARIANTS for t in rows}
    aliases = df.set_index(["variant", "target"])["aliases"].fillna("")
    for t, same in timed.items():
        if same != t:
            assert all(t in aliases[(v, same)].split(",") for v in VARIANTS), (t, same, aliases)
    assert (df["status"] == "ok").all(), df[df["status"] != "ok"][["variant", "format", "error"]]
    for col in ("p50_ms", "p90_ms", "mean_ms", "e2e_p50_ms", "size_mb", "gflops", "gflops_per_s", "parameters"):
        assert (df[col] > 0).all(), col
    assert (df["p90_ms"] >= df["p50_ms"]).all()
    assert (df["n_runs"] >= 5).all()
    assert df["map50_95"].between(0, 1).all() and df["map50"].between(0, 1).all()
    assert (df["threads"] == 1).all()
    assert set(df["precision"]) <= {"f32", "bf16", "f16", "int8"}, set(df["precision"])
    assert (df[df["target"].str.endswith("-int8")]["precision"] == "int8").all()
    assert (df[df["target"].str.endswith("-int8")]["size_mb"] < df[df["target"] == "onnx"]["size_mb"].max() / 2).all()
    assert (df[df["target"] == "openvino-f32"]["precision"] == "f32").all()
    # the measured roof is a reference (a runtime may beat torch's GEMM); the theoretical peak is a
    # bound, and a 64-px model at batch 1 is nowhere near it
    assert (df["fraction_of_peak"] > 0).all()
    assert (df["theoretical_gflops"] > 0).all()
    assert df["fraction_of_theoretical"].between(0, 1).all()
    assert df["environment"].nunique() == 1
    pt = df[df["target"] == "pytorch"]
    assert (pt["map50_95_delta"] == 0).all()
    assert (df[df["variant"] == "w0.25"]["speedup"] == 1).all()  # the baseline
    assert (df["speedup_verdict"][df["variant"] == "w0.25"] == "baseline").all()
    narrow = df[df["variant"] == "w0.125"]
    assert narrow["speedup"].notna().all() and (narrow["speedup_rounds"] >= 4).all()  # .test: min_rounds 4
    assert (narrow["speedup_ci_low"] <= narrow["speedup"]).all() and (
        narrow["speedup"] <= narrow["speedup_ci_high"]
    ).all()
    assert set(narrow["speedup_verdict"]) <= {"faster", "slower", "no measurable difference"}
    assert ((df["p50_ci_low_ms"] <= df["p50_ms"]) & (df["p50_ms"] <= df["p50_ci_high_ms"])).all()
    assert (df["rounds"] >= 4).all() and (df["warmup_calls"] >= 2).all()
    assert df["cpus"].astype(str).str.fullmatch(r"\d+").all()  # 1 thread: pinned to one core
    # the whole frame: its stages, timed inside the same call, add up to it (means are additive)
    for col in ("pre_p50_ms", "infer_p50_ms", "post_p50_ms", "pre_mean_ms", "infer_mean_ms", "post_mean_ms"):
        assert (df[col] > 0).all(), col
    stages = df["pre_mean_ms"] + df["infer_mean_ms"] + df["post_mean_ms"]
    assert ((stages - df["e2e_mean_ms"]).abs() <= 1e-3 * df["e2e_mean_ms"]).all()
    assert set(df["dominant_stage"]) <= {"pre", "infer", "post"}
    overhead = (df["e2e_p50_ms"] - df["p50_ms"]) / df["p50_ms"]
    assert ((df["e2e_overhead"] - overhead).abs() <= 1e-4).all()  # the CSV keeps 6 significant digits
    paths = dict(zip(df["target"], df["input_path"], strict=False))
    assert paths["openvino-f32"] == "uint8 NHWC, PrePostProcessor" and paths["ncnn"] == "ncnn.Mat.from_pixels"
    assert paths["onnx"] == paths["pytorch"] == "cv2.dnn.blobFromImage"
    assert set(df["post_path"]) == {"cv2.dnn.NMSBoxesBatched"}


def test_speedups_come_with_their_pairs_p50s_and_each_runtime_with_its_a_a_control(run):
    df = pd.read_csv(run / "results/benchmark.csv")
    assert (df["sessions"] == 1).all()  # .test: sessions 1, a process of its own
    narrow, base = df[df["variant"] == "w0.125"], df[df["variant"] == "w0.25"]
    # the speed-up is the quotient of the pair's own p50s (the CSV keeps 6 significant digits)
    quotient = narrow["pair_baseline_p50_ms"] / narrow["pair_p50_ms"]
    assert ((quotient / narrow["speedup"] - 1).abs() < 1e-4).all()
    for side in ("pair_", "pair_baseline_"):
        assert (narrow[f"{side}p50_ci_low_ms"] <= narrow[f"{side}p50_ms"]).all()
        assert (narrow[f"{side}p50_ms"] <= narrow[f"{side}p50_ci_high_ms"]).all()
    # each model's p50 in the pair against its own row, and the flag that compares their intervals
    own = base.set_index("target")["p50_ms"]
    slow = narrow["pair_baseline_p50_ms"] / narrow["target"].map(own)
    assert ((slow / narrow["baseline_pair_slowdown"] - 1).abs() < 1e-4).all()
    assert set(narrow["pair_interference"].astype(str)) <= {"True", "False"}
    assert base["pair_p50_ms"].isna().all() and base["pair_interference"].isna().all()
    # the A/A control: one per runtime, on every row of that runtime
    assert df["control_speedup"].notna().all(), df[["target", "control_target"]]
    per_runtime = df.groupby("runtime")["control_target"].nunique()
    assert (per_runtime == 1).all() and set(per_runtime.index) == {"torch", "onnxruntime", "openvino", "ncnn"}
    assert set(df["control_target"]) == {"pytorch", "onnx", timed_as("openvino"), "ncnn"}
    inside = (df["control_ci_low"] <= 1) & (df["control_ci_high"] >= 1)
    assert (df["control_passed"] == inside).all()
    records = sorted((run / "results/benchmark/w0.25").glob("*/control_t1.json"))
    assert [p.parent.name for p in records] == sorted(["pytorch", "onnx", "openvino", "ncnn"])
    report = (run / "results/report/README.md").read_text()
    assert "## Speed-ups, and the method's own check" in report
    assert report.count("**A/A control**") == 4


def test_auto_int8_tried_every_candidate_and_kept_the_fastest_within_the_tolerance(run):
    from yoloshrink import quantize

    df = pd.read_csv(run / "results/benchmark.csv")
    for v in VARIANTS:
        named = json.loads((run / f"results/export/{v}/openvino-int8/export.json").read_text())["quantizer"]
        assert named["choose"] == named["chosen"] == "performance" and "p50_ms" not in named["candidates"][0]
        assert df[(df["variant"] == v) & (df["target"] == "openvino-int8")]["int8_setting"].tolist() == ["performance"]
        for fmt in ("onnx-int8",):
            q = json.loads((run / f"results/export/{v}/{fmt}/export.json").read_text())["quantizer"]
            assert q["choose"] == "auto" and q["threads"] == 1 and q["images"] == 8  # .test: 8 calibration images
            assert {c["name"] for c in q["candidates"]} == {"ultralytics", "qop-u8s8"}  # .test's own candidates
            assert all(
                c["settings"] == quantize.check_candidates(fmt, {"x": c["settings"]}, "")["x"] for c in q["candidates"]
            )
            ok = [c for c in q["candidates"] if c["status"] == "ok"]
            assert len(ok) == len(q["candidates"]), [c.get("error") for c in q["candidates"]]
            assert all(c["p50_ms"] > 0 and c["map50_95_drop"] == c["map50_95_drop"] for c in ok)
            within = [c for c in ok if c["map50_95_drop"] <= q["tolerance"]]
            expected = min(within, key=lambda c: c["p50_ms"]) if within else max(ok, key=lambda c: c["map50_95"])
            assert q["chosen"] == expected["name"]
            row = df[(df["variant"] == v) & (df["target"] == fmt)].iloc[0]
            assert row["int8_setting"] == q["chosen"]
            assert all(f"{c['name']} " in row["int8_tried"] for c in q["candidates"])


def test_report_images_are_valid(run):
    from PIL import Image

    report = run / "results/report"
    for name in ("training_curves.png", "accuracy_vs_latency.png", "latency.png", "size.png", "predictions.png"):
        with Image.open(report / name) as im:
            im.verify()
        with Image.open(report / name) as im:
            assert im.size[0] > 300 and im.size[1] > 200
            assert len(set(im.convert("L").getdata())) > 10, f"{name} looks blank"
    text = (report / "README.md").read_text()
    assert "w0.125" in text and "fewer parameters" in text
    assert "The measured reference roof is the best of 5 2048x2048 matrix products" in text
    assert "no runtime can beat" not in text or "The theoretical peak is a bound no runtime can beat" in text
    assert "Budgets are per frame" in text and "ms per frame, 1 thread(s)" in text
    assert "## The whole frame" in text and "the fastest frame is" in text
    assert "## INT8 on this CPU" in text and text.count("candidates, scored on 8 calibration images") == 2  # onnx


def test_the_readme_answers_first_and_every_ratio_it_states_is_its_csv_columns(run):
    from report_check import check_readme

    text = (run / "results/report/README.md").read_text()
    assert text.split("\n## ")[1].startswith("The answer: what each model costs in accuracy and buys in speed")
    bad, checked = check_readme(text, pd.read_csv(run / "results/benchmark.csv"))
    assert bad == []
    assert checked["answer rows"] == len(VARIANTS) and checked["answer sentences"] == len(VARIANTS) - 1, checked
    assert checked["speed-up rows"] > 0 and checked["conclusion speed-ups"] == len(VARIANTS) - 1, checked
    # the HTML report's summary page: the README rendered, with the answer and the budget table
    page = (run / "results/report/summary.html").read_text()
    assert "<h2>The answer: what each model costs" in page and "<h2>Which model for my latency budget?</h2>" in page


TIMING_RULES = {
    "latency",
    "speedup",
    "control",
    "machine_peak",
    "ultralytics_crosscheck",
    "quantize",
}  # quantize: "auto"
CONTROLS = 4  # the A/A control per runtime: torch, onnxruntime, openvino, ncnn


def test_no_timing_job_overlaps_any_other_job(run):
    """The tiny config times 1 thread on a 2-core run: a timing job must still run alone."""
    jobs = recorded_jobs(run)
    # a quantize job times (and holds every core) when it chooses "auto": .test's onnx-int8
    timing = [
        j
        for j in jobs
        if j["rule"] in TIMING_RULES - {"quantize"} or (j["rule"] == "quantize" and "onnx-int8" in j["outputs"][0])
    ]
    # latency per variant and target, speed-up of w0.125 per target, the controls, machine_peak, the
    # "auto" INT8 exports
    expected = len(VARIANTS) * len(TARGETS) + len(TARGETS) + CONTROLS + 1 + len(VARIANTS)
    assert len(timing) == expected, [j["rule"] for j in jobs]
    assert len(jobs) > len(timing) + 10  # the dataset, models, trainings, exports, scores, aggregates
    for t in timing:
        for other in jobs:
            if other is t:
                continue
            overlap = min(t["end"], other["end"]) - max(t["start"], other["start"])
            assert overlap <= 0, f"{t['rule']} ran {overlap:.2f} s beside {other['rule']}"


def test_finished_run_reruns_nothing(run):
    out = snakemake(run, "--configfile", ".test/config.yaml", "--dry-run")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_a_deleted_job_record_is_made_again_by_a_plain_run(run):
    """Issue 28: with the CSV and the README up to date, a latency record that is gone (deleted,
    or never written by a job killed together with Snakemake) is timed again, and what reads it
    follows (the environment record, the table, the report); nothing else."""
    record = next((run / "results" / "benchmark").glob("*/onnx/latency_t1.json"))
    aside = run / "latency-aside.json"
    record.rename(aside)
    try:
        counts = job_counts(snakemake(run, "--configfile", ".test/config.yaml", "--dry-run").stdout)
    finally:
        aside.rename(record)
    # (the environment record is made from the latency records: it follows too)
    assert counts == {"latency": 1, "environment": 1, "benchmark_table": 1, "report": 1, "all": 1}, counts


def test_adding_a_width_trains_exactly_one_model(run):
    cfg = write_config(run, "more.yaml", lambda c: c["model"].update(widths=[0.25, 0.125, 0.0625]))
    out = snakemake(run, "--configfile", cfg, "--dry-run")
    counts = job_counts(out.stdout)
    assert counts.get("train") == 2, counts  # one per seed
    assert counts.get("model_yaml") == 1
    assert counts.get("export") == 4 and counts.get("quantize") == 2  # float formats; INT8 ones
    assert counts.get("accuracy") == 9 and counts.get("latency") == 9
    assert counts.get("speedup") == 9  # the new width against the baseline, per target: nothing else re-timed
    assert "builtin_dataset" not in counts and "prepare_dataset" not in counts and "control" not in counts


def test_benchmark_settings_retrain_and_reexport_nothing(run):
    cfg = write_config(run, "bench.yaml", lambda c: c["benchmark"].update(min_runs=7))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    assert counts.get("latency") == 18 and counts.get("speedup") == 9 and counts.get("control") == CONTROLS, counts
    assert not {"train", "export", "quantize", "model_yaml", "accuracy", "builtin_dataset"} & set(counts)
    # the parity tolerance decides which INT8 candidate is kept: only the INT8 choices rerun
    cfg = write_config(run, "parity.yaml", lambda c: c["benchmark"].update(parity_tolerance=0.5))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    # (the ONNX INT8 exports choose by "auto"; .test names OpenVINO's setting, which no tolerance changes)
    assert counts.get("quantize") == 2 and counts.get("accuracy") == 2 and counts.get("latency") == 2, counts
    assert not {"train", "export", "model_yaml", "builtin_dataset"} & set(counts), counts


def test_a_float_export_argument_reexports_its_int8_format_from_it(run):
    """The quantize rule takes the float export as its input: the INT8 model follows the file the
    float rows time (a new ONNX argument re-exports ONNX and re-quantizes ONNX INT8, nothing else)."""
    cfg = write_config(run, "opset.yaml", lambda c: c["export"].update(args={"onnx": {"opset": 17}}))
    out = snakemake(run, "--configfile", cfg, "--dry-run").stdout
    counts = job_counts(out)
    assert counts.get("export") == 2 and counts.get("quantize") == 2, counts  # onnx, onnx-int8 per variant
    assert not {"train", "model_yaml"} & set(counts), counts
    assert not [line for line in out.splitlines() if line.strip().startswith("output:") and "openvino" in line]


def test_growing_the_grid_trains_only_new_points(run):
    cfg = write_config(run, "heads.yaml", lambda c: c["model"].update(heads=["P3-P5", "P3-P4"]))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    assert counts.get("train") == 4 and counts.get("model_yaml") == 2, counts  # w*-p34, two seeds each
    assert counts.get("export") == 8 and counts.get("quantize") == 4, counts  # 2 new variants x 4 + 2
    assert counts.get("latency") == 18, counts  # x 9
    assert counts.get("speedup") == 18, counts  # each new variant against the baseline, x 9 targets
    cfg = write_config(run, "seeds.yaml", lambda c: c["train"].update(seeds=[0, 1, 2]))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    assert counts.get("train") == 2, counts  # only seed 2 of each variant; seed 0's model is benchmarked
    assert not {"export", "quantize", "latency", "speedup", "accuracy", "model_yaml", "benchmark_table"} & set(
        counts
    ), counts
    assert counts.get("report") == 1
    cfg = write_config(run, "export128.yaml", lambda c: c["export"].update(imgsz=128))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    assert not {"train", "model_yaml"} & set(counts), counts  # a new export size retrains nothing
    assert counts.get("export") == 8 and counts.get("quantize") == 4 and counts.get("latency") == 18, counts


def test_adding_a_family_schedules_only_its_trainings_exports_and_timings(run):
    cfg = write_config(run, "family.yaml", lambda c: c["model"].update(families=["yolov8", "yolo26"]))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    assert counts.get("train") == 4 and counts.get("model_yaml") == 2, counts  # yolo26-w0.25/-w0.125 x 2 seeds
    assert counts.get("export") == 8 and counts.get("quantize") == 4, counts
    assert counts.get("accuracy") == 18 and counts.get("latency") == 18, counts
    assert counts.get("speedup") == 18, counts  # each new variant against the baseline, w0.25
    assert not {"builtin_dataset", "prepare_dataset", "machine_peak", "control"} & set(counts), counts


def test_switching_distillation_on_trains_only_the_students(run):
    cfg = write_config(run, "kd.yaml", lambda c: c["train"].update(distill={"teacher": "w0.25", "weight": 6.0}))
    counts = job_counts(snakemake(run, "--configfile", cfg, "--dry-run").stdout)
    assert counts.get("train") == 2 and counts.get("model_yaml") == 1, counts  # w0.125-kd, two seeds
    assert counts.get("export") == 4 and counts.get("quantize") == 2, counts
    assert counts.get("latency") == 9 and counts.get("speedup") == 9, counts


def test_int8_rows_are_scored_against_fp32(run):
    df = pd.read_csv(run / "results/benchmark.csv")
    int8 = df[df["precision"] == "int8"]
    assert set(int8["target"]) == {"onnx-int8", "openvino-int8"} and (int8["status"] == "ok").all()
    assert int8["map50_95_delta"].notna().all() and int8["peak_gflops"].notna().all()
    peak = json.loads((run / "results/benchmark/peak.json").read_text())["peaks"]["1"]
    assert (int8["peak_gflops"] == peak["int8_gops"]).all() and peak["int8_gops"] > 0
    calib = yaml.safe_load((run / "results/dataset/calibration/data.yaml").read_text())
    images = sorted((run / "results/dataset/calibration/images").iterdir())
    assert calib["n_images"] == len(images) == 8 and all("/train/" in str(p.resolve()) for p in images)
    assert len(list((run / "results/dataset/calibration/labels").glob("*.txt"))) >= 1
    assert not list((run / "resources/datasets/builtin").rglob("*.cache")), "the source was written"
    report = (run / "results/report/README.md").read_text()
    assert "± " in report and "(n=2)" in report  # two seeds: mean ± sd in the variant table
    assert "Non-dominated variants per target" in report


def test_bad_width_fails_before_any_job(run):
    cfg = write_config(run, "bad.yaml", lambda c: c["model"].update(widths=[0.25, -0.5]))
    out = snakemake(run, "--configfile", cfg, "--dry-run", check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "model.widths.1: -0.5 is invalid" in text, text[-2000:]
    assert "Select jobs to execute" not in text and not (run / "results/models/w-0.5").exists()


@pytest.fixture(scope="module")
def html_report(tiny_run, tmp_path_factory) -> Path:
    """``snakemake --report`` of the tiny run, written outside the shared run (others copy it)."""
    out = tmp_path_factory.mktemp("html") / "report.html"
    snakemake(tiny_run, "--configfile", ".test/config.yaml", "--report", str(out))
    return out


def test_html_report_is_self_contained(html_report):
    html = html_report.read_text(errors="replace")
    assert len(html) > 100_000
    for name in ("training_curves.png", "accuracy_vs_latency.png", "latency.png", "predictions.png", "benchmark.csv"):
        assert name in html, name
    assert "Pareto front" in html  # a caption made it in
    assert "summary.html" in html  # the README, rendered, under "Summary"
    assert "The answer: what each model costs in accuracy and buys in speed" in html  # on the front page
    # the description is prose from the config (.test: every format, both widths, one seed)
    assert "width multiples 0.25, 0.125" in html and "INT8-quantized for onnx-int8, openvino-int8" in html
    assert "seeds 0, 1 (the first seed's model is exported)" in html and "[0.25, 0.125]" not in html


def browser() -> str | None:
    """A headless-capable Chromium or Chrome on this machine (Debian's package: `chromium`)."""
    import shutil

    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.mark.browser
def test_the_html_report_opens_on_the_answer_and_the_budget_table_in_a_browser(html_report, tmp_path):
    """Opened in a real headless browser, the report's front page (what a user sees first, the
    page its scripts draw) shows the answer table, the conclusions and the budget answers."""
    exe = browser()
    if exe is None:
        pytest.skip("no Chromium here: `apt-get install chromium` (Debian), as .ci/run does")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path}"]
    cmd += ["--virtual-time-budget=15000", "--dump-dom", html_report.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True).stdout
    # what the page's scripts drew (the front page's prose block), not the data they carry
    assert 'class="prose' in dom, "the report's scripts drew no front page"
    start = dom.index('class="prose')
    page = dom[start : dom.find("<script", start)]
    assert "<h2>The answer: what each model costs in accuracy and buys in speed" in page, page[:2000]
    assert "<th>network-call speed-up, timed in turns (95 % CI)</th>" in page  # the answer table, as a table
    assert "<h2>Conclusions, every target</h2>" in page and "<h2>Which model for my latency budget?</h2>" in page
    assert "<th>budget</th>" in page  # the budget table, as a table
