"""The benchmark table: one row per (variant, format, threads), from the per-job records.

Columns are documented in README.md ("The benchmark CSV") and listed in
:data:`yoloshrink.layout.BENCHMARK_COLUMNS`.
Every record that failed still gives its row, with ``status`` ``failed`` and the error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from yoloshrink import layout
from yoloshrink.bench.stats import SPEEDUP_KEYS, between_jobs, interference, jobs_interval
from yoloshrink.environment import environment_id
from yoloshrink.fsutil import atomic_write_text, path_size, read_json
from yoloshrink.targets import TARGETS

#: A pair's own p50s (the speed-up's numerator and denominator) as the table names them.
PAIR_COLUMNS = {
    "p50_ms": "pair_p50_ms",
    "p50_ci_low_ms": "pair_p50_ci_low_ms",
    "p50_ci_high_ms": "pair_p50_ci_high_ms",
    "baseline_p50_ms": "pair_baseline_p50_ms",
    "baseline_p50_ci_low_ms": "pair_baseline_p50_ci_low_ms",
    "baseline_p50_ci_high_ms": "pair_baseline_p50_ci_high_ms",
}


#: The whole frame's stages (:mod:`yoloshrink.bench.latency`): p50 and mean of each.
STAGE_COLUMNS = [f"{stage}_{stat}" for stat in ("p50_ms", "mean_ms") for stage in ("pre", "infer", "post")]


def gflops_at(summary: dict[str, Any], size: int) -> float:
    """A model's GFLOPs at input ``size``: ultralytics' own count where ``size`` is the size its
    summary counted at (``gflops_imgsz``, the training size), else its count at 640 px scaled by
    area (close, not exact: YOLO26 at 192 px counts 0.5204, scaled 0.530)."""
    if size == summary.get("imgsz") and "gflops_imgsz" in summary:
        return float(summary["gflops_imgsz"])
    return float(summary["gflops_640"]) * (size / 640) ** 2


def overhead(lat: dict[str, Any]) -> float:
    """What the frame adds to the network call, as a fraction of it: (e2e p50 - p50) / p50."""
    p50, e2e = lat.get("p50_ms", math.nan), lat.get("e2e_p50_ms", math.nan)
    return round((e2e - p50) / p50, 4) if p50 == p50 and e2e == e2e and p50 > 0 else math.nan


def tried(quantizer: dict[str, Any] | None) -> str:
    """An INT8 export's candidates in one cell: "name p50 ms" each (as timed by "auto"; only the
    name when it was named in the config), "name failed" for one that failed."""
    out = []
    for c in (quantizer or {}).get("candidates", []):
        if c["status"] != "ok":
            out.append(f"{c['name']} failed")
        else:
            out.append(f"{c['name']} {c['p50_ms']:.3g} ms" if "p50_ms" in c else c["name"])
    return "; ".join(out)


def build_table(
    accuracy: list[Path],
    latency: list[Path],
    speedups: list[Path],
    trainings: list[Path],
    exports: list[Path],
    summaries: list[Path],
    peak: Path,
    environment: Path,
    parity_tolerance: float,
    imgsz: dict[str, int] | int,
    controls: list[Path] = (),
    baseline: str | None = None,
) -> pd.DataFrame:
    """Join accuracy, latency, export and size records into the benchmark table.

    Every input is a record of :mod:`yoloshrink.layout` (``exports`` are export folders holding
    theirs; ``trainings`` the train_info.json of each variant's primary run); each says which
    variant, format, target and threads it is about. ``baseline`` (the workflow's ``BASELINE``;
    default the first summary's variant) has speed-up 1 on its rows, and every speed-up and
    control record must have been timed against it (else a ValueError names the record); every
    other row's ``speedup`` and interval come from its ``speedups`` record (the two models in
    processes taking turns), with the pair's own
    p50s beside it and whether the pair slowed either model beyond its own row's interval
    (:func:`yoloshrink.bench.stats.interference`). Every row carries its runtime's A/A control
    (``controls``: the baseline against itself) at its thread count. A target timed as another
    (its latency record's ``same_as``: the same precision ran) has no row of its own: it is
    named in that target's ``aliases``. ``imgsz`` is the input size exported, timed and scored,
    per variant (or one for all).
    """
    summary_by_variant = {r["variant"]: r for r in (layout.read_record("summary", p) for p in summaries)}
    variants = list(summary_by_variant)
    baseline = baseline or variants[0]
    export_rec: dict[tuple[str, str], dict[str, Any]] = {}
    for p in exports:
        rec = layout.read_record("export", Path(p) / layout.EXPORT_RECORD)
        if rec["status"] == "ok":
            rec["size_bytes"] = path_size(Path(p) / rec["artefact"])
        export_rec[(rec["variant"], rec["format"])] = rec
    teachers: dict[str, str] = {}
    for p in trainings:
        info = layout.read_record("train_info", p)
        teachers[info["variant"]] = (info.get("distill") or {}).get("teacher", "")
        if info["status"] == "ok":
            size = layout.best_weights(p).stat().st_size
            export_rec[(info["variant"], "pytorch")] = {"status": "ok", "size_bytes": size}
        else:
            export_rec[(info["variant"], "pytorch")] = {
                "status": "failed",
                "error": f"training failed: {info.get('error')}",
            }
    acc = {(r["variant"], r["target"]): r for r in (layout.read_record("accuracy", p) for p in accuracy)}
    paired, checks = {}, {}
    for kind, paths in (("speedup", speedups), ("control", controls)):
        for p in paths:
            r = layout.read_record(kind, p)
            if r["baseline"] != baseline:
                raise ValueError(f"{p}: timed against {r['baseline']!r}, but the baseline is {baseline!r}; rerun it")
            if kind == "speedup":
                paired[(r["variant"], r["target"], r["threads"])] = r
            else:
                checks[(TARGETS[r["target"]].runtime, r["threads"])] = r
    lat_records = [layout.read_record("latency", p) for p in latency]
    aliases: dict[tuple[str, str, int], list[str]] = {}
    for lat in lat_records:
        if lat.get("same_as"):
            aliases.setdefault((lat["variant"], lat["same_as"], lat["threads"]), []).append(lat["target"])
    alone = {(r["variant"], r["target"], r["threads"]): r for r in lat_records}
    env = environment_id(read_json(environment))
    roofs = read_json(peak)
    peaks = roofs["peaks"]
    bounds = roofs.get("theoretical", {}).get("peaks", {})

    rows = []
    for lat in lat_records:
        if lat.get("same_as"):
            continue
        variant, target = lat["variant"], lat["target"]
        pair = paired.get((variant, target, lat["threads"]))
        fmt = TARGETS[target].format
        a = acc.get((variant, target), {"status": "failed", "error": "no accuracy record"})
        ex = export_rec.get((variant, fmt), {"status": "failed", "error": "no export record"})
        s = summary_by_variant[variant]
        errors = [r.get("error") for r in (ex, a, lat) if r.get("status") != "ok"]
        ok = not errors
        size = imgsz[variant] if isinstance(imgsz, dict) else imgsz
        gflops = gflops_at(s, size)
        p50 = lat.get("p50_ms", math.nan)
        attained = gflops / (p50 / 1000) if p50 == p50 and p50 > 0 else math.nan
        roof_key = {"bf16": "bf16_gflops", "int8": "int8_gops"}.get(lat.get("precision", ""), "fp32_gflops")
        peak_gflops = peaks.get(str(lat.get("threads")), {}).get(roof_key) or math.nan
        bound = bounds.get(str(lat.get("threads")), {}).get(roof_key) or math.nan
        rows.append(
            {
                "variant": variant,
                "family": s.get("family", "yolov8"),
                "distilled_from": teachers.get(variant, ""),
                "width": s["width_multiple"],
                "depth": s["depth_multiple"],
                "heads": s.get("heads", "P3-P5"),
                "target": target,
                "format": fmt,
                "threads": lat["threads"],
                "status": "ok" if ok else "failed",
                "error": "; ".join(dict.fromkeys(e for e in errors if e)) if errors else "",
                "runtime": lat.get("runtime", ""),
                "runtime_version": lat.get("runtime_version", ""),
                "precision": lat.get("precision", ""),
                "end2end": lat.get("end2end", pd.NA),
                "imgsz": size,
                "parameters": s["parameters"],
                "gflops": round(gflops, 4),
                "size_mb": round(ex["size_bytes"] / 1e6, 3) if "size_bytes" in ex else math.nan,
                "map50_95": a.get("map50_95", math.nan),
                "map50": a.get("map50", math.nan),
                "val_precision": a.get("precision", math.nan),
                "val_recall": a.get("recall", math.nan),
                "cpus": lat.get("cpus", ""),
                "sessions": lat.get("sessions", math.nan),
                "warmup_calls": lat.get("warmup_calls", math.nan),
                "warmup_settled": lat.get("warmup_settled", pd.NA),
                "rounds": lat.get("rounds", math.nan),
                "n_runs": lat.get("n", math.nan),
                "p50_ms": p50,
                "p50_ci_low_ms": lat.get("p50_ci_low_ms", math.nan),
                "p50_ci_high_ms": lat.get("p50_ci_high_ms", math.nan),
                "round_cv": lat.get("round_cv", math.nan),
                "p90_ms": lat.get("p90_ms", math.nan),
                "p99_ms": lat.get("p99_ms", math.nan),
                "mean_ms": lat.get("mean_ms", math.nan),
                "sd_ms": lat.get("sd_ms", math.nan),
                "min_ms": lat.get("min_ms", math.nan),
                "e2e_p50_ms": lat.get("e2e_p50_ms", math.nan),
                "e2e_p50_ci_low_ms": lat.get("e2e_p50_ci_low_ms", math.nan),
                "e2e_p50_ci_high_ms": lat.get("e2e_p50_ci_high_ms", math.nan),
                "e2e_p90_ms": lat.get("e2e_p90_ms", math.nan),
                "e2e_mean_ms": lat.get("e2e_mean_ms", math.nan),
                **{k: lat.get(k, math.nan) for k in STAGE_COLUMNS},
                "e2e_overhead": overhead(lat),
                "dominant_stage": lat.get("dominant_stage", ""),
                "input_path": lat.get("input_path", ""),
                "post_path": lat.get("post_path", ""),
                "int8_setting": (ex.get("quantizer") or {}).get("chosen", ""),
                "int8_tried": tried(ex.get("quantizer")),
                "gflops_per_s": round(attained, 3),
                "peak_gflops": peak_gflops,
                "fraction_of_peak": round(attained / peak_gflops, 4) if peak_gflops == peak_gflops else math.nan,
                "theoretical_gflops": bound,
                "fraction_of_theoretical": round(attained / bound, 4) if bound == bound else math.nan,
                **speedup_fields(variant == baseline, pair),
                **pair_fields(pair, alone.get((baseline, target, lat["threads"]), {}), lat),
                **control_fields(checks.get((TARGETS[target].runtime, lat["threads"]))),
                "aliases": ",".join(aliases.get((variant, target, lat["threads"]), [])),
                "environment": env,
            }
        )
    df = jobs_fields(pd.DataFrame(rows), baseline)
    ref = df[df["target"] == "pytorch"].drop_duplicates("variant").set_index("variant")["map50_95"]
    df["map50_95_delta"] = df["map50_95"] - df["variant"].map(ref)
    df["parity_ok"] = (df["map50_95_delta"].abs() <= parity_tolerance).where(df["map50_95_delta"].notna(), other=pd.NA)
    order = {**{v: i for i, v in enumerate(variants)}, **{f: i for i, f in enumerate(TARGETS)}}
    df = df.sort_values(
        ["variant", "target", "threads"],
        key=lambda c: c.map(order) if c.name in ("variant", "target") else c,
    )
    return df[layout.BENCHMARK_COLUMNS].reset_index(drop=True)


def speedup_fields(is_baseline: bool, record: dict[str, Any] | None) -> dict[str, Any]:
    """A row's speed-up columns: 1 for the baseline itself, else its paired record's (NaN and
    the verdict "not measured: <error>" when the pair was not timed)."""
    if is_baseline:
        ones = dict.fromkeys(SPEEDUP_KEYS, 1.0)
        return {**ones, "speedup_verdict": "baseline", "speedup_rounds": math.nan}
    if record is None or record["status"] != "ok":
        why = "no record" if record is None else record.get("error", "failed")
        nan = dict.fromkeys((*SPEEDUP_KEYS, "speedup_rounds"), math.nan)
        return {**nan, "speedup_verdict": f"not measured: {why}"}
    keys = (*SPEEDUP_KEYS, "speedup_verdict")
    return {**{k: record[k] for k in keys}, "speedup_rounds": record["rounds"]}


def pair_fields(pair: dict[str, Any] | None, baseline_row: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A variant row's pair: the two p50s its speed-up came from, with their intervals, and each
    model's slow-down in the pair against its own latency row (NaN for the baseline's rows and a
    pair that did not run)."""
    if pair is None or pair.get("status") != "ok" or "p50_ms" not in pair:
        nan = dict.fromkeys([*PAIR_COLUMNS.values(), "pair_slowdown", "baseline_pair_slowdown"], math.nan)
        return {**nan, "pair_interference": pd.NA}
    check = interference(pair, baseline_row, row)
    flag = check.pop("pair_interference")
    own = {col: pair[key] for key, col in PAIR_COLUMNS.items()}
    return {**own, **check, "pair_interference": pd.NA if flag is None else flag}


def jobs_fields(df: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Each p50's 95 % interval with what moved between the jobs of this run
    (:func:`yoloshrink.bench.stats.jobs_interval`), per target and thread count from the spread
    between the jobs that timed the same model (:func:`yoloshrink.bench.stats.between_jobs`):
    the baseline in its own row and in every pair, each other variant in its row and its pair.
    Adds ``between_jobs_sd`` (log scale), ``between_jobs_df`` and the network call's and whole
    frame's ``*p50_jobs_ci_low_ms`` and ``*p50_jobs_ci_high_ms`` (the same spread: what moves
    between jobs moves both)."""
    new = ["between_jobs_sd", "between_jobs_df", "p50_jobs_ci_low_ms", "p50_jobs_ci_high_ms"]
    new += ["e2e_p50_jobs_ci_low_ms", "e2e_p50_jobs_ci_high_ms"]
    df = df.assign(**dict.fromkeys(new, math.nan))
    if df.empty:
        return df
    ok = df[df["status"] == "ok"]
    for _, rows in ok.groupby(["target", "threads"], sort=False):
        sd, dof = between_jobs(list(layout.job_p50s(rows.to_dict("records"), baseline).values()))
        for i in rows.index:
            df.loc[i, ["between_jobs_sd", "between_jobs_df"]] = [sd, dof]
            for prefix in ("", "e2e_"):
                p50, lo, hi = (df.loc[i, f"{prefix}p50{k}"] for k in ("_ms", "_ci_low_ms", "_ci_high_ms"))
                df.loc[i, [f"{prefix}p50_jobs_ci_low_ms", f"{prefix}p50_jobs_ci_high_ms"]] = list(
                    jobs_interval(p50, lo, hi, sd, dof)
                )
    return df


def control_fields(record: dict[str, Any] | None) -> dict[str, Any]:
    """A row's A/A control (its runtime's, at its thread count): the baseline's speed-up over
    itself, its interval, and ``control_passed`` (the interval contains 1)."""
    if record is None or record.get("status") != "ok":
        nan = dict.fromkeys(("control_speedup", "control_ci_low", "control_ci_high"), math.nan)
        return {"control_target": (record or {}).get("target", ""), **nan, "control_passed": pd.NA}
    lo, hi = record["speedup_ci_low"], record["speedup_ci_high"]
    return {
        "control_target": record.get("timed_as", record["target"]),
        "control_speedup": record["speedup"],
        "control_ci_low": lo,
        "control_ci_high": hi,
        "control_passed": bool(lo <= 1 <= hi),
    }


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write the table atomically, floats with 6 significant digits."""
    atomic_write_text(path, df.to_csv(index=False, float_format="%.6g"))
