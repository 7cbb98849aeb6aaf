"""Latency of one model through its runtime's own API: network-only and end to end.

Network-only: the runtime's call on one preprocessed input (batch 1, fixed square size,
float32 NCHW in [0, 1], letterboxed from a real validation image). End to end: letterbox +
inference + NMS on real validation images in turn. Both after warm-up calls, then timed calls
until both ``min_runs`` and ``min_seconds`` are reached (and at most ``max_runs``). Thread
counts are set through each runtime's own knob.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink import layout
from yoloshrink.bench.runners import Runner, load_images, make_runner, preprocess, resolve_model
from yoloshrink.bench.timing import time_calls, timing_stats
from yoloshrink.datasets.files import val_images_dir
from yoloshrink.targets import TARGETS


def end_to_end(runner: Runner, images: list[np.ndarray], imgsz: int) -> Callable[[], Any]:
    """A call doing what a frame costs: letterbox + inference + NMS, cycling over ``images``."""
    import torch
    from ultralytics.utils.nms import non_max_suppression

    state = {"i": 0}

    def call() -> Any:
        image = images[state["i"] % len(images)]
        state["i"] += 1
        y = runner.to_numpy(runner.run(preprocess(image, imgsz)))
        return non_max_suppression(torch.from_numpy(np.ascontiguousarray(y)), conf_thres=0.25, iou_thres=0.7)

    return call


def measure_latency(
    target: str,
    model_path: Path,
    images_dir: Path,
    imgsz: int,
    threads: int,
    warmup: int,
    min_runs: int,
    min_seconds: float,
    max_runs: int | None = None,
    e2e_images: int = 20,
) -> dict[str, Any]:
    """Latency record for one (target, threads): network-only and end-to-end statistics.

    Network-only: the runtime's call on one preprocessed tensor. End-to-end: letterbox +
    inference + NMS on real validation images in turn. Both after ``warmup`` calls.
    """
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)  # the end-to-end letterbox resizes on the timed threads too
    images = load_images(images_dir, e2e_images)
    x = preprocess(images[0], imgsz)
    runner = make_runner(target, model_path, threads)
    net = time_calls(lambda: runner.run(x), warmup, min_runs, min_seconds, max_runs)
    e2e = time_calls(end_to_end(runner, images, imgsz), warmup, min_runs, min_seconds, max_runs)
    return {
        "status": "ok",
        "format": TARGETS[target].format,
        "threads": int(threads),
        "imgsz": int(imgsz),
        "runtime": runner.runtime,
        "runtime_version": runner.runtime_version,
        "precision": runner.precision,
        "warmup": int(warmup),
        **timing_stats(net),
        **{f"e2e_{k}": v for k, v in timing_stats(e2e).items()},
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
            warmup=int(timing.get("warmup", 10)),
            min_runs=int(timing.get("min_runs", 100)),
            min_seconds=float(timing.get("min_seconds", 10.0)),
            max_runs=timing.get("max_runs"),
            e2e_images=int(timing.get("e2e_images", 20)),
        )
        record = {"variant": variant, "target": target, **record}
    except Exception as exc:
        record = layout.failure(exc, **fields)
    return layout.write_record("latency", out, record)
