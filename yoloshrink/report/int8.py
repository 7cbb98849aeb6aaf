"""INT8 on the CPU at hand: what each INT8 export's quantizer tried and kept, and whether it paid.

Numbers only, from the export records of the INT8 formats (their ``quantizer``,
:mod:`yoloshrink.quantize`): per (variant, INT8 format) the kept candidate against the runtime's
fastest float precision, timed side by side in the same rounds, and a table of every candidate.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def float_label(target: str, timed: dict[str, Any]) -> str:
    """A float target an INT8 format was timed against, with the runtime and the precision it
    ran at as the quantize record says (``onnx: onnxruntime f32``); the target alone in a record
    of an older version, which did not say."""
    if "precision" not in timed:
        return target
    return f"{target}: {timed.get('runtime', '')} {timed['precision'] or 'default precision'}".replace("  ", " ")


def settings_text(settings: dict[str, Any]) -> str:
    """A candidate's settings in one short cell: ``key=value`` joined by commas."""
    return ", ".join(f"{k}={v}" for k, v in settings.items())


def choice(record: dict[str, Any]) -> dict[str, Any] | None:
    """The facts of one INT8 export record chosen by "auto": variant, format, kept candidate,
    the reason, its p50 and interval, the fastest float target and its p50, the kept candidate's
    paired speed-up over it with interval, ``verdict`` ("faster", "slower" or "no measurable
    difference" by the interval), the threads and how many candidates were tried. None for a
    failed record or one whose candidate was named in the config (nothing was timed)."""
    q = record.get("quantizer") or {}
    if record.get("status") != "ok" or q.get("choose") != "auto":
        return None
    kept = next(c for c in q["candidates"] if c["name"] == q["chosen"])
    best = q["best_float"]
    sp = kept[f"speedup_over_{best}"]
    lo, hi = sp["speedup_ci_low"], sp["speedup_ci_high"]
    verdict = "faster" if lo > 1 else "slower" if hi < 1 else "no measurable difference"
    fastest = min((c for c in q["candidates"] if c["status"] == "ok"), key=lambda c: c["p50_ms"])
    return {
        "variant": record["variant"],
        "format": record["format"],
        "chosen": q["chosen"],
        "reason": q["reason"],
        "p50_ms": kept["p50_ms"],
        "ci": (kept["p50_ci_low_ms"], kept["p50_ci_high_ms"]),
        "float_target": best,
        "float_label": float_label(best, q["floats"][best]),
        "float_p50_ms": q["floats"][best]["p50_ms"],
        "speedup": sp["speedup"],
        "speedup_ci": (lo, hi),
        "verdict": verdict,
        "fastest_candidate": fastest["name"],
        "fastest_p50_ms": fastest["p50_ms"],
        "threads": q["threads"],
        "tried": len(q["candidates"]),
        "images": q["images"],
        "tolerance": q["tolerance"],
    }


def candidate_table(record: dict[str, Any]) -> pd.DataFrame:
    """Every candidate of an "auto" record: its settings, p50 with interval, paired speed-up over
    each float target with interval, mAP50-95 drop from the float model on the calibration
    images, and whether it was kept (or its error)."""
    q = record["quantizer"]
    rows = []
    for c in q["candidates"]:
        row: dict[str, Any] = {"candidate": c["name"], "settings": settings_text(c["settings"])}
        if c["status"] != "ok":
            rows.append({**row, "kept": f"failed: {c.get('error', '')}"})
            continue
        row["p50 ms"] = c["p50_ms"]
        row["95 % CI"] = f"{c['p50_ci_low_ms']:.3g}-{c['p50_ci_high_ms']:.3g}"
        for t in q["floats"]:
            s = c[f"speedup_over_{t}"]
            row[f"x over {t}"] = f"{s['speedup']:.2f} ({s['speedup_ci_low']:.2f}-{s['speedup_ci_high']:.2f})"
        row["mAP50-95 drop"] = c.get("map50_95_drop", math.nan)
        row["kept"] = "yes" if c["name"] == q["chosen"] else ""
        rows.append(row)
    for t, v in q["floats"].items():
        ci = f"{v['p50_ci_low_ms']:.3g}-{v['p50_ci_high_ms']:.3g}"
        rows.append({"candidate": f"{t} (float)", "settings": float_label(t, v), "p50 ms": v["p50_ms"], "95 % CI": ci})
    return pd.DataFrame(rows).fillna("")
