"""The report's words are computed from the table: checked on a hand-made table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from yoloshrink.report import analysis, build, figures, markdown, seeds
from yoloshrink.report import text as words

REPO = Path(__file__).resolve().parent.parent


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
    (text,) = words.conclusions(table(), SUMMARIES, ["w0.25", "w0.125"], "w0.25")
    assert "3.3x fewer parameters" in text and "2.9x fewer FLOPs" in text
    assert "2.50x faster on ONNX Runtime at 1 thread(s)" in text
    assert "mAP50-95 -0.100 (0.200 vs 0.300, PyTorch)" in text


def test_conclusion_words_follow_the_sign_with_the_baseline_listed_second():
    # widths: [0.125, 0.25]: the narrow model is the baseline, the stock one is larger and slower
    df = table()
    base = df[df["variant"] == "w0.125"].set_index("target")["p50_ms"]
    df["speedup"] = df["target"].map(base) / df["p50_ms"]  # as the CSV has it: baseline p50 / p50
    (text,) = words.conclusions(df, SUMMARIES, ["w0.125", "w0.25"], "w0.125")
    assert text.startswith("**w0.25** against w0.125: 3.3x more parameters, 2.9x more FLOPs")
    assert "2.50x slower on ONNX Runtime at 1 thread(s)" in text
    assert "fewer" not in text and "faster" not in text and "0.3x" not in text


def test_a_variant_slower_than_the_baseline_is_called_slower():
    df = table()
    df.loc[df["variant"] == "w0.125", "speedup"] = [0.91, 1.25, 1.0]  # pytorch, onnx, failed ncnn
    df.loc[(df["variant"] == "w0.125") & (df["target"] == "onnx"), "speedup"] = 0.91
    (text,) = words.conclusions(df, SUMMARIES, ["w0.25", "w0.125"], "w0.25")
    assert "1.10x slower on ONNX Runtime" in text and "0.91x faster" not in text
    assert "from 1.10x slower to 1.25x faster across formats" not in text  # pytorch 0.91 too
    assert "1.10x slower across formats (" in text  # one thread count ran: not "and threads"
    two = pd.concat([df, df[df["variant"] == "w0.125"].assign(threads=2)], ignore_index=True)
    (text,) = words.conclusions(two, SUMMARIES, ["w0.25", "w0.125"], "w0.25")
    assert "1.10x slower across formats and thread counts (" in text
    assert words.speed_range([0.91, 1.25]) == "from 1.10x slower to 1.25x faster"
    assert words.speed_range([1.2, 3.1]) == "1.20x to 3.10x faster"
    assert words.speed_range([0.5, 0.8]) == "1.25x to 2.00x slower"
    assert words.times(1.02, "faster", "slower") == "1.0x (neither faster nor slower)"


def test_budget_answers_pick_the_most_accurate_row_within_budget_and_skip_failed_rows():
    answers = words.budget_answers(table(), [5, 10, 25])
    assert answers[0].startswith("5 ms per frame, 1 thread(s): nothing fits; the fastest is w0.125 on onnx at 8.0 ms")
    assert "**w0.125** on onnx (mAP50-95 0.200, p50 8.0 ms" in answers[1]
    assert "**w0.25** on onnx (mAP50-95 0.300, p50 20.0 ms" in answers[2]


def test_pareto_front_keeps_only_non_dominated_rows():
    df = pd.DataFrame({"p50_ms": [1, 2, 3, 4], "map50_95": [0.1, 0.05, 0.3, 0.2]})
    assert analysis.pareto_front(df)["p50_ms"].tolist() == [1, 3]


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
    t = analysis.variant_table(["w0.25", "w0.125", "w0.0625"], SUMMARIES, infos)
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
    st = seeds.seed_stats(RUNS, INFOS)
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
    st = seeds.seed_stats(RUNS, INFOS)
    primary = {"w0.25": INFOS["w0.25"], "w0.125": INFOS["w0.125"]}
    t = analysis.variant_table(["w0.25", "w0.125"], SUMMARIES, primary, st).set_index("variant")
    assert t.loc["w0.25", "mAP50-95"] == "0.320 ± 0.020 (n=3)"
    assert t.loc["w0.25", "P"] == "0.700 ± 0.100 (n=3)"
    assert t.loc["w0.125", "mAP50-95"] == pytest.approx(0.20)  # one seed: the plain value
    assert "± " not in markdown.markdown_table(t.loc[["w0.125"]])
    assert t["benchmarked model"].tolist() == ["seed 0", "seed 0"]


def stats_for(values: dict[str, list[float]]):
    runs = seed_runs({v: list(range(len(ms))) for v, ms in values.items()})
    infos = {}
    for run, r in runs.items():
        infos[run] = train_info(values[r["variant"]][r["seed"]], 0.5, 0.5, 0.5)
    return seeds.seed_stats(runs, infos)


def test_seed_spread_sentence_says_larger_within_or_unknown():
    # baseline 0.30, 0.32, 0.34: mean 0.32, sd 0.02
    clear = stats_for({"base": [0.30, 0.32, 0.34], "v": [0.19, 0.20, 0.21]})
    # diff -0.12; 2 x sqrt(0.02²/3 + 0.01²/3) = 0.026
    (s,) = words.seed_spread_sentences(clear, ["base", "v"], "base")
    assert "difference -0.120" in s and "larger than the seed-to-seed spread" in s and "= 0.026" in s
    small = stats_for({"base": [0.30, 0.32, 0.34], "v": [0.29, 0.31, 0.33]})
    (s,) = words.seed_spread_sentences(small, ["base", "v"], "base")  # diff -0.01 < 2 x 0.0163
    assert "difference -0.010" in s and "within the seed-to-seed spread" in s
    one = stats_for({"base": [0.30, 0.32, 0.34], "v": [0.10]})
    (s,) = words.seed_spread_sentences(one, ["base", "v"], "base")
    assert "unknown (one seed)" in s and "larger" not in s and "within" not in s


def test_budget_table_per_target_picks_the_most_accurate_variant_and_skips_failed_rows():
    df = table().assign(runtime=lambda d: d["target"].map({"pytorch": "torch", "onnx": "onnxruntime", "ncnn": "ncnn"}))
    df["precision"] = "f32"
    st = stats_for({"w0.25": [0.28, 0.30, 0.32], "w0.125": [0.2]})  # w0.25 sd 0.02, w0.125 one seed
    answers = words.budget_answers_per_target(df, [5, 10, 25, 50], st)
    (t,) = analysis.budget_tables(answers).values()
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
    overall = words.budget_answers(df, [25], st)
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
    assert analysis.non_dominated(df) == {("onnx", 1): ["b", "a"], ("onnx", 2): ["a"]}
    nd = analysis.non_dominated_table(df)
    assert nd["non-dominated variants (fastest first)"].tolist() == ["b, a", "a"]


def test_build_report_reads_every_seed_and_writes_the_seed_aware_readme(tmp_path):
    train = tmp_path / "train"
    infos = []
    for run, info in INFOS.items():
        (train / run).mkdir(parents=True)
        identity = {"run": run, "variant": RUNS[run]["variant"], "seed": RUNS[run]["seed"]}
        (train / run / "train_info.json").write_text(json.dumps({**identity, **info}))
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
    build.build_report(
        csv=tmp_path / "benchmark.csv",
        variants=["w0.25", "w0.125"],
        infos=infos,
        summaries=summaries,
        out_dir=out,
        imgsz={"w0.25": 320, "w0.125": 320},
        budgets_ms=[10, 25],
        runs=RUNS,
        budget_basis="network",  # the table has no whole-frame columns
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
    # a lenient validation's warning reaches the report
    (tmp_path / "card.json").write_text(json.dumps({"names": {"0": "CT", "1": "T"}, "splits": {}}))
    warning = "/data/x/data.yaml: nc is 3 but names lists 2 classes (CT, T); the workflow uses the 2 names"
    (tmp_path / "validation.json").write_text(json.dumps({"policy": "lenient", "warnings": [warning]}))
    build.build_report(
        tmp_path / "benchmark.csv",
        ["w0.25", "w0.125"],
        infos,
        summaries,
        out,
        imgsz=320,
        runs=RUNS,
        card=tmp_path / "card.json",
        validation=tmp_path / "validation.json",
    )
    assert f"- **{warning}**" in (out / "README.md").read_text()
    # without ``runs``: one info per variant (the layout before seeds), one size for all
    primary = [train / v / "train_info.json" for v in ("w0.25", "w0.125")]
    build.build_report(tmp_path / "benchmark.csv", ["w0.25", "w0.125"], primary, summaries, out, imgsz=320)
    readme = (out / "README.md").read_text()
    assert "One completed training seed per variant" in readme and " ± " not in readme
    assert "| w0.25 | yolov8 |  | 3011238 | 8.193 | 3 | 3 | 0.600 | 0.400 | 0.500 | 0.300 |" in readme


def roof_rows() -> pd.DataFrame:
    base = {"variant": "w0.125", "threads": 1, "imgsz": 640, "gflops": 2.8, "status": "ok"}
    return pd.DataFrame(
        [
            {**base, "target": "onnx", "precision": "f32", "peak_gflops": 87.0, "theoretical_gflops": 166.4}
            | {"p50_ms": 47.8, "fraction_of_peak": 0.67, "fraction_of_theoretical": 0.35},
            {**base, "target": "openvino", "precision": "f32", "peak_gflops": 87.0, "theoretical_gflops": 166.4}
            | {"p50_ms": 30.0, "fraction_of_peak": 1.07, "fraction_of_theoretical": 0.56},
            {**base, "target": "openvino-int8", "precision": "int8", "peak_gflops": 140.0}
            | {"theoretical_gflops": 5324.8, "p50_ms": 29.7, "fraction_of_peak": 0.67, "fraction_of_theoretical": 0.02},
            {**base, "target": "ncnn", "precision": "f32", "peak_gflops": 87.0, "theoretical_gflops": 166.4}
            | {"status": "failed", "p50_ms": 1.0, "fraction_of_peak": 9.9, "fraction_of_theoretical": 9.9},
        ]
    )


def test_floor_table_divides_operations_by_each_roof():
    (row,) = analysis.floor_table(roof_rows()).to_dict("records")
    assert row["fp32 reference floor ms"] == pytest.approx(2.8 / 87 * 1000)
    assert row["fp32 theoretical floor ms"] == pytest.approx(2.8 / 166.4 * 1000)
    assert row["int8 reference floor ms"] == pytest.approx(20.0)
    assert row["fastest"] == "openvino-int8 (int8)" and row["p50 ms"] == 29.7  # the failed row is ignored
    assert row["of its theoretical"] == 0.02
    assert "bf16 reference GOP/s" not in row  # no bf16 row, no record: no column of blanks
    # with peak.json every roof it measured is shown (issue 26: its int8 and bf16 roofs were
    # blank or missing beside bf16 rows), each floor its own roof's
    peak = {
        "peaks": {"1": {"fp32_gflops": 118.8, "bf16_gflops": 394.86, "int8_gops": 585.13}},
        "theoretical": {"peaks": {"1": {"fp32_gflops": 134.4, "bf16_gflops": 2150.4, "int8_gops": 4300.8}}},
    }
    floats = roof_rows()[lambda d: d["precision"] == "f32"]
    (row,) = analysis.floor_table(floats, peak).to_dict("records")
    assert row["bf16 reference GOP/s"] == 394.86
    assert row["bf16 reference floor ms"] == pytest.approx(2.8 / 394.86 * 1000)
    assert row["int8 reference GOP/s"] == 585.13 and row["int8 theoretical GOP/s"] == 4300.8
    assert row["fp32 reference floor ms"] == pytest.approx(2.8 / 118.8 * 1000)  # the record before the rows


THEORY = {
    "clock_ghz": 2.6,
    "clock_source": "the 'cpu MHz' /proc/cpuinfo reports; no cpufreq maximum here",
    "is_bound": False,
    "derivation": "cores used x clock (2.60 GHz) x operations per cycle per core; fp32: 16 fp32 lanes",
}


def test_roof_sentences_call_the_measured_roof_a_reference_and_flag_rows_above_it():
    text = words.roof_sentences(roof_rows(), {"method": "best of 5 matmuls", "theoretical": THEORY})
    assert "it is not a limit" in text[0] and "best of 5 matmuls" in text[0]
    assert text[1].startswith("No bound could be derived for certain") and "2.60 GHz" in text[1]
    (above,) = text[2:]  # the openvino row at 1.07; the failed ncnn row at 9.9 is not a result
    assert above.startswith("w0.125 on openvino at 1 thread(s) attained 1.07 of the measured reference roof")
    assert "(it attained 0.56 of the theoretical peak)" in above
    bound = words.roof_sentences(roof_rows(), {"theoretical": {**THEORY, "is_bound": True}})
    assert bound[1].startswith("The theoretical peak is a bound no runtime can beat")
    assert not any("no runtime can beat" in t for t in text)  # never said of an unproven bound


def test_theoretical_peak_is_derived_from_flags_and_clock():
    from yoloshrink.bench import roofline

    avx2 = {"cpu_flags": {"avx": True, "avx2": True, "fma": True}, "affinity_cores": 2, "max_mhz": 3500.0}
    t = roofline.theoretical_peak(avx2, [1, 2, 4])
    # 8 lanes x 2 FMA units x 2 = 32 FLOP/cycle; x 3.5 GHz = 112 GFLOP/s per core; 4 threads on 2 cores = 2
    assert t["peaks"]["1"]["fp32_gflops"] == 112.0 and t["peaks"]["4"]["fp32_gflops"] == 224.0
    assert t["peaks"]["1"]["bf16_gflops"] == 112.0  # no native bf16: as fp32
    assert t["peaks"]["1"]["int8_gops"] == 448.0  # 32 byte lanes x 2 units x 2
    assert t["is_bound"] and "maximum cpufreq reports" in t["clock_source"]
    amx = {"cpu_flags": {"avx512f": True, "amx_bf16": True, "amx_int8": True}, "logical_cores": 2}
    t = roofline.theoretical_peak({**amx, "reported_mhz": 2600.0}, [1])
    assert t["peaks"]["1"] == {"fp32_gflops": 166.4, "bf16_gflops": 2662.4, "int8_gops": 5324.8}
    assert not t["is_bound"]  # only the reported clock: turbo may exceed it
    assert roofline.theoretical_peak(amx, [1])["peaks"]["1"]["fp32_gflops"] is None


REFERENCE = REPO / "workflow/report/original_experiment.yaml"


def test_reference_cites_the_original_report_and_its_gpu_times_get_their_own_panel():
    import yaml

    ref = yaml.safe_load(REFERENCE.read_text())
    assert "github.com/arrogantcont/processing_and_generating_images_course" in ref["source"]
    assert "HW_1" in ref["source"] and "shared/" not in REFERENCE.read_text()
    assert "GPU machine" in ref["timing"] and "not a CPU p50" in ref["timing"]
    fig = figures.accuracy_latency_figure(table(), figures.variant_colors(["w0.25", "w0.125"]), ref)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["1 thread(s)", figures.REFERENCE_PANEL]
    cpu, gpu = fig.axes
    n_reference = sum(len(per_variant) for per_variant in ref["benchmark"].values())
    assert sum(len(c.get_offsets()) for c in gpu.collections) == n_reference == 10
    assert sum(len(c.get_offsets()) for c in cpu.collections) == 4  # this table's ok rows only
    assert "CPU" in cpu.get_xlabel() and "GPU machine" in gpu.get_xlabel()
    # each panel's legend names its own targets: the reference's NCNN and TorchScript are not
    # shown as if they ran here
    ran = set(table().query("status == 'ok'")["target"])
    cpu_labels = {t.get_text() for t in cpu.get_legend().get_texts()}
    gpu_labels = {t.get_text() for t in gpu.get_legend().get_texts()}
    assert ran <= cpu_labels and not cpu_labels & (set(ref["benchmark"]) - ran)
    assert set(ref["benchmark"]) <= gpu_labels
    fig.canvas.draw()  # the log axes are labelled in plain numbers, not "2x10^0"
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_xticklabels(minor=True) if t.get_text()]
        assert labels and not any("times" in x or "^" in x or "$" in x for x in labels), labels
    benchmark = analysis.reference_benchmark_table(ref)
    assert "GPU-machine validator ms/image" in benchmark.columns and len(benchmark) == 10


def frame_rows() -> pd.DataFrame:
    """table() with whole-frame columns: each frame adds 8 ms to its network call (pre 3, post 5)."""
    df = table().assign(precision="f32", fraction_of_peak=0.5, fraction_of_theoretical=0.25)
    df["e2e_p50_ms"] = df["p50_ms"] + 8.0
    df["e2e_p50_ci_low_ms"], df["e2e_p50_ci_high_ms"] = df["e2e_p50_ms"] - 0.5, df["e2e_p50_ms"] + 0.5
    df["e2e_p90_ms"] = df["e2e_p50_ms"] * 1.1
    df["pre_p50_ms"], df["infer_p50_ms"], df["post_p50_ms"] = 3.0, df["p50_ms"], 5.0
    df["e2e_overhead"] = 8.0 / df["p50_ms"]
    df["dominant_stage"] = "infer"
    df["input_path"] = "cv2.dnn.blobFromImage"
    return df


def test_budgets_answer_per_frame_by_default_and_per_network_call_on_request():
    df, st = frame_rows(), seeds.seed_stats(RUNS, INFOS)
    # w0.25 on onnx: 20 ms per network call, 28 ms per frame; w0.125: 8 and 16 ms
    frame = analysis.budget_overall(analysis.budget_view(df, "frame"), [25], st)
    network = analysis.budget_overall(analysis.budget_view(df, "network"), [25], st)
    assert frame[0]["best"]["variant"] == "w0.125" and frame[0]["best"]["p50_ms"] == 16.0
    assert network[0]["best"]["variant"] == "w0.25" and network[0]["best"]["p50_ms"] == 20.0
    assert words.sentence("budget_overall", frame[0], "frame").startswith("25 ms per frame, 1 thread(s): **w0.125**")
    assert words.sentence("budget_overall", network[0], "network call").startswith("25 ms per network call")
    assert "Budgets are per frame" in words.sentence("budget_basis", "frame")
    assert "Budgets are per network call" in words.sentence("budget_basis", "network")
    old = table()  # records that predate the whole frame answer no budget per frame
    assert all(b["best"] is None for b in analysis.budget_overall(analysis.budget_view(old, "frame"), [100], st))
    with pytest.raises(ValueError, match="budget basis 'gpu'"):
        analysis.budget_view(df, "gpu")


def test_the_fastest_frame_sentence_follows_its_row():
    df = frame_rows()
    (row,) = analysis.fastest_frames(df)
    assert (row["variant"], row["target"], row["frame_p50_ms"]) == ("w0.125", "onnx", 16.0)
    text = words.sentence("frame_fastest", row)
    assert "the fastest frame is w0.125 on onnx (f32), 16.00 ms per frame (95 % CI 15.50-16.50)" in text
    assert "pre-processing 3.00 ms, inference 8.00 ms, post-processing 5.00 ms" in text
    assert "takes 8.00 ms, so the frame adds 100 % to it; infer has the largest mean" in text
    assert "attains 0.50 of the measured fp32 reference roof and 0.25 of the theoretical fp32 peak" in text
    table_ = analysis.frame_table(df)
    assert len(table_) == 4 and set(table_["roof"]) == {"fp32"}  # the failed ncnn row is left out
    assert analysis.frame_table(table()).empty


def int8_record(kept_p50: float, float_p50: float, lo: float, hi: float, fastest_p50: float | None = None) -> dict:
    def cand(name, p50, drop):
        s = float_p50 / p50
        return {
            "name": name,
            "settings": {"quant_format": "QOperator"},
            "status": "ok",
            "p50_ms": p50,
            "p50_ci_low_ms": p50 - 0.1,
            "p50_ci_high_ms": p50 + 0.1,
            "map50_95_drop": drop,
            "speedup_over_onnx": {"speedup": s, "speedup_ci_low": s * lo, "speedup_ci_high": s * hi},
        }

    candidates = [cand("kept", kept_p50, 0.001)]
    if fastest_p50 is not None:
        candidates.append(cand("quick", fastest_p50, 0.05))
    return {
        "variant": "w0.125",
        "format": "onnx-int8",
        "status": "ok",
        "quantizer": {
            "quantizer": "onnxruntime",
            "choose": "auto",
            "images": 100,
            "chosen": "kept",
            "reason": "the fastest of 1 within 0.01 mAP50-95 of the float model",
            "threads": 1,
            "tolerance": 0.01,
            "floats": {"onnx": {"p50_ms": float_p50, "p50_ci_low_ms": float_p50 - 1, "p50_ci_high_ms": float_p50 + 1}},
            "best_float": "onnx",
            "float_map50_95": 0.3,
            "candidates": candidates,
        },
    }


def test_int8_sentences_say_whether_int8_paid_from_the_paired_interval():
    from yoloshrink.report import int8

    faster = int8.choice(int8_record(25.0, 50.0, 0.95, 1.05))
    assert faster["verdict"] == "faster" and faster["speedup"] == 2.0
    text = words.sentence("int8_choice", faster)
    assert "kept **kept**" in text and "at 25.00 ms (95 % CI 24.90-25.10) against 50.00 ms" in text
    assert "2.00x faster (95 % CI 1.90-2.10); INT8 pays here." in text
    slower = int8.choice(int8_record(60.0, 50.0, 0.97, 1.03))
    text = words.sentence("int8_choice", slower)
    assert slower["verdict"] == "slower" and "1.20x slower" in text
    assert "INT8 does not beat the runtime's best float precision on this CPU" in text
    assert "The fastest candidate, kept at 60.00 ms, is slower than it too" in text
    lossy = int8.choice(int8_record(60.0, 50.0, 0.97, 1.03, fastest_p50=40.0))
    assert "The fastest candidate, quick at 40.00 ms, is faster but lost more than 0.01 mAP50-95" in (
        words.sentence("int8_choice", lossy)
    )
    even = int8.choice(int8_record(50.0, 50.0, 0.9, 1.1))
    assert "no measurable difference (speed-up 1.00, its 95 % CI 0.90-1.10 includes 1)" in (
        words.sentence("int8_choice", even)
    )
    named = int8_record(25.0, 50.0, 0.9, 1.1)
    named["quantizer"]["choose"] = "kept"
    assert int8.choice(named) is None
    table_ = int8.candidate_table(int8_record(60.0, 50.0, 0.97, 1.03, fastest_p50=40.0))
    assert table_["candidate"].tolist() == ["kept", "quick", "onnx (float)"]
    assert table_["kept"].tolist() == ["yes", "", ""] and table_["x over onnx"].iloc[1] == "1.25 (1.21-1.29)"


#: A real benchmark table: the demo's (`make run` on a 2-core Xeon VM, four variants of two
#: families, four targets, pairs, A/A controls), the environment column left out; beside it the
#: run's dataset card (its data.yaml path left out).
DEMO_CSV = Path(__file__).parent / "data" / "demo_benchmark.csv"
DEMO = {  # variant -> (parameters, GFLOPs at 640, best epoch, final mAP50-95) of that run
    "w0.25": (3011238, 8.1928, 12, 0.0962),
    "w0.125": (912830, 2.8257, 9, 0.0530),
    "yolo26-w0.25": (2504580, 5.8943, 11, 0.0440),
    "yolo26-w0.125": (677780, 1.7423, 12, 0.0325),
}


def demo_report(tmp_path: Path, environment: Path | None = None) -> tuple[str, pd.DataFrame]:
    """The report of the demo's benchmark table, with training records that say what it ran."""
    infos, summaries = [], []
    for v, (params, gflops, best, m) in DEMO.items():
        (tmp_path / "train" / v).mkdir(parents=True)
        info = {"run": v, "variant": v, "seed": 0, "status": "ok", "epochs_run": 12, "best_epoch": best}
        info |= {"optimizer_resolved": "AdamW", "lr0_resolved": 0.001667, "train_seconds": 100.0}
        info |= {"train_args": {"epochs": 12, "imgsz": 192}, "final_metrics": {"metrics/mAP50-95(B)": m}}
        (tmp_path / "train" / v / "train_info.json").write_text(json.dumps(info))
        infos.append(tmp_path / "train" / v / "train_info.json")
        (tmp_path / "models" / v).mkdir(parents=True)
        (tmp_path / "models" / v / "summary.json").write_text(json.dumps({"parameters": params, "gflops_640": gflops}))
        summaries.append(tmp_path / "models" / v / "summary.json")
    reference = Path(__file__).parents[1] / "workflow" / "report" / "original_experiment.yaml"
    build.build_report(
        DEMO_CSV,
        list(DEMO),
        infos,
        summaries,
        tmp_path / "report",
        imgsz=192,
        reference=reference,
        card=DEMO_CSV.with_name("demo_card.json"),
        budgets_ms=[5, 10],
        dataset_source="builtin",
        environment=environment,
    )
    return (tmp_path / "report" / "README.md").read_text(), pd.read_csv(DEMO_CSV)


def test_every_ratio_the_readme_states_is_the_one_its_csv_columns_give(tmp_path):
    from report_check import check_readme, perturbed

    readme, df = demo_report(tmp_path)
    bad, checked = check_readme(readme, df)
    assert bad == []
    kinds = ("answer rows", "answer sentences", "conclusion speed-ups", "conclusion ranges", "speed-up rows")
    kinds += ("answer between-jobs cells",)
    assert all(checked[k] >= 3 for k in kinds) and checked["lever rows"] == 2, checked  # nothing skipped
    assert checked["drift"] == 1, checked
    # the check catches a ratio that is not its columns' (here: a README of other numbers)
    bad, _ = check_readme(readme, perturbed(df, "w0.125"))
    assert any(b.startswith("answer w0.125") for b in bad) and any(b.startswith("speed-ups w0.125") for b in bad)
    assert any(b.startswith("conclusion w0.125") for b in bad)
    other = df.assign(pair_baseline_p50_ms=df["pair_baseline_p50_ms"] * 1.2)  # every pair's baseline p50
    assert any(b.startswith("drift") for b in check_readme(readme, other)[0])


def test_the_readme_opens_with_the_answer_on_the_fastest_target_here(tmp_path):
    readme, _ = demo_report(tmp_path)
    first = readme.split("\n## ")[1]  # the first section
    assert first.startswith("The answer: what each model costs in accuracy and buys in speed")
    # w0.25's fastest frame in the demo: OpenVINO bf16 (2.952 ms; ONNX Runtime 8.183 ms)
    assert "On **openvino-bf16** (openvino, bf16) at 1 thread(s)" in first and "(2.952 ms)" in first
    row = "| w0.125 | 912830 | 2.239 (2.123-3.012) | 1.605-3.485 | 447 | 1.32 | 1.39 (1.33-1.43) | 0.054 |"
    assert row + " -0.043 (-45%) |" in first
    # yolo26-w0.25 is faster than w0.25 on ONNX Runtime, not per frame on the fastest target
    assert "**yolo26-w0.25**: mAP50-95 0.046 against w0.25's 0.097, a loss of 52 %" in first
    assert "network call: no measurable difference (0.85x, 95 % CI 0.80-1.39x); 1.73x slower per frame" in first
    # what the accuracy is a property of, beside it
    assert "100 validation images of the built-in generated dataset (400 training images)" in first
    assert "after 12 epoch(s) at 192 px; w0.25, yolo26-w0.125 had their best epoch at the last" in first
    assert (
        "went from 0.188 to 0.152 narrowing w0.25 to w0.125 (-19 %); this run went from 0.096 to 0.053 (-45 %" in first
    )
    assert "run `config/csgo.yaml`" in first
    # the levers say what else differs within a pair, not "everything else equal"
    assert "everything else equal" not in readme
    assert "also differ in depth (0.50 vs 0.33: each family's own stock depth) and post-processing" in readme
    # the summary page of the HTML report: the README rendered, its figures embedded
    page = (tmp_path / "report" / "summary.html").read_text()
    assert "<h2>The answer: what each model costs" in page and "<td>w0.125</td>" in page
    assert page.count("data:image/png;base64,") == 4  # curves, accuracy/latency, latency, size
    # the two figures this test draws no files for (no validation images, no dataset card figure)
    assert page.count("(not found: ") == 2 and "(not found: predictions.png)" in page


def test_the_answer_renders_without_a_relative_change_when_the_baselines_map_is_zero():
    """A 1-epoch run scores 0.000 (the tiny config): the change is given, not a percentage of 0."""
    from yoloshrink.report import answer

    df = pd.read_csv(DEMO_CSV)
    df.loc[df["variant"] == "w0.25", "map50_95"] = 0.0
    summaries = {v: {"parameters": p} for v, (p, *_) in DEMO.items()}
    where, items = answer.answer_rows(df, list(DEMO), summaries, "w0.25")
    assert items[1]["delta"] == pytest.approx(0.054, abs=5e-4) and items[1]["relative"] is None
    text = words.sentence("answer_item", items[1], "w0.25", "frame")
    assert text.startswith("**w0.125**: mAP50-95 0.054 against w0.25's 0.000; network call: 1.39x faster")
    assert " % " not in text.split(";")[0]  # no percentage of a zero mAP50-95
    table = answer.answer_table(items, "w0.25", where["basis"])
    assert table.loc[1, "mAP50-95 change vs w0.25"] == "+0.054"


def test_the_answer_says_when_the_pair_and_the_two_rows_disagree():
    """A pair timed faster while the two latency rows say slower (jobs apart, the machine's speed
    moved between them): the sentence says they disagree instead of printing both silently."""
    from yoloshrink.report import answer

    df = pd.read_csv(DEMO_CSV)
    summaries = {v: {"parameters": p} for v, (p, *_) in DEMO.items()}
    _, items = answer.answer_rows(df, list(DEMO), summaries, "w0.25")
    assert not any(it["disagree"] for it in items[1:])  # the demo's: each pair agrees with its rows
    rows = (df["variant"] == "yolo26-w0.125") & (df["target"] == "openvino-bf16")
    df.loc[rows, ["speedup", "speedup_ci_low", "speedup_ci_high", "speedup_verdict"]] = [1.53, 1.26, 1.83, "faster"]
    _, items = answer.answer_rows(df, list(DEMO), summaries, "w0.25")
    text = words.sentence("answer_item", items[3], "w0.25", "frame")
    assert "1.53x faster (95 % CI 1.26-1.83x); 1.14x faster per frame" in text and "disagree" not in text
    df.loc[rows, "e2e_p50_ms"] = 3.2  # its own row now slower than the baseline's 2.952 ms
    _, items = answer.answer_rows(df, list(DEMO), summaries, "w0.25")
    text = words.sentence("answer_item", items[3], "w0.25", "frame")
    assert "1.08x slower per frame by the two p50s (the two disagree:" in text


def test_the_front_fragment_holds_the_answer_the_conclusions_and_the_budgets(tmp_path):
    """The HTML report's front page (workflow.rst reads front.html beside summary.html) shows
    what a reader needs first: the answer, the conclusions and the budget answers, as HTML
    tables; not the appendix, nor images (the report shows those by category)."""
    from yoloshrink.report.markdown import front_fragment

    demo_report(tmp_path)
    front = (tmp_path / "report" / "front.html").read_text()
    assert front.startswith("<h2>The answer: what each model costs in accuracy and buys in speed")
    assert "<h2>Conclusions, every target</h2>" in front and "<h2>Which model for my latency budget?</h2>" in front
    assert "<th>budget</th>" in front and "<th>network-call speed-up, timed in turns (95 % CI)</th>" in front
    assert "Appendix" not in front and "<img" not in front and "Speed-ups, and the method" not in front
    with pytest.raises(ValueError, match="none of the sections"):
        front_fragment("# Title\n\n## Something else\n")


def test_the_report_takes_its_baseline_from_the_rule_and_refuses_a_table_of_another(tmp_path):
    """Issue 28: the baseline is the report rule's parameter (the workflow's BASELINE), said once;
    the demo's table, timed against w0.25, is refused for a report whose baseline is w0.125."""
    readme, _ = demo_report(tmp_path)
    assert "w0.25's p50 / this p50" in readme
    with pytest.raises(ValueError, match=r"its baseline rows are \['w0.25'\]'s, but the baseline is 'w0.125'"):
        build.build_report(DEMO_CSV, list(DEMO), [], [], tmp_path / "other", baseline="w0.125")


@pytest.mark.parametrize(
    "constraint, says",
    [
        ({"slurm_bench_constraint": None}, "On SLURM without a node constraint"),
        ({"slurm_bench_constraint": "icelake"}, "every timing job asked for node feature `icelake`"),
        ({}, None),
    ],
)
def test_the_report_says_when_timing_jobs_ran_without_a_node_constraint(tmp_path, constraint, says):
    """Issue 29: a featureless SLURM site (YOLOSHRINK_SLURM_BENCH_CONSTRAINT=none) has no guarantee
    that its timing jobs ran on one node type; the report says so beside the machine."""
    record = tmp_path / "environment.json"
    record.write_text(json.dumps({"cpu_model": "Xeon", "logical_cores": 2, **constraint}))
    readme, _ = demo_report(tmp_path, environment=record)
    environment_section = readme.split("## Environment", 1)[1].split("\n## ", 1)[0]
    if says is None:
        assert "SLURM" not in environment_section
    else:
        assert says in environment_section
