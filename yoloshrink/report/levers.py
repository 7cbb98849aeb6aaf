"""The levers beyond width: the model family (YOLO11, YOLO26 against the first family of the
table, at the same width, input size and heads setting, each family at its own stock depth; the
depths and post-processing that differ within a pair are reported) and distillation (a student
against its undistilled twin). Numbers only; the words are
macros of ``templates/sentences.md.j2``.

Accuracy is the seed mean of the final validation mAP50-95 (:func:`yoloshrink.report.seeds.seed_diff`:
the difference against 2 standard errors); speed is the quotient of the two variants' paired
speed-ups over the baseline on one timing target (:func:`reference_timing`, :func:`compare`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from yoloshrink import model
from yoloshrink.report.analysis import field, ok_rows
from yoloshrink.report.seeds import seed_diff

LEVERS = ("family", "distillation")


def reference_timing(df: pd.DataFrame) -> tuple[str, int] | None:
    """The (target, threads) the levers are timed on: ONNX Runtime at the fewest threads, else
    the PyTorch checkpoint's rows; None when neither completed."""
    ok = ok_rows(df).dropna(subset=["p50_ms"])
    for target in ("onnx", "pytorch"):
        sub = ok[ok["target"] == target]
        if len(sub):
            return target, int(sub["threads"].min())
    return None


def points(df: pd.DataFrame) -> pd.DataFrame:
    """One row per variant (table order) with its knobs; ``depth_key`` is "stock" at its
    family's stock depth, so that families compare at their own "n" depth."""
    cols = ["variant", "family", "distilled_from", "width", "depth", "heads", "imgsz", "parameters"]
    p = df.drop_duplicates("variant")[cols].copy()
    p["family"] = p["family"].fillna(model.DEFAULT_FAMILY)
    p["distilled_from"] = p["distilled_from"].fillna("").astype(str)
    p["depth_key"] = [
        "stock" if abs(float(d) - model.stock_depth(f)) < 1e-6 else f"{float(d):g}"
        for d, f in zip(p["depth"], p["family"], strict=True)
    ]
    return p.set_index("variant")


def _key(p: pd.Series) -> tuple[Any, ...]:
    return (float(p["width"]), p["depth_key"], str(p["heads"]), int(p["imgsz"]))


def pairs(df: pd.DataFrame, lever: str) -> list[tuple[str, str]]:
    """(variant, the variant it is compared with) per ``lever``: "family" pairs every variant of
    another family with the first family's variant of the same knobs (distilled or not alike);
    "distillation" pairs every distilled student with its undistilled twin. A table written
    before families and distillation (without their columns) has no pairs."""
    if not {"family", "distilled_from", "width", "depth", "heads", "imgsz"} <= set(df.columns):
        return []
    p = points(df)
    out = []
    for v, row in p.iterrows():
        if lever == "family":
            first = p["family"].iloc[0]
            if row["family"] == first:
                continue
            match = p[(p["family"] == first) & (p["distilled_from"] == row["distilled_from"])]
        elif lever == "distillation":
            if not row["distilled_from"]:
                continue
            match = p[(p["family"] == row["family"]) & (p["distilled_from"] == "")]
        else:
            raise ValueError(f"unknown lever {lever!r}; expected one of {LEVERS}")
        same = [m for m, r in match.iterrows() if _key(r) == _key(row)]
        if same:
            out.append((str(v), same[0]))
    return out


def _timing(df: pd.DataFrame, variant: str, timing: tuple[str, int] | None) -> dict[str, float]:
    """The variant's p50 on the timing target, and its speed-up over the baseline (timed side
    by side with it) with that speed-up's interval."""
    keys = {"p50_ms": "p50_ms", "speedup": "speedup", "lo": "speedup_ci_low", "hi": "speedup_ci_high"}
    nan = dict.fromkeys(keys, math.nan)
    if timing is None:
        return nan
    ok = ok_rows(df)
    sub = ok[(ok["variant"] == variant) & (ok["target"] == timing[0]) & (ok["threads"] == timing[1])]
    if sub.empty:
        return nan
    return {k: float(sub.iloc[0].get(col, math.nan)) for k, col in keys.items()}


def compare(df: pd.DataFrame, stats: pd.DataFrame, lever: str) -> list[dict[str, Any]]:
    """Per pair of :func:`pairs`: :func:`seed_diff` of mAP50-95, the parameter counts, both p50s
    on :func:`reference_timing`, and ``ratio``: how much faster the variant is than the one it is
    compared with (above 1: faster). Two variants' own rows come from separate timing jobs, whose
    level drifts by several per cent; each was also timed in turns with the baseline, so the
    ratio is the quotient of the two paired speed-ups (``paired``: True), or of the p50s where a
    speed-up is missing. ``overlap``: whether the two speed-ups' intervals overlap (then the
    latency difference is not established; None without intervals)."""
    found = pairs(df, lever)
    if not found:
        return []
    p, timing = points(df), reference_timing(df)
    heads = df.drop_duplicates("variant").set_index("variant")["end2end"] if "end2end" in df.columns else None

    def nms_free(variant: str) -> bool | None:
        """Whether ``variant``'s head is end to end (no NMS); None where the table does not say."""
        return bool(heads[variant]) if heads is not None and pd.notna(heads[variant]) else None

    out = []
    for v, base in found:
        a, b = _timing(df, v, timing), _timing(df, base, timing)
        paired = a["speedup"] > 0 and b["speedup"] > 0
        if paired:
            ratio = a["speedup"] / b["speedup"]
        else:
            ratio = b["p50_ms"] / a["p50_ms"] if a["p50_ms"] > 0 and b["p50_ms"] == b["p50_ms"] else math.nan
        known = all(x == x for x in (a["lo"], a["hi"], b["lo"], b["hi"]))
        item = {
            **seed_diff(stats, v, base),
            "lever": lever,
            "family": p.loc[v, "family"],
            "base_family": p.loc[base, "family"],
            "teacher": p.loc[v, "distilled_from"],
            "depth": float(p.loc[v, "depth"]),
            "base_depth": float(p.loc[base, "depth"]),
            "end2end": nms_free(v),
            "base_end2end": nms_free(base),
            "parameters": int(p.loc[v, "parameters"]),
            "base_parameters": int(p.loc[base, "parameters"]),
            "target": timing[0] if timing else None,
            "threads": timing[1] if timing else None,
            "p50_ms": a["p50_ms"],
            "base_p50_ms": b["p50_ms"],
            "speedup": a["speedup"],
            "base_speedup": b["speedup"],
            "ratio": ratio,
            "paired": paired,
            "overlap": (a["lo"] <= b["hi"] and b["lo"] <= a["hi"]) if known else None,
        }
        out.append(item)
    return out


def lever_table(items: list[dict[str, Any]]) -> pd.DataFrame:
    """:func:`compare` as a table: one row per pair. The speed ratio is the quotient of the two
    speed-ups beside it (each from its own pair with the baseline) where both were timed, else
    of the two own-row p50s beside it."""

    def seeds(mean: float, n: int) -> str:
        return f"{mean:.3f} (n={n})" if mean == mean else "–"

    rows = [
        {
            "variant": i["variant"],
            "against": i["base"],
            "mAP50-95 (seeds)": seeds(i.get("ma", math.nan), i.get("na", 0)),
            "against (seeds)": seeds(i.get("mb", math.nan), i.get("nb", 0)),
            "difference": i.get("diff", math.nan),
            "2 SE": i.get("two_se", math.nan),
            "beyond 2 SE": {True: "yes", False: "no"}.get(i.get("larger"), "unknown"),
            "parameters": i["parameters"],
            "against's parameters": i["base_parameters"],
            "p50 ms (own row)": i["p50_ms"],
            "against's p50 ms (own row)": i["base_p50_ms"],
            "speed-up over the baseline (pair)": i.get("speedup", math.nan),
            "against's speed-up (pair)": i.get("base_speedup", math.nan),
            "speed ratio": i["ratio"],
        }
        for i in items
    ]
    return pd.DataFrame(rows)


def summary(items: list[dict[str, Any]], lever: str) -> dict[str, Any]:
    """What one lever bought over its pairs: ``n`` pairs, how many gained or lost mAP50-95
    beyond 2 SE (``gains``, ``losses``) or could not be told from the seed spread
    (``undecided``: within it, or one seed), the ``ratios`` of p50s (finite ones), how many
    pairs' p50 intervals overlap (``overlapping``), the timing ``target``/``threads`` and, for
    distillation, the ``teachers`` and whether every student kept its twin's parameter count
    (``same_parameters``); what else differs within the pairs: ``depths`` (the distinct (depth,
    its counterpart's depth) where they differ) and ``end2end`` (the distinct (no-NMS head, its
    counterpart's) where they differ)."""
    decided = [i for i in items if i.get("kind") == "compared" and i["larger"]]
    out = {
        "lever": lever,
        "n": len(items),
        "gains": [i for i in decided if i["diff"] > 0],
        "losses": [i for i in decided if i["diff"] < 0],
        "undecided": len(items) - len(decided),
        "ratios": [i["ratio"] for i in items if i["ratio"] == i["ratio"]],
        "paired": all(i["paired"] for i in items),
        "overlapping": sum(bool(i["overlap"]) for i in items),
        "target": items[0]["target"] if items else None,
        "threads": items[0]["threads"] if items else None,
        "teachers": sorted({i["teacher"] for i in items if i["teacher"]}),
        "same_parameters": all(i["parameters"] == i["base_parameters"] for i in items),
        "base_family": items[0]["base_family"] if items else "",
        "depths": sorted({(i["depth"], i["base_depth"]) for i in items if i["depth"] != i["base_depth"]}),
        "end2end": sorted(
            {
                (i["end2end"], i["base_end2end"])
                for i in items
                if i["end2end"] is not None and i["base_end2end"] is not None and i["end2end"] != i["base_end2end"]
            }
        ),
    }
    return out


def runtime_of(df: pd.DataFrame, target: str | None) -> str:
    """The runtime name of ``target``'s rows (for the sentences)."""
    ok = ok_rows(df)
    sub = ok[ok["target"] == target] if target else ok.iloc[:0]
    return field(sub.iloc[0], "runtime", str(target)) if len(sub) else str(target)
