"""Latency of one model through its runtime's own API: network-only and the whole frame.

Network-only: the runtime's call on one prepared input (batch 1, fixed square size, letterboxed
from a real validation image, made by the runtime's own input path,
:mod:`yoloshrink.bench.runners`). The whole frame, on real validation images in turn: its
three stages timed inside the same call, so that they add up to its end-to-end time call by
call: ``pre`` (letterbox and the runtime's input path), ``infer`` (the same call as the network
time) and ``post`` (NMS at ultralytics' predict thresholds, or for an end-to-end head only the
confidence filter, and boxes scaled back to the image), each the runner's fast path. Both are warmed up until steady and
timed in the same interleaved rounds (:mod:`yoloshrink.bench.timing`), on a process pinned to
the cores it times; every p50 comes with its bootstrap interval (:mod:`yoloshrink.bench.stats`).
Thread counts are set through each runtime's own knob.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink import layout
from yoloshrink.bench.runners import Runner, letterbox, load_images, make_runner, postprocess, resolve_model
from yoloshrink.bench.stats import summarize
from yoloshrink.bench.timing import Staged, TimingPlan, in_sessions, pin_cores
from yoloshrink.datasets.files import val_images_dir
from yoloshrink.targets import TARGETS

#: The stages of a frame, in the order they run.
STAGES = ("pre", "infer", "post")


def end_to_end(runner: Runner, images: list[np.ndarray], imgsz: int) -> Callable[[], Staged]:
    """A call doing what a frame costs, cycling over ``images``: letterbox and the runner's input
    path, inference, post-processing (:func:`yoloshrink.bench.runners.postprocess`). It returns
    each stage's duration (:class:`yoloshrink.bench.timing.Staged`, :data:`STAGES`), read on one
    clock, so the three add up to the frame."""
    clock = time.perf_counter_ns
    state = {"i": 0}

    def call() -> Staged:
        image = images[state["i"] % len(images)]
        state["i"] += 1
        t0 = clock()
        x = runner.prepare(runner.letterbox(image, imgsz))
        t1 = clock()
        y = runner.run(x)
        t2 = clock()
        postprocess(runner, y, imgsz, image.shape)
        return Staged.of(STAGES, [t0, t1, t2, clock()])

    return call


def stage_fields(timed: dict[str, Any], name: str = "e2e") -> dict[str, Any]:
    """Each stage's p50 with its interval and its mean, and the stage with the largest mean
    (``dominant_stage``), from the staged call ``name``'s timings."""
    out: dict[str, Any] = {}
    for stage in STAGES:
        s = summarize(timed[f"{name}/{stage}"])
        out.update({f"{stage}_{k}": s[k] for k in ("p50_ms", "p50_ci_low_ms", "p50_ci_high_ms", "mean_ms")})
    out["dominant_stage"] = max(STAGES, key=lambda stage: out[f"{stage}_mean_ms"])
    return out


def set_threads(threads: int) -> list[int]:
    """Pin this process to ``threads`` cores and give torch and OpenCV that many threads; return
    the cores (the runtimes get theirs through their own knob, :func:`make_runner`)."""
    import cv2
    import torch

    cpus = pin_cores(threads)
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)  # the end-to-end letterbox resizes on the timed threads too
    return cpus


def measure_latency(
    target: str,
    model_path: Path,
    images_dir: Path,
    imgsz: int,
    threads: int,
    plan: TimingPlan,
    e2e_images: int = 20,
) -> dict[str, Any]:
    """Latency record for one (target, threads): network-only and end-to-end statistics, each
    p50 with its interval, the cores pinned to and the warm-up it took."""
    cpus = set_threads(threads)
    images = load_images(images_dir, e2e_images)
    lb = letterbox(images[0], imgsz)
    loaded: dict[str, Runner] = {}

    def load() -> dict[str, Callable[[], Any]]:
        """A fresh runner: its network call and its whole-frame call, timed in the same rounds."""
        runner = loaded["runner"] = make_runner(target, model_path, threads)
        x = runner.prepare(lb)
        return {"net": lambda: runner.run(x), "e2e": end_to_end(runner, images, imgsz)}

    timed, warm = in_sessions(load, plan)
    runner = loaded["runner"]
    return {
        "status": "ok",
        "format": TARGETS[target].format,
        "threads": int(threads),
        "cpus": ",".join(map(str, cpus)),
        "imgsz": int(imgsz),
        "runtime": runner.runtime,
        "runtime_version": runner.runtime_version,
        "precision": runner.precision,
        "end2end": runner.end2end,
        "input_path": runner.input_path,
        "post_path": runner.post_path,
        "block": plan.block,
        **warm,
        **summarize(timed["net"]),
        **{f"e2e_{k}": v for k, v in summarize(timed["e2e"]).items()},
        **stage_fields(timed),
    }


def latency_job(
    variant: str,
    target: str,
    model: Path,
    data_yaml: Path,
    imgsz: int,
    threads: int,
    timing: dict[str, Any],
    out: Path,
) -> dict[str, Any]:
    """Time ``target`` of ``variant`` on ``threads`` threads and write its record to ``out``."""
    fields = {
        "variant": variant,
        "target": target,
        "format": TARGETS[target].format,
        "imgsz": int(imgsz),
        "threads": int(threads),
    }
    try:
        record = measure_latency(
            target,
            resolve_model(target, model),
            val_images_dir(data_yaml),
            imgsz,
            threads,
            TimingPlan.from_config(timing),
            e2e_images=int(timing.get("e2e_images", 20)),
        )
        record = {"variant": variant, "target": target, **record}
    except Exception as exc:
        record = layout.failure(exc, **fields)
    return layout.write_record("latency", out, record)
