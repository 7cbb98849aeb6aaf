"""The report's words are computed from the table: checked on a hand-made table."""

from __future__ import annotations

import pandas as pd

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
