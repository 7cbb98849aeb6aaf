"""The timing method's own evidence in the report: each speed-up beside the two p50s it is the
quotient of, the A/A control per runtime, the pairs that ran a model slower than its own row,
and how far the machine's speed moved between the jobs that timed the baseline. Numbers only;
the wording is in the templates."""

from __future__ import annotations

from typing import Any

import pandas as pd

from yoloshrink.layout import job_p50s
from yoloshrink.report.analysis import ok_rows


def _interval(p50: float, lo: float, hi: float, digits: int = 3) -> str:
    """``"p50 (lo-hi)"``, or "–" for a missing p50."""
    if p50 != p50:
        return "–"
    return f"{p50:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})" if lo == lo and hi == hi else f"{p50:.{digits}f}"


def speedup_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every measured speed-up with the two p50s it is the quotient of (both from its pair's own
    timing, with their 95 % intervals), and each model's p50 in the pair over its own latency
    row's (``pair / own row``; the flag where the pair's interval lies wholly above the row's)."""
    cols = ["variant", "target", "threads", "baseline p50 ms (pair)", "variant p50 ms (pair)", "speed-up (95 % CI)"]
    cols += ["pair / own row: baseline, variant", "beyond the intervals"]
    if "pair_p50_ms" not in df.columns:
        return pd.DataFrame(columns=cols)
    ok = ok_rows(df)
    rows = []
    for _, r in ok[ok["pair_p50_ms"].notna()].iterrows():
        flag = r.get("pair_interference")
        rows.append(
            {
                "variant": r["variant"],
                "target": r["target"],
                "threads": int(r["threads"]),
                cols[3]: _interval(
                    r["pair_baseline_p50_ms"], r["pair_baseline_p50_ci_low_ms"], r["pair_baseline_p50_ci_high_ms"]
                ),
                cols[4]: _interval(r["pair_p50_ms"], r["pair_p50_ci_low_ms"], r["pair_p50_ci_high_ms"]),
                cols[5]: _interval(r["speedup"], r["speedup_ci_low"], r["speedup_ci_high"], 2),
                cols[6]: f"{r['baseline_pair_slowdown']:.2f}, {r['pair_slowdown']:.2f}",
                cols[7]: {True: "yes", False: "no"}.get(bool(flag) if flag in (True, False) else None, "–"),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def controls(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The A/A control per runtime and thread count, as the table carries it on its rows:
    ``runtime``, ``target`` (the one timed), ``threads``, ``speedup`` with ``lo``/``hi`` and
    ``passed`` (the interval contains 1)."""
    if "control_speedup" not in df.columns:
        return []
    out = []
    seen = set()
    for _, r in df[df["control_speedup"].notna()].iterrows():
        key = (r["runtime"], int(r["threads"]))
        if key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "runtime": r["runtime"],
                "target": r["control_target"],
                "threads": key[1],
                "speedup": float(r["control_speedup"]),
                "lo": float(r["control_ci_low"]),
                "hi": float(r["control_ci_high"]),
                "passed": bool(r["control_passed"]),
            }
        )
    return out


def interfered(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The pairs that ran either model slower than its own latency row's interval allows:
    ``variant``, ``target``, ``threads`` and both slow-downs (pair p50 over the row's)."""
    if "pair_interference" not in df.columns:
        return []
    flagged = ok_rows(df)[ok_rows(df)["pair_interference"].eq(True)]
    return [
        {
            "variant": r["variant"],
            "target": r["target"],
            "threads": int(r["threads"]),
            "variant_slowdown": float(r["pair_slowdown"]),
            "baseline_slowdown": float(r["baseline_pair_slowdown"]),
        }
        for _, r in flagged.iterrows()
    ]


def drift(df: pd.DataFrame, baseline: str) -> list[dict[str, Any]]:
    """How far the machine's speed moved between the jobs of this run that timed the same model:
    per target and thread count, ``baseline``'s network p50 in its own latency row and in every
    pair that timed it (``pair_baseline_p50_ms`` of the other variants' rows): ``target``,
    ``threads``, ``jobs``, ``low``/``high`` (ms) and ``ratio`` (high over low), largest first;
    only where two or more jobs timed it."""
    if "pair_baseline_p50_ms" not in df.columns:
        return []
    ok = ok_rows(df)
    out = []
    for (target, threads), rows in ok.groupby(["target", "threads"], sort=False):
        p50s = job_p50s(rows.to_dict("records"), baseline).get(baseline, [])
        if len(p50s) < 2:
            continue
        low, high = min(p50s), max(p50s)
        where = {"target": target, "threads": int(threads), "jobs": len(p50s)}
        out.append({**where, "low": low, "high": high, "ratio": high / low})
    return sorted(out, key=lambda d: -d["ratio"])
