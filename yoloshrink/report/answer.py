"""The report's first answer: on the fastest target here, what each variant costs in accuracy
and buys in speed against the baseline, and what the accuracy figures are properties of.

The numbers only; the words are the ``answer_*`` and ``accuracy_context`` macros of
``templates/sentences.md.j2``. The target is the one on which the baseline's frame (the whole
frame: pre-processing, network call, post-processing; the network call alone where no frame was
timed) is fastest at the fewest threads timed: the runtime a user would deploy the baseline on.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from yoloshrink.report.analysis import BASIS_UNIT, budget_view, ok_rows, speedup_of

#: A row's p50 and its interval, read through :func:`~yoloshrink.report.analysis.budget_view`
#: (the whole frame's in their place where the basis is "frame").
P50, LOW, HIGH = "p50_ms", "p50_ci_low_ms", "p50_ci_high_ms"
#: That p50's 95 % interval with what moved between the run's jobs (:func:`yoloshrink.table.jobs_fields`).
JOBS_LOW, JOBS_HIGH = "p50_jobs_ci_low_ms", "p50_jobs_ci_high_ms"


def basis_of(df: pd.DataFrame) -> str:
    """ "frame" where the completed rows carry a whole-frame p50, else "network"."""
    ok = ok_rows(df)
    return "frame" if "e2e_p50_ms" in ok.columns and ok["e2e_p50_ms"].notna().any() else "network"


def deploy_target(df: pd.DataFrame, baseline: str) -> dict[str, Any] | None:
    """The target on which ``baseline``'s p50 (:func:`basis_of`) is lowest at the fewest threads
    it ran: {"target", "threads", "runtime", "precision", "basis", "unit" (its words), "p50",
    "targets"} (``targets``:
    how many targets the baseline completed at those threads); None when the baseline has no
    completed row."""
    basis = basis_of(df)
    rows = ok_rows(budget_view(df, basis))
    rows = rows[(rows["variant"] == baseline)].dropna(subset=[P50])
    if rows.empty:
        return None
    threads = int(rows["threads"].min())
    rows = rows[rows["threads"] == threads]
    best = rows.loc[rows[P50].idxmin()]
    return {
        "target": str(best["target"]),
        "threads": threads,
        "runtime": str(best.get("runtime", "") or ""),
        "precision": str(best.get("precision", "") or ""),
        "basis": basis,
        "unit": BASIS_UNIT[basis],
        "p50": float(best[P50]),
        "targets": int(rows["target"].nunique()),
    }


def answer_rows(
    df: pd.DataFrame, variants: list[str], summaries: dict[str, dict[str, Any]], baseline: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(:func:`deploy_target` of the first variant, one item per variant on that target).

    Each item: ``variant``, ``parameters`` (None without a size summary), ``p50``/``lo``/``hi``
    (its p50 on the target, :func:`basis_of`, and 95 % interval), ``jobs`` ((low, high): its 95 %
    interval with what moved between the run's jobs, None where unknown), ``per_second`` (1000 / p50),
    ``ratio`` (the baseline's p50 / this one's: > 1 is faster), ``speedup``
    (:func:`~yoloshrink.report.analysis.speedup_of`: the network call timed in turns with the
    baseline; None for the baseline and where the table has none), ``map`` (mAP50-95 through the
    target's model), ``disagree`` (the speed-up's interval and the two p50s' ratio fall on opposite
    sides of 1), ``delta`` and ``relative`` (against the baseline's, relative as a fraction),
    ``fastest`` ({"target", "p50"}: the variant's own fastest target at those threads, when it is
    another one), ``missing`` (no completed row on the target)."""
    if baseline not in variants:
        return None, []
    where = deploy_target(df, baseline)
    if where is None:
        return None, []
    ok = ok_rows(budget_view(df, where["basis"]))
    ok = ok[ok["threads"] == where["threads"]]
    on = ok[ok["target"] == where["target"]].dropna(subset=[P50]).drop_duplicates("variant").set_index("variant")
    base = on.loc[baseline]
    items = []
    for v in variants:
        size = summaries.get(v, {}).get("parameters")
        item: dict[str, Any] = {"variant": v, "parameters": int(size) if size else None, "missing": v not in on.index}
        if item["missing"]:
            items.append(item)
            continue
        r = on.loc[v]
        lo, hi = float(r.get(LOW, math.nan)), float(r.get(HIGH, math.nan))
        known = lo == lo and hi == hi  # a table made before intervals has none
        item.update(p50=float(r[P50]), lo=lo if known else None, hi=hi if known else None)
        jobs = float(r.get(JOBS_LOW, math.nan)), float(r.get(JOBS_HIGH, math.nan))
        item["jobs"] = jobs if jobs[0] == jobs[0] and jobs[1] == jobs[1] else None
        item["per_second"] = 1000.0 / item["p50"]
        item["ratio"] = float(base[P50]) / item["p50"]
        has_speedup = v != baseline and "speedup" in r and r["speedup"] == r["speedup"]
        item["speedup"] = speedup_of(r) if has_speedup else None
        # the pair's interval on one side of 1, the two rows' p50s on the other: measured apart
        verdict = (item["speedup"] or {}).get("verdict")
        item["disagree"] = (verdict == "faster" and item["ratio"] < 1) or (verdict == "slower" and item["ratio"] > 1)
        item["map"] = float(r["map50_95"]) if r["map50_95"] == r["map50_95"] else None
        base_map = float(base["map50_95"]) if base["map50_95"] == base["map50_95"] else None
        item["delta"] = item["map"] - base_map if item["map"] is not None and base_map is not None else None
        item["relative"] = item["delta"] / base_map if item["delta"] is not None and base_map else None
        own = ok[ok["variant"] == v].dropna(subset=[P50])
        fastest = own.loc[own[P50].idxmin()]
        item["fastest"] = (
            {"target": str(fastest["target"]), "p50": float(fastest[P50])}
            if fastest["target"] != where["target"]
            else None
        )
        items.append(item)
    return where, items


def answer_table(items: list[dict[str, Any]], baseline: str, basis: str) -> pd.DataFrame:
    """The first table of the report, one row per :func:`answer_rows` item."""
    unit = BASIS_UNIT[basis]

    def interval(x: float | None, lo: float | None, hi: float | None, digits: int) -> str:
        if x is None:
            return "–"
        return f"{x:.{digits}f}" if lo is None or hi is None else f"{x:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"

    rows = []
    for it in items:
        if it["missing"]:
            rows.append({"variant": it["variant"], f"p50 ms per {unit} (95 % CI)": "no completed row"})
            continue
        s = it["speedup"]
        rows.append(
            {
                "variant": it["variant"],
                "parameters": it["parameters"] if it["parameters"] is not None else "–",
                f"p50 ms per {unit} (95 % CI)": interval(it["p50"], it["lo"], it["hi"], 3),
                "95 % CI with what moved between jobs": "{:.3f}-{:.3f}".format(*it["jobs"]) if it["jobs"] else "–",
                f"{unit}s per second": f"{it['per_second']:.0f}",
                f"{baseline}'s p50 / this p50": f"{it['ratio']:.2f}",
                "network-call speed-up, timed in turns (95 % CI)": interval(s["speedup"], s["lo"], s["hi"], 2)
                if s
                else "baseline"
                if it["variant"] == baseline
                else "–",
                "mAP50-95": f"{it['map']:.3f}" if it["map"] is not None else "–",
                f"mAP50-95 change vs {baseline}": "baseline"
                if it["variant"] == baseline
                else f"{it['delta']:+.3f} ({it['relative']:+.0%})"
                if it["relative"] is not None
                else f"{it['delta']:+.3f}"
                if it["delta"] is not None
                else "–",
            }
        )
    return pd.DataFrame(rows).fillna("–")


def accuracy_context(
    infos: dict[str, dict[str, Any]],
    card: dict[str, Any] | None,
    reference: dict[str, Any] | None,
    variants: list[str],
    dataset_source: str | None,
) -> dict[str, Any] | None:
    """What the mAP50-95 figures are properties of: ``train_images``/``val_images`` (the dataset
    card's, None without it), ``source`` (the config's dataset source), ``epochs`` and ``imgsz``
    (each the set over the variants' primary runs), ``still_improving`` (the variants whose best
    epoch was the last of more than one), ``gaps`` (per variant also in the original experiment, besides its
    first: {"variant", "base", "reference": (base, variant, relative change), "here": (base,
    variant, relative change)} from the final validation mAP50-95 of each). None without a
    completed training."""
    done = {v: infos[v] for v in variants if v in infos and infos[v].get("status") == "ok"}
    if not done:
        return None
    splits = (card or {}).get("splits", {})

    def images(split: str) -> int | None:
        return splits.get(split, {}).get("images") if isinstance(splits, dict) else None

    args = {v: i.get("train_args", {}) for v, i in done.items()}
    out: dict[str, Any] = {
        "train_images": images("train"),
        "val_images": images("val"),
        "source": dataset_source,
        "epochs": sorted({int(a["epochs"]) for a in args.values() if a.get("epochs")}),
        "imgsz": sorted({int(a["imgsz"]) for a in args.values() if a.get("imgsz")}),
        "still_improving": [  # best epoch the last of several (with one epoch it says nothing)
            v for v, i in done.items() if (i.get("epochs_run") or 0) > 1 and i.get("best_epoch") == i.get("epochs_run")
        ],
        "gaps": [],
    }
    ref = (reference or {}).get("variants", {})
    ref_names = [v for v in ref if v in done]
    if len(ref_names) >= 2:
        base = ref_names[0]
        for v in ref_names[1:]:
            here_base = done[base].get("final_metrics", {}).get("metrics/mAP50-95(B)")
            here_v = done[v].get("final_metrics", {}).get("metrics/mAP50-95(B)")
            if here_base is None or here_v is None or math.isnan(here_base) or not here_base:
                continue
            rb, rv = float(ref[base]["map50_95"]), float(ref[v]["map50_95"])
            out["gaps"].append(
                {
                    "variant": v,
                    "base": base,
                    "reference": (rb, rv, rv / rb - 1),
                    "here": (float(here_base), float(here_v), float(here_v) / float(here_base) - 1),
                }
            )
    out["reference_setting"] = (reference or {}).get("dataset")
    return out
