"""The speed-up of a variant over the baseline, each model timed in a process of its own.

Both models are loaded by the same runtime with the same settings, on the same cores, each fed
the same validation image letterboxed to its own input size. In each session both models are
loaded afresh, each in a process of its own that stays alive (:class:`yoloshrink.bench.latency.Worker`),
and the two take turns block by block, one running at a time, the order reversed every round
(:func:`yoloshrink.bench.latency.in_turns`). Two models loaded in one pinned process slow each
other, unequally (measured on an AMD EPYC, OpenVINO bf16 at 192 px: 33 % and 69 % slower than
each alone); one process after the other, a model's processes and the other's ran minutes
apart in the machine's slow and fast spells (a 2-core Xeon VM: 35-40 % of 100-ms windows 1.4x
to 2x slower, spells of 0.3-5 s), and the A/A control failed (OpenVINO bf16 1.82, 95 % CI
1.66-2.02). Taking turns by block, a spell falls on both. The interval of the speed-up (the
baseline's p50 over the variant's) is a bootstrap over the sessions, then the same rounds of
both (:mod:`yoloshrink.bench.stats`).

The same method timing the baseline against itself is the A/A control (:func:`speedup_job` with
``kind="control"``): its interval must contain 1. And each model's p50 in the pair is set against
its own latency row (:func:`yoloshrink.bench.stats.interference`): a pair that ran either model
slower than its row's interval allows is flagged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yoloshrink import layout
from yoloshrink.bench.latency import Session, gathered, in_turns
from yoloshrink.bench.runners import precision_that_runs, resolve_model, timed_as
from yoloshrink.bench.stats import P50_KEYS, speedup, summarize
from yoloshrink.bench.timing import TimingPlan
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
    """Time ``target``'s two models in turns on ``threads`` threads; return the record fields."""
    sessions = {
        "baseline": Session.of(target, baseline_model, baseline_imgsz, threads, images_dir, plan),
        "variant": Session.of(target, variant_model, variant_imgsz, threads, images_dir, plan),
    }
    results = in_turns(sessions, plan)
    (base_timed, warm), (var_timed, var_warm) = gathered(results["baseline"]), gathered(results["variant"])
    base_ran, var_ran = results["baseline"][0]["runner"], results["variant"][0]["runner"]
    b, v = summarize(base_timed["net"]), summarize(var_timed["net"])
    return {
        "status": "ok",
        "threads": int(threads),
        "cpus": ",".join(map(str, results["variant"][0]["cpus"])),
        "runtime": var_ran["runtime"],
        "precision": var_ran["precision"],
        "baseline_precision": base_ran["precision"],
        "block": plan.block,
        "method": "a process per model, taking turns by block",
        "sessions": plan.sessions,
        "warmup_calls": warm["warmup_calls"] + var_warm["warmup_calls"],
        "warmup_settled": warm["warmup_settled"] and var_warm["warmup_settled"],
        "rounds": v["rounds"],
        **{k: v[k] for k in ("n", *P50_KEYS, "round_cv")},
        **{f"baseline_{k}": b[k] for k in (*P50_KEYS, "round_cv")},
        **speedup(base_timed["net"], var_timed["net"]),
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
    kind: str = "speedup",
) -> dict[str, Any]:
    """Time ``variant`` against ``baseline`` on ``target`` and write the record (``kind``:
    "speedup", or "control" for the baseline against itself) to ``out``; a failure (of either
    model's training or export, or of the timing) becomes a failed record."""
    fields = {"variant": variant, "baseline": baseline, "target": target, "threads": int(threads)}
    same = timed_as(target)
    if kind == "speedup" and same != target:  # timed once, under the other target's name
        record = {**fields, "status": "ok", "same_as": same, "precision": precision_that_runs(target)}
        return layout.write_record(kind, out, record)
    if kind == "control":  # the runtime's method check: whatever this target runs as
        fields["timed_as"], target = same, same
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
    return layout.write_record(kind, out, record)
