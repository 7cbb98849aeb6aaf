"""The report's words are computed from the table: checked on a hand-made table."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from yoloshrink import report


def table() -> pd.DataFrame:
    rows = []
    for variant, speed, m in (("w0.25", 1.0, 0.30), ("w0.125", 2.5, 0.20)):
        for target, p50 in (("pytorch", 40.0), ("onnx", 20.0)):
            rows.append(
                {
                    "variant": variant,
                    "target": target,
                    "threads": 1,
                    "status": "ok",
                    "p50_ms": p50 / speed,
                    "p90_ms": p50 / speed * 1.1,
                    "map50_95": m,
                    "speedup": speed,
                }
            )
    rows.append({**rows[-1], "target": "ncnn", "status": "failed", "p50_ms": 1.0, "map50_95": 0.9})
    return pd.DataFrame(rows)


SUMMARIES = {
    "w0.25": {"parameters": 3_011_238, "gflops_640": 8.1928},
    "w0.125": {"parameters": 912_830, "gflops_640": 2.8257},
}


def test_conclusions_carry_the_tables_numbers():
    (text,) = report.conclusions(table(), SUMMARIES, ["w0.25", "w0.125"])
    assert "3.3x fewer parameters" in text and "2.9x fewer FLOPs" in text
    assert "2.50x faster on ONNX Runtime at 1 thread(s)" in text
    assert "mAP50-95 -0.100 (0.200 vs 0.300, PyTorch)" in text


def test_budget_answers_pick_the_most_accurate_row_within_budget_and_skip_failed_rows():
    answers = report.budget_answers(table(), [5, 10, 25])
    assert answers[0].startswith("5 ms per frame, 1 thread(s): nothing fits; the fastest is w0.125 on onnx at 8.0 ms")
    assert "**w0.125** on onnx (mAP50-95 0.200, p50 8.0 ms" in answers[1]
    assert "**w0.25** on onnx (mAP50-95 0.300, p50 20.0 ms" in answers[2]


def test_pareto_front_keeps_only_non_dominated_rows():
    df = pd.DataFrame({"p50_ms": [1, 2, 3, 4], "map50_95": [0.1, 0.05, 0.3, 0.2]})
    assert report.pareto_front(df)["p50_ms"].tolist() == [1, 3]


def test_missing_variant_is_shown_not_dropped():
    infos = {
        "w0.25": {
            "status": "ok",
            "epochs_run": 3,
            "final_metrics": {},
            "optimizer_resolved": "AdamW",
            "lr0_resolved": 0.001,
        }
    }
    infos["w0.125"] = {"status": "failed", "error": "RuntimeError: NaN loss"}
    t = report.variant_table(["w0.25", "w0.125", "w0.0625"], SUMMARIES, infos)
    assert t["status"].tolist() == ["ok", "training failed: RuntimeError: NaN loss", "missing"]


def train_info(m5095: float, m50: float, p: float, r: float, status: str = "ok") -> dict:
    if status != "ok":
        return {"status": status, "error": "RuntimeError: NaN loss"}
    return {
        "status": "ok",
        "epochs_run": 3,
        "best_epoch": 3,
        "optimizer_resolved": "AdamW",
        "lr0_resolved": 0.001,
        "final_metrics": {
            "metrics/mAP50-95(B)": m5095,
            "metrics/mAP50(B)": m50,
            "metrics/precision(B)": p,
            "metrics/recall(B)": r,
        },
    }


def seed_runs(variants_and_seeds: dict[str, list[int]]) -> dict[str, dict]:
    """Run name -> {"variant", "seed", "primary"}, the workflow's naming (first seed primary)."""
    return {
        (v if s == seeds[0] else f"{v}-seed{s}"): {"variant": v, "seed": s, "primary": s == seeds[0]}
        for v, seeds in variants_and_seeds.items()
        for s in seeds
    }


RUNS = seed_runs({"w0.25": [0, 1, 2], "w0.125": [0, 1]})
INFOS = {
    "w0.25": train_info(0.30, 0.50, 0.6, 0.4),
    "w0.25-seed1": train_info(0.32, 0.55, 0.7, 0.4),
    "w0.25-seed2": train_info(0.34, 0.60, 0.8, 0.7),
    "w0.125": train_info(0.20, 0.35, 0.5, 0.3),
    "w0.125-seed1": train_info(0, 0, 0, 0, status="failed"),
}


def test_seed_stats_are_mean_and_sample_sd_over_completed_seeds():
    st = report.seed_stats(RUNS, INFOS)
    a = st.loc["w0.25"]
    # by hand: mAP50-95 0.30, 0.32, 0.34 -> mean 0.32, sd sqrt((0.02² + 0 + 0.02²) / 2) = 0.02
    assert a["n"] == 3 and a["seeds"] == [0, 1, 2] and a["primary_seed"] == 0
    assert a["map50_95_mean"] == pytest.approx(0.32) and a["map50_95_sd"] == pytest.approx(0.02)
    assert a["map50_mean"] == pytest.approx(0.55) and a["map50_sd"] == pytest.approx(0.05)
    assert a["precision_mean"] == pytest.approx(0.7) and a["precision_sd"] == pytest.approx(0.1)
    # recall 0.4, 0.4, 0.7 -> mean 0.5, sd sqrt((0.01 + 0.01 + 0.04) / 2) = sqrt(0.03)
    assert a["recall_mean"] == pytest.approx(0.5) and a["recall_sd"] == pytest.approx(math.sqrt(0.03))
    b = st.loc["w0.125"]  # the failed seed does not count: one seed, no sd
    assert b["n"] == 1 and b["n_runs"] == 2 and b["seeds"] == [0]
    assert b["map50_95_mean"] == pytest.approx(0.20) and math.isnan(b["map50_95_sd"])


def test_variant_table_shows_mean_sd_for_several_seeds_and_the_value_for_one():
    st = report.seed_stats(RUNS, INFOS)
    primary = {"w0.25": INFOS["w0.25"], "w0.125": INFOS["w0.125"]}
    t = report.variant_table(["w0.25", "w0.125"], SUMMARIES, primary, st).set_index("variant")
    assert t.loc["w0.25", "mAP50-95"] == "0.320 ± 0.020 (n=3)"
    assert t.loc["w0.25", "P"] == "0.700 ± 0.100 (n=3)"
    assert t.loc["w0.125", "mAP50-95"] == pytest.approx(0.20)  # one seed: the plain value
    assert "± " not in report.markdown_table(t.loc[["w0.125"]])
    assert t["benchmarked model"].tolist() == ["seed 0", "seed 0"]


def stats_for(values: dict[str, list[float]]):
    runs = seed_runs({v: list(range(len(ms))) for v, ms in values.items()})
    infos = {}
    for run, r in runs.items():
        infos[run] = train_info(values[r["variant"]][r["seed"]], 0.5, 0.5, 0.5)
    return report.seed_stats(runs, infos)


def test_seed_spread_sentence_says_larger_within_or_unknown():
    # baseline 0.30, 0.32, 0.34: mean 0.32, sd 0.02
    clear = stats_for({"base": [0.30, 0.32, 0.34], "v": [0.19, 0.20, 0.21]})
    # diff -0.12; 2 x sqrt(0.02²/3 + 0.01²/3) = 0.026
    (s,) = report.seed_spread_sentences(clear, ["base", "v"])
    assert "difference -0.120" in s and "larger than the seed-to-seed spread" in s and "= 0.026" in s
    small = stats_for({"base": [0.30, 0.32, 0.34], "v": [0.29, 0.31, 0.33]})
    (s,) = report.seed_spread_sentences(small, ["base", "v"])  # diff -0.01 < 2 x 0.0163
    assert "difference -0.010" in s and "within the seed-to-seed spread" in s
    one = stats_for({"base": [0.30, 0.32, 0.34], "v": [0.10]})
    (s,) = report.seed_spread_sentences(one, ["base", "v"])
    assert "unknown (one seed)" in s and "larger" not in s and "within" not in s


def test_budget_table_per_target_picks_the_most_accurate_variant_and_skips_failed_rows():
    df = table().assign(runtime=lambda d: d["target"].map({"pytorch": "torch", "onnx": "onnxruntime", "ncnn": "ncnn"}))
    df["precision"] = "f32"
    st = stats_for({"w0.25": [0.28, 0.30, 0.32], "w0.125": [0.2]})  # w0.25 sd 0.02, w0.125 one seed
    answers = report.budget_answers_per_target(df, [5, 10, 25, 50], st)
    (t,) = report.budget_tables(answers).values()
    # p50: w0.25 pytorch 40, onnx 20; w0.125 pytorch 16, onnx 8; the failed ncnn row (1 ms) is skipped
    assert t.columns.tolist() == ["budget", "pytorch", "onnx"]
    assert t["budget"].tolist() == ["5 ms", "10 ms", "25 ms", "50 ms"]
    assert t["pytorch"].tolist() == ["—", "—", "w0.125 0.200", "w0.25 0.300 ± 0.020"]
    assert t["onnx"].tolist() == ["—", "w0.125 0.200", "w0.25 0.300 ± 0.020", "w0.25 0.300 ± 0.020"]
    sentence = answers[(answers["target"] == "onnx") & (answers["budget_ms"] == 25)]["answer"].item()
    assert sentence == (
        "for a budget of 25 ms per frame on this CPU with runtime onnxruntime (target onnx, precision f32, "
        "1 thread(s)), the most accurate variant is w0.25 (mAP50-95 0.300 ± 0.020)."
    )
    overall = report.budget_answers(df, [25], st)
    assert "**w0.25** on onnx (mAP50-95 0.300 ± 0.020, p50 20.0 ms" in overall[0]


def test_non_dominated_variants_per_target_and_threads():
    df = pd.DataFrame(
        {
            "variant": ["a", "b", "c", "d", "a"],
            "target": ["onnx", "onnx", "onnx", "onnx", "onnx"],
            "threads": [1, 1, 1, 1, 2],
            "status": ["ok", "ok", "ok", "failed", "ok"],
            "p50_ms": [10.0, 5.0, 12.0, 1.0, 6.0],
            "map50_95": [0.30, 0.20, 0.25, 0.90, 0.30],
        }
    )  # c is slower and less accurate than a; d failed
    assert report.non_dominated(df) == {("onnx", 1): ["b", "a"], ("onnx", 2): ["a"]}
    nd = report.non_dominated_table(df)
    assert nd["non-dominated variants (fastest first)"].tolist() == ["b, a", "a"]


def test_build_report_reads_every_seed_and_writes_the_seed_aware_readme(tmp_path):
    train = tmp_path / "train"
    infos = []
    for run, info in INFOS.items():
        (train / run).mkdir(parents=True)
        (train / run / "train_info.json").write_text(json.dumps(info))
        if info["status"] == "ok":
            (train / run / "results.csv").write_text("epoch,metrics/mAP50-95(B)\n1,0.1\n2,0.2\n3,0.3\n")
        infos.append(train / run / "train_info.json")
    summaries = []
    for v, s in SUMMARIES.items():
        (tmp_path / "models" / v).mkdir(parents=True)
        (tmp_path / "models" / v / "summary.json").write_text(json.dumps(s))
        summaries.append(tmp_path / "models" / v / "summary.json")
    df = table().assign(format=lambda d: d["target"], precision="f32", imgsz=320, size_mb=1.0, error="")
    df["runtime"] = df["target"]
    df.to_csv(tmp_path / "benchmark.csv", index=False)
    out = tmp_path / "report"
    report.build_report(
        csv=tmp_path / "benchmark.csv",
        variants=["w0.25", "w0.125"],
        infos=infos,
        summaries=summaries,
        out_dir=out,
        imgsz={"w0.25": 320, "w0.125": 320},
        budgets_ms=[10, 25],
        runs=RUNS,
    )
    readme = (out / "README.md").read_text()
    assert "w0.125 vs w0.25: mAP50-95 difference -0.120" in readme and "unknown (one seed)" in readme
    assert "Only the primary seed's model (seed 0) of each variant is exported and benchmarked" in readme
    assert "one seed per variant, so" not in readme
    assert "| 0.320 ± 0.020 (n=3) |" in readme
    assert "## Non-dominated variants per target" in readme and "| onnx |" in readme
    assert "| 25 ms | w0.125 0.200 | w0.25 0.300 ± 0.020 |" in readme
    assert "input 320 px" in readme
    assert (out / "accuracy_vs_latency.png").stat().st_size > 0
    # without ``runs``: one info per variant (the layout before seeds), one size for all
    primary = [train / v / "train_info.json" for v in ("w0.25", "w0.125")]
    report.build_report(tmp_path / "benchmark.csv", ["w0.25", "w0.125"], primary, summaries, out, imgsz=320)
    readme = (out / "README.md").read_text()
    assert "One completed training seed per variant" in readme and " ± " not in readme
    assert "| w0.25 | 3011238 | 8.193 | 3 | 3 | 0.600 | 0.400 | 0.500 | 0.300 |" in readme


def test_floor_table_divides_operations_by_the_measured_roof():
    df = pd.DataFrame(
        [
            {
                "variant": "w0.125",
                "threads": 1,
                "imgsz": 640,
                "status": "ok",
                "target": "onnx",
                "precision": "f32",
                "gflops": 2.8,
                "peak_gflops": 87.0,
                "p50_ms": 47.8,
                "fraction_of_peak": 0.67,
            },
            {
                "variant": "w0.125",
                "threads": 1,
                "imgsz": 640,
                "status": "ok",
                "target": "openvino-int8",
                "precision": "int8",
                "gflops": 2.8,
                "peak_gflops": 140.0,
                "p50_ms": 29.7,
                "fraction_of_peak": 0.67,
            },
            {
                "variant": "w0.125",
                "threads": 1,
                "imgsz": 640,
                "status": "failed",
                "target": "ncnn",
                "precision": "f32",
                "gflops": 2.8,
                "peak_gflops": 87.0,
                "p50_ms": 1.0,
                "fraction_of_peak": 9.9,
            },
        ]
    )
    (row,) = report.floor_table(df).to_dict("records")
    assert row["fp32 floor ms"] == pytest.approx(2.8 / 87 * 1000) and row["int8 floor ms"] == pytest.approx(20.0)
    assert row["fastest"] == "openvino-int8 (int8)" and row["p50 ms"] == 29.7  # the failed row is ignored
