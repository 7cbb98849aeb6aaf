"""The report's numbers, computed from the benchmark table and the records; no wording here.

Every figure a sentence of the report states comes from a function of this module (or of
:mod:`yoloshrink.report.seeds`); :mod:`yoloshrink.report.text` and the templates turn them into
words.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from yoloshrink.report.markdown import mean_sd, with_sd
from yoloshrink.report.seeds import SEED_METRICS, known, others, seed_sd


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The completed rows of the benchmark table."""
    return df[df["status"] == "ok"]


def variant_imgsz(imgsz: int | dict[str, int], variant: str, default: int = 640) -> int:
    """The input size of ``variant``: ``imgsz`` itself when one size is given for all."""
    return int(imgsz.get(variant, default)) if isinstance(imgsz, dict) else int(imgsz)


def gflops_of(df: pd.DataFrame, summaries: dict[str, dict[str, Any]], variant: str) -> float:
    """GFLOPs of ``variant`` at its own benchmark input size (the table's ``gflops``), else at 640:
    variants of an input-size grid are compared at the size they run at."""
    if "gflops" in df.columns:
        rows = df[(df["variant"] == variant)]["gflops"].dropna()
        if len(rows):
            return float(rows.iloc[0])
    return float(summaries[variant]["gflops_640"])


def pareto_front(df: pd.DataFrame) -> pd.DataFrame:
    """Rows not dominated in (lower p50_ms, higher map50_95), sorted by latency."""
    d = df.dropna(subset=["p50_ms", "map50_95"]).sort_values(["p50_ms", "map50_95"], ascending=[True, False])
    best, keep = -math.inf, []
    for idx, r in d.iterrows():
        if r["map50_95"] > best:
            keep.append(idx)
            best = r["map50_95"]
    return d.loc[keep]


def non_dominated(df: pd.DataFrame) -> dict[tuple[str, int], list[str]]:
    """Per (target, threads): the variants on the Pareto front (lower p50_ms, higher map50_95),
    fastest first. Failed rows are skipped."""
    out = {}
    for (target, t), sub in ok_rows(df).groupby(["target", "threads"], sort=False):
        out[(str(target), int(t))] = pareto_front(sub)["variant"].tolist()
    return out


def field(row: pd.Series, key: str, default: str) -> str:
    """``row[key]`` as text, ``default`` when absent or empty."""
    x = row.get(key)
    return default if x is None or x != x or x == "" else str(x)


def non_dominated_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`non_dominated` as a table: target, runtime, precision, threads, variants."""
    ok = ok_rows(df)
    rows = []
    for (target, t), variants in non_dominated(df).items():
        first = ok[(ok["target"] == target) & (ok["threads"] == t)].iloc[0]
        rows.append(
            {
                "target": target,
                "runtime": field(first, "runtime", ""),
                "precision": field(first, "precision", ""),
                "threads": t,
                "non-dominated variants (fastest first)": ", ".join(variants),
            }
        )
    return pd.DataFrame(
        rows, columns=["target", "runtime", "precision", "threads", "non-dominated variants (fastest first)"]
    )


def speedup_of(row: pd.Series) -> dict[str, Any]:
    """A row's speed-up over the baseline: ``speedup``, its interval ``lo``/``hi`` and ``verdict``
    ("faster", "slower", "no measurable difference"); the interval and verdict are None in a
    table without them (one made before speed-ups came with intervals)."""
    lo, hi = row.get("speedup_ci_low", math.nan), row.get("speedup_ci_high", math.nan)
    known_ci = lo == lo and hi == hi
    return {
        "speedup": float(row["speedup"]),
        "lo": float(lo) if known_ci else None,
        "hi": float(hi) if known_ci else None,
        "verdict": row.get("speedup_verdict") if known_ci else None,
    }


def comparisons(
    df: pd.DataFrame, summaries: dict[str, dict[str, Any]], variants: list[str], baseline: str
) -> list[dict[str, Any]]:
    """Each other variant against ``baseline``, from the table.

    Per non-baseline variant: ``variant``, ``base``, ``missing`` (no size summary on one side:
    nothing else), ``param_ratio`` and ``flops_ratio`` (baseline / variant), ``rows`` (whether
    any benchmark row completed), ``onnx`` (:func:`speedup_of` ONNX Runtime's row at the fewest
    threads, with its ``threads``; None when it did not run), ``speedups`` (the speed-ups of the
    rows whose interval excludes 1, or of every row in a table without intervals),
    ``unmeasurable`` (how many of the ``measured`` rows show no measurable difference),
    ``thread_counts`` (how many thread counts its completed rows ran at) and
    ``map`` ({"variant", "base", "delta"}: PyTorch mAP50-95 of both, when both ran).
    """
    base = baseline
    ok = ok_rows(df)
    pt = ok[(ok["target"] == "pytorch")].drop_duplicates("variant").set_index("variant")["map50_95"]
    out = []
    for v in others(variants, baseline):
        item: dict[str, Any] = {"variant": v, "base": base, "missing": v not in summaries or base not in summaries}
        if item["missing"]:
            out.append(item)
            continue
        item["param_ratio"] = summaries[base]["parameters"] / summaries[v]["parameters"]
        item["flops_ratio"] = gflops_of(df, summaries, base) / gflops_of(df, summaries, v)
        sub = ok[(ok["variant"] == v)]
        item["rows"] = not sub.empty
        item["onnx"] = None
        for (target, t), r in sub.set_index(["target", "threads"]).iterrows():
            if target == "onnx" and t == sub["threads"].min() and r["speedup"] == r["speedup"]:
                item["onnx"] = {**speedup_of(r), "threads": int(t)}
        measured = [speedup_of(r) for _, r in sub.iterrows() if r["speedup"] == r["speedup"]]
        item["measured"] = len(measured)
        item["thread_counts"] = int(sub["threads"].nunique())
        item["speedups"] = [m["speedup"] for m in measured if m["verdict"] != "no measurable difference"]
        item["unmeasurable"] = sum(m["verdict"] == "no measurable difference" for m in measured)
        item["map"] = None
        if v in pt and base in pt:
            item["map"] = {"variant": float(pt[v]), "base": float(pt[base]), "delta": float(pt[v] - pt[base])}
        out.append(item)
    return out


def straddles(row: pd.Series | dict[str, Any], budget: float) -> bool:
    """Whether a row's p50 interval reaches across ``budget`` (its p50 alone decides whether it fits)."""
    lo, hi = row.get("p50_ci_low_ms", math.nan), row.get("p50_ci_high_ms", math.nan)
    return lo == lo and hi == hi and lo <= budget < hi


def budget_per_target(df: pd.DataFrame, budgets_ms: list[float], stats: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each budget, thread count and target: the most accurate variant within the budget.

    One row per (budget_ms, threads, target) with the target's runtime and precision, the chosen
    ``variant`` (None when nothing fits), its ``map50_95`` (that row's, through the target's own
    model), ``sd`` (the variant's seed sd of mAP50-95 when it has several seeds, else NaN), the
    chosen row's ``p50_ms`` and interval, and ``straddles`` (:func:`straddles`). A budget is met
    when the p50 is under it. Failed rows are skipped; ties go to the faster row.
    """
    ok = ok_rows(df).dropna(subset=["p50_ms", "map50_95"])
    rows = []
    for t in sorted(ok["threads"].unique()):
        for target in dict.fromkeys(ok.loc[ok["threads"] == t, "target"]):
            sub = ok[(ok["threads"] == t) & (ok["target"] == target)]
            runtime, precision = field(sub.iloc[0], "runtime", target), field(sub.iloc[0], "precision", "?")
            for budget in budgets_ms:
                fit = sub[sub["p50_ms"] <= budget]
                row = {"budget_ms": budget, "threads": int(t), "target": target, "runtime": runtime}
                row["precision"] = precision
                if fit.empty:
                    rows.append({**row, "variant": None, "map50_95": math.nan, "sd": math.nan, "straddles": False})
                    continue
                best = fit.sort_values(["map50_95", "p50_ms"], ascending=[False, True]).iloc[0]
                sd = seed_sd(stats, best["variant"])
                rows.append({**row, "variant": best["variant"], "map50_95": best["map50_95"], "sd": sd})
                rows[-1].update(p50_ms=best["p50_ms"], straddles=straddles(best, budget))
                rows[-1].update(p50_ci_low_ms=best.get("p50_ci_low_ms"), p50_ci_high_ms=best.get("p50_ci_high_ms"))
    columns = ["budget_ms", "threads", "target", "runtime", "precision", "variant", "map50_95", "sd"]
    columns += ["p50_ms", "p50_ci_low_ms", "p50_ci_high_ms", "straddles"]
    return pd.DataFrame(rows, columns=columns)


def budget_tables(answers: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """:func:`budget_per_target` as one compact table per thread count: rows budgets, columns
    targets, cells "variant mAP50-95 ± sd" or "—" when nothing fits."""
    out = {}
    for t, sub in answers.groupby("threads", sort=True):
        cells = sub.assign(
            cell=[
                "—" if v is None or v != v else f"{v} {with_sd(m, sd)}"
                for v, m, sd in zip(sub["variant"], sub["map50_95"], sub["sd"], strict=True)
            ],
            budget=[f"{b:g} ms" for b in sub["budget_ms"]],
        )
        table = cells.pivot(index="budget", columns="target", values="cell")
        table = table.loc[list(dict.fromkeys(cells["budget"])), list(dict.fromkeys(cells["target"]))]
        out[int(t)] = table.reset_index().rename_axis(columns=None)
    return out


def budget_overall(
    df: pd.DataFrame, budgets_ms: list[float], stats: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """For each thread count and latency budget, the most accurate (variant, target) within it.

    Uses the network-only p50 and each row's own mAP50-95 (through that target's model). Each
    item: ``budget``, ``threads`` and one of ``best`` (the row: variant, target, map50_95,
    p50_ms, p90_ms, ``sd`` its variant's seed sd, ``ci`` its p50 interval and ``straddles``) or
    ``fastest`` (when nothing fits: the fastest row's variant, target, p50_ms and ``straddles``);
    the other is None. A budget is met when the p50 is under it.
    """
    ok = ok_rows(df).dropna(subset=["p50_ms", "map50_95"])
    out = []
    for t in sorted(ok["threads"].unique()):
        sub = ok[ok["threads"] == t]
        for budget in budgets_ms:
            item: dict[str, Any] = {"budget": budget, "threads": int(t), "best": None, "fastest": None}
            fit = sub[sub["p50_ms"] <= budget]
            if fit.empty:
                fastest = sub.loc[sub["p50_ms"].idxmin()]
                item["fastest"] = {k: fastest[k] for k in ("variant", "target", "p50_ms")}
                item["fastest"]["straddles"] = straddles(fastest, budget)
            else:
                best = fit.sort_values(["map50_95", "p50_ms"], ascending=[False, True]).iloc[0]
                item["best"] = {k: best[k] for k in ("variant", "target", "map50_95", "p50_ms", "p90_ms")}
                item["best"]["sd"] = seed_sd(stats, best["variant"])
                item["best"]["straddles"] = straddles(best, budget)
                item["best"]["ci"] = (best.get("p50_ci_low_ms", math.nan), best.get("p50_ci_high_ms", math.nan))
            out.append(item)
    return out


#: The roofs of peak.json (reference under ``peaks``, theoretical under ``theoretical.peaks``):
#: a row's precision -> (label, key).
ROOFS = {"f32": ("fp32", "fp32_gflops"), "bf16": ("bf16", "bf16_gflops"), "int8": ("int8", "int8_gops")}


def floor_table(df: pd.DataFrame, peak: dict[str, Any] | None = None) -> pd.DataFrame:
    """How far each (variant, threads) is from this machine's compute roofs.

    Per roof (fp32, bf16, int8): the measured reference roof and the theoretical peak in GOP/s,
    from ``peak`` (peak.json: every roof it measured, whether or not a row ran at that precision)
    or, without it, from the rows of that precision (``peak_gflops``, ``theoretical_gflops``),
    and the floor each implies, the variant's GFLOPs at its input size divided by it, in ms. Only
    the theoretical floor is a latency no runtime can beat without doing fewer operations (and
    only where its clock is the CPU's maximum); the reference floor is what a GEMM as fast as
    torch's would take. A roof no row and no record knows is left out. Beside them, the fastest
    completed row, its precision, its p50 and the fraction of its own precision's roofs it
    attained (a bf16 row against the bf16 roof, not the fp32 floor beside it).
    """
    if not {"gflops", "peak_gflops", "p50_ms", "precision"} <= set(df.columns):
        return pd.DataFrame()
    ok = ok_rows(df).dropna(subset=["p50_ms", "gflops"])
    measured = (peak or {}).get("peaks") or {}
    theory = ((peak or {}).get("theoretical") or {}).get("peaks") or {}
    rows = []
    for (variant, threads), sub in ok.groupby(["variant", "threads"], sort=False):
        gflops = float(sub["gflops"].iloc[0])
        row: dict[str, Any] = {"variant": variant, "threads": int(threads), "imgsz": int(sub["imgsz"].iloc[0])}
        row["GFLOPs"] = gflops
        for precision, (label, key) in ROOFS.items():
            rows_p = sub[sub["precision"] == precision]
            sources = (("peak_gflops", "reference", measured), ("theoretical_gflops", "theoretical", theory))
            for column, name, record in sources:
                value = (record.get(str(int(threads))) or {}).get(key)
                if value is None:
                    roof = rows_p[column].dropna() if column in rows_p else pd.Series(dtype=float)
                    value = float(roof.iloc[0]) if len(roof) else math.nan
                row[f"{label} {name} GOP/s"] = float(value)
                row[f"{label} {name} floor ms"] = gflops / value * 1000 if value == value else math.nan
        best = sub.loc[sub["p50_ms"].idxmin()]
        row["fastest"] = f"{best['target']} ({best['precision']})"
        row["p50 ms"] = float(best["p50_ms"])
        row["of its reference"] = float(best.get("fraction_of_peak", math.nan))
        row["of its theoretical"] = float(best.get("fraction_of_theoretical", math.nan))
        rows.append(row)
    return pd.DataFrame(rows).dropna(axis=1, how="all")


def roof_facts(peak: dict[str, Any] | None) -> dict[str, Any]:
    """How the measured reference roof was measured (``method``) and the theoretical peak with its
    derivation (``theory``, None when peak.json predates it), from a peak.json record."""
    peak = peak or {}
    default = "2048x2048 matrix products (torch fp32/bf16, ONNX Runtime MatMulInteger int8)"
    return {"method": peak.get("method", default), "theory": peak.get("theoretical")}


def above_reference(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Completed rows that attained more than the measured reference roof (fraction_of_peak > 1):
    variant, target, threads, fraction_of_peak and fraction_of_theoretical (NaN when unknown)."""
    if "fraction_of_peak" not in df.columns:
        return []
    above = ok_rows(df)[ok_rows(df)["fraction_of_peak"] > 1]
    return [
        {
            "variant": r["variant"],
            "target": r["target"],
            "threads": int(r["threads"]),
            "fraction_of_peak": float(r["fraction_of_peak"]),
            "fraction_of_theoretical": float(r.get("fraction_of_theoretical", math.nan)),
        }
        for _, r in above.iterrows()
    ]


def variant_table(
    variants: list[str],
    summaries: dict[str, dict[str, Any]],
    infos: dict[str, dict[str, Any]],
    stats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per variant: size, training outcome and the optimizer that actually ran.

    ``infos`` is variant -> the primary seed's train_info.json. With ``stats`` a variant trained
    with several seeds shows "mean ± sd (n=N)" over its completed seeds for P, R, mAP50 and
    mAP50-95, and a column names the seed whose model was exported and benchmarked; the other
    columns (epochs, best epoch, train time, optimizer) are the primary seed's.
    """
    metrics = {"P": "precision", "R": "recall", "mAP50": "map50", "mAP50-95": "map50_95"}
    rows = []
    for v in variants:
        s, i = summaries.get(v, {}), infos.get(v)
        if i is None or i.get("status", "ok") != "ok":
            why = "missing" if i is None else f"training failed: {i.get('error', '?')}"
            rows.append({"variant": v, "parameters": s.get("parameters", math.nan), "status": why})
            continue
        m = i.get("final_metrics", {})
        row: dict[str, Any] = {
            "variant": v,
            "family": s.get("family", "yolov8"),
            "distilled from": (i.get("distill") or {}).get("teacher", ""),
            "parameters": s.get("parameters", math.nan),
            "GFLOPs@640": s.get("gflops_640", math.nan),
            "epochs run": i["epochs_run"],
            "best epoch": i.get("best_epoch", math.nan),
        }
        st = stats.loc[v] if stats is not None and v in stats.index else None
        for col, name in metrics.items():
            key = next(k for k, n in SEED_METRICS.items() if n == name)
            if st is not None and st["n"] > 1:
                row[col] = mean_sd(st[f"{name}_mean"], st[f"{name}_sd"], int(st["n"]))
            else:
                row[col] = m.get(key, math.nan)
        row["train s"] = i.get("wall_seconds", math.nan)
        row["optimizer"] = f"{i.get('optimizer_resolved')} lr {i.get('lr0_resolved'):.6g}"
        if st is not None:
            row["benchmarked model"] = (
                f"seed {int(st['primary_seed'])}" if known(st["primary_seed"]) else "primary seed"
            )
        row["status"] = "ok"
        rows.append(row)
    return pd.DataFrame(rows)


def reference_table(ref: dict[str, Any]) -> pd.DataFrame:
    """The original experiment's per-variant rows."""
    return pd.DataFrame([{"variant": v, **vals} for v, vals in ref["variants"].items()])


def reference_benchmark_table(ref: dict[str, Any]) -> pd.DataFrame:
    """The original experiment's benchmark per format and variant: size, mAP50-95 and its
    validator time on the GPU machine (column named so that nobody reads it as a CPU p50)."""
    rows = [
        {"format": fmt, "variant": v, "size MB": size, "mAP50-95": m, "GPU-machine validator ms/image": ms}
        for fmt, per_variant in (ref.get("benchmark") or {}).items()
        for v, (size, m, ms) in per_variant.items()
    ]
    return pd.DataFrame(rows)


#: What the budget answers measure against: the whole frame's p50 (the default) or the network call's.
BUDGET_BASES = ("frame", "network")
#: What a p50 of each basis is per, in the report's words.
BASIS_UNIT = {"frame": "frame", "network": "network call"}

#: A row's network-call latency columns and their whole-frame counterparts.
FRAME_COLUMNS = {
    "p50_ms": "e2e_p50_ms",
    "p50_ci_low_ms": "e2e_p50_ci_low_ms",
    "p50_ci_high_ms": "e2e_p50_ci_high_ms",
    "p50_jobs_ci_low_ms": "e2e_p50_jobs_ci_low_ms",
    "p50_jobs_ci_high_ms": "e2e_p50_jobs_ci_high_ms",
    "p90_ms": "e2e_p90_ms",
}


def budget_view(df: pd.DataFrame, basis: str) -> pd.DataFrame:
    """The benchmark table as the budget answers read it: for ``basis`` "frame" each row's
    whole-frame p50, interval and p90 in the place of the network call's (NaN where a record
    predates them: such rows answer no budget); "network" leaves the table as it is."""
    if basis not in BUDGET_BASES:
        raise ValueError(f"budget basis {basis!r}; expected one of {BUDGET_BASES}")
    if basis == "network":
        return df
    out = df.copy()
    for network, frame in FRAME_COLUMNS.items():
        out[network] = df[frame] if frame in df.columns else math.nan
    return out


#: The roof a row's precision runs against (the names of peak.json's roofs).
ROOF_OF_PRECISION = {"f32": "fp32", "bf16": "bf16", "int8": "int8"}


def frame_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per completed row, what a frame costs: the network p50, the frame's p50 and each stage's
    p50 (pre-processing, inference, post-processing), what the frame adds to the network call
    (``e2e_overhead``), the stage with the largest mean, and the fraction of the roof of the
    precision that ran (measured reference and theoretical) the network call attained."""
    needed = {"e2e_p50_ms", "pre_p50_ms", "infer_p50_ms", "post_p50_ms", "dominant_stage"}
    if not needed <= set(df.columns):
        return pd.DataFrame()
    ok = ok_rows(df).dropna(subset=["p50_ms", "e2e_p50_ms", "pre_p50_ms"])
    return pd.DataFrame(
        {
            "variant": ok["variant"],
            "target": ok["target"],
            "threads": ok["threads"].astype(int),
            "precision": ok["precision"],
            "network p50 ms": ok["p50_ms"],
            "frame p50 ms": ok["e2e_p50_ms"],
            "pre p50 ms": ok["pre_p50_ms"],
            "infer p50 ms": ok["infer_p50_ms"],
            "post p50 ms": ok["post_p50_ms"],
            "frame adds": ok["e2e_overhead"],
            "dominant": ok["dominant_stage"],
            "roof": ok["precision"].map(ROOF_OF_PRECISION).fillna("fp32"),
            "of reference roof": ok["fraction_of_peak"],
            "of theoretical": ok["fraction_of_theoretical"],
        }
    ).reset_index(drop=True)


def fastest_frames(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Per thread count, the row with the fastest frame (lowest whole-frame p50), as a
    :func:`frame_table` row with its interval (``ci``) and input path (``input_path``)."""
    table = frame_table(df)
    if table.empty:
        return []
    ok = ok_rows(df).dropna(subset=["p50_ms", "e2e_p50_ms", "pre_p50_ms"]).reset_index(drop=True)
    out = []
    for _, sub in table.groupby("threads", sort=True):
        i = sub["frame p50 ms"].idxmin()
        row = {k.replace(" ", "_"): v for k, v in table.loc[i].items()}
        row["ci"] = (float(ok.loc[i, "e2e_p50_ci_low_ms"]), float(ok.loc[i, "e2e_p50_ci_high_ms"]))
        row["input_path"] = ok.loc[i].get("input_path", "")
        out.append(row)
    return out
