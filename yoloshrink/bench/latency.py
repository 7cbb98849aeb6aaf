"""Latency of one model through its runtime's own API: network-only and end to end.

Network-only: the runtime's call on one preprocessed input (batch 1, fixed square size,
float32 NCHW in [0, 1], letterboxed from a real validation image). End to end: letterbox +
inference + post-processing (NMS, or none past the confidence filter for an end-to-end head) on
real validation images in turn. Each is warmed up until steady and timed in
rounds (:mod:`yoloshrink.bench.timing`), on a process pinned to the cores it times; the p50
comes with its bootstrap interval (:mod:`yoloshrink.bench.stats`). Thread counts are set
through each runtime's own knob.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink import layout
from yoloshrink.bench.runners import Runner, load_images, make_runner, preprocess, resolve_model
from yoloshrink.bench.stats import summarize
from yoloshrink.bench.timing import TimingPlan, in_sessions, pin_cores
from yoloshrink.datasets.files import val_images_dir
from yoloshrink.targets import TARGETS


def end_to_end(runner: Runner, images: list[np.ndarray], imgsz: int) -> Callable[[], Any]:
    """A call doing what a frame costs: letterbox + inference + post-processing, cycling over
    ``images``. Post-processing is what the model's output needs at ultralytics' predict
    thresholds: NMS, or for an end-to-end head's output only the confidence filter
    (ultralytics' ``non_max_suppression(end2end=True)``)."""
    import torch
    from ultralytics.utils.nms import non_max_suppression

    state = {"i": 0}

    def call() -> Any:
        image = images[state["i"] % len(images)]
        state["i"] += 1
        y = runner.to_numpy(runner.run(preprocess(image, imgsz)))
        return non_max_suppression(
            torch.from_numpy(np.ascontiguousarray(y)), conf_thres=0.25, iou_thres=0.7, end2end=runner.end2end
        )

    return call


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
    x = preprocess(images[0], imgsz)
    loaded: dict[str, Runner] = {}

    def load() -> dict[str, Callable[[], Any]]:
        """A fresh runner: its network call and its whole-frame call, timed in the same rounds."""
        runner = loaded["runner"] = make_runner(target, model_path, threads)
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
        "block": plan.block,
        **warm,
        **summarize(timed["net"]),
        **{f"e2e_{k}": v for k, v in summarize(timed["e2e"]).items()},
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
