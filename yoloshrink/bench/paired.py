"""The speed-up of a variant over the baseline, timed side by side in one process.

Both models are loaded by the same runtime with the same settings, on the same cores, each fed
the same validation image letterboxed to its own input size; they are warmed up together and
timed in interleaved rounds, in several sessions that load both afresh
(:mod:`yoloshrink.bench.timing`), so that whatever the machine does meanwhile falls on both
alike. The record holds both p50s with their intervals and the
speed-up (the baseline's p50 over the variant's) with its interval and verdict
(:mod:`yoloshrink.bench.stats`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from yoloshrink import layout
from yoloshrink.bench.latency import set_threads
from yoloshrink.bench.runners import Runner, letterbox, load_images, make_runner, resolve_model
from yoloshrink.bench.stats import speedup, summarize
from yoloshrink.bench.timing import TimingPlan, in_sessions
from yoloshrink.datasets.files import val_images_dir


def measure_pair(
    target: str,
    baseline_model: Path,
    variant_model: Path,
    images_dir: Path,
    baseline_imgsz: int,
    variant_imgsz: int,
    threads: int,
    plan: TimingPlan,
) -> dict[str, Any]:
    """Time ``target``'s two models side by side on ``threads`` threads; return the record fields."""
    cpus = set_threads(threads)
    (image,) = load_images(images_dir, 1)
    lb_base, lb_var = letterbox(image, baseline_imgsz), letterbox(image, variant_imgsz)
    loaded: dict[str, Runner] = {}

    def load() -> dict[str, Callable[[], Any]]:
        """Both models afresh, in one session."""
        base = loaded["baseline"] = make_runner(target, baseline_model, threads)
        var = loaded["variant"] = make_runner(target, variant_model, threads)
        xb, xv = base.prepare(lb_base), var.prepare(lb_var)
        return {"baseline": lambda: base.run(xb), "variant": lambda: var.run(xv)}

    timed, warm = in_sessions(load, plan)
    base, var = loaded["baseline"], loaded["variant"]
    b, v = summarize(timed["baseline"]), summarize(timed["variant"])
    return {
        "status": "ok",
        "threads": int(threads),
        "cpus": ",".join(map(str, cpus)),
        "runtime": var.runtime,
        "precision": var.precision,
        "baseline_precision": base.precision,
        "block": plan.block,
        **warm,
        "rounds": v["rounds"],
        **{k: v[k] for k in ("n", "p50_ms", "p50_ci_low_ms", "p50_ci_high_ms", "round_cv")},
        **{f"baseline_{k}": b[k] for k in ("p50_ms", "p50_ci_low_ms", "p50_ci_high_ms", "round_cv")},
        **speedup(timed["baseline"], timed["variant"]),
    }


def speedup_job(
    variant: str,
    baseline: str,
    target: str,
    model: Path,
    baseline_model: Path,
    data_yaml: Path,
    imgsz: int,
    baseline_imgsz: int,
    threads: int,
    timing: dict[str, Any],
    out: Path,
) -> dict[str, Any]:
    """Time ``variant`` against ``baseline`` on ``target`` and write the record to ``out``; a
    failure (of either model's training or export, or of the timing) becomes a failed record."""
    fields = {"variant": variant, "baseline": baseline, "target": target, "threads": int(threads)}
    try:
        record = measure_pair(
            target,
            resolve_model(target, baseline_model),
            resolve_model(target, model),
            val_images_dir(data_yaml),
            baseline_imgsz,
            imgsz,
            threads,
            TimingPlan.from_config(timing),
        )
        record = {**fields, **record}
    except Exception as exc:
        record = layout.failure(exc, **fields)
    return layout.write_record("speedup", out, record)
