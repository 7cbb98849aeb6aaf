"""Training seeds: each variant's spread of final validation metrics over the seeds it was trained with."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

#: train_info.json ``final_metrics`` key -> short name used in :func:`seed_stats` columns.
SEED_METRICS = {
    "metrics/mAP50-95(B)": "map50_95",
    "metrics/mAP50(B)": "map50",
    "metrics/precision(B)": "precision",
    "metrics/recall(B)": "recall",
}


def known(x: Any) -> bool:
    """Whether ``x`` is a value (not None, not NaN)."""
    return x is not None and x == x


def seed_stats(runs: dict[str, dict[str, Any]], infos: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Per variant, the spread of its final validation metrics over training seeds.

    ``runs`` is run name -> {"variant", "seed", "primary"}; ``infos`` run name -> its
    train_info.json (a run absent from ``infos`` counts as not completed). Only runs with status
    "ok" count. Index: variant (in order of first appearance in ``runs``); columns: ``n`` (completed
    runs), ``n_runs`` (runs planned), ``seeds`` (completed seeds, sorted), ``primary_seed`` (the seed
    whose model is exported and benchmarked), and ``<metric>_mean`` / ``<metric>_sd`` for each
    metric of :data:`SEED_METRICS` (``_sd`` is the sample sd, ddof=1, NaN when fewer than 2 values).
    """
    by_variant: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for run, r in runs.items():
        by_variant.setdefault(r["variant"], []).append((run, r))
    rows = []
    for variant, members in by_variant.items():
        done = [(r, infos[run]) for run, r in members if infos.get(run, {}).get("status") == "ok"]
        primary = [r["seed"] for _, r in members if r.get("primary") and known(r.get("seed"))]
        row: dict[str, Any] = {
            "variant": variant,
            "n": len(done),
            "n_runs": len(members),
            "seeds": sorted(int(r["seed"]) for r, _ in done if known(r.get("seed"))),
            "primary_seed": int(primary[0]) if primary else math.nan,
        }
        for key, name in SEED_METRICS.items():
            values = pd.Series([i.get("final_metrics", {}).get(key, math.nan) for _, i in done], dtype=float)
            row[f"{name}_mean"] = values.mean() if values.notna().any() else math.nan
            row[f"{name}_sd"] = values.std(ddof=1) if values.notna().sum() > 1 else math.nan
        rows.append(row)
    columns = ["variant", "n", "n_runs", "seeds", "primary_seed"]
    columns += [f"{name}_{x}" for name in SEED_METRICS.values() for x in ("mean", "sd")]
    return pd.DataFrame(rows, columns=columns).set_index("variant")


def seed_sd(stats: pd.DataFrame | None, variant: str, metric: str = "map50_95") -> float:
    """Sample sd over seeds of ``metric`` for ``variant``; NaN with one seed or no statistics."""
    if stats is None or variant not in stats.index or stats.loc[variant, "n"] < 2:
        return math.nan
    return float(stats.loc[variant, f"{metric}_sd"])


def seed_diff(stats: pd.DataFrame, variant: str, base: str, metric: str = "map50_95") -> dict[str, Any]:
    """``variant``'s ``metric`` difference from ``base`` against the seed-to-seed spread.

    The difference is of the means over seeds; the spread is 2 x the standard error of the
    difference, sqrt(sd_a²/n_a + sd_b²/n_b) (sample sds). Returns ``variant``, ``base`` and
    ``kind``: "missing" (no completed training on one side), "unknown" (one seed on either side:
    ``diff``, means ``ma``/``mb`` and counts ``na``/``nb`` given) or "compared" (also
    ``two_se`` and ``larger``: whether |diff| exceeds it).
    """
    item: dict[str, Any] = {"variant": variant, "base": base}
    if any(x not in stats.index or stats.loc[x, "n"] < 1 for x in (variant, base)):
        return {**item, "kind": "missing"}
    (ma, sa, na), (mb, sb, nb) = (
        (stats.loc[x, f"{metric}_mean"], seed_sd(stats, x, metric), int(stats.loc[x, "n"])) for x in (variant, base)
    )
    item.update(diff=ma - mb, ma=ma, mb=mb, na=na, nb=nb)
    if sa != sa or sb != sb:
        return {**item, "kind": "unknown"}
    se = math.sqrt(sa**2 / na + sb**2 / nb)
    return {**item, "kind": "compared", "two_se": 2 * se, "larger": abs(ma - mb) > 2 * se}


def others(variants: list[str], baseline: str) -> list[str]:
    """The variants compared with ``baseline`` (the workflow's BASELINE, the report rule's
    parameter), in their order: every one but it. ValueError when it is not among them."""
    if baseline not in variants:
        raise ValueError(f"the baseline {baseline!r} is not among the variants {variants}")
    return [v for v in variants if v != baseline]


def seed_spread(
    stats: pd.DataFrame, variants: list[str], baseline: str, metric: str = "map50_95"
) -> list[dict[str, Any]]:
    """Per variant but ``baseline``: :func:`seed_diff` from the baseline."""
    return [seed_diff(stats, v, baseline, metric) for v in others(variants, baseline)]


def seeds_summary(stats: pd.DataFrame) -> dict[str, Any]:
    """What the report says about seeds: ``empty`` (no completed run), ``primary`` (the seeds whose
    models are benchmarked), ``min_n``/``max_n`` (completed runs per variant), ``seeds`` (all
    completed seeds) and ``median_sd`` (median seed sd of mAP50-95, NaN when none)."""
    if stats.empty:
        return {"empty": True}
    counts = stats["n"].astype(int)
    sds = stats.loc[stats["n"] > 1, "map50_95_sd"].dropna()
    return {
        "empty": False,
        "primary": sorted({int(x) for x in stats["primary_seed"].dropna()}),
        "min_n": int(counts.min()),
        "max_n": int(counts.max()),
        "seeds": sorted({s for ss in stats["seeds"] for s in ss}),
        "median_sd": float(sds.median()) if len(sds) else math.nan,
    }
