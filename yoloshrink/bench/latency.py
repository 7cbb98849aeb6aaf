"""Latency of one model through its runtime's own API: network-only and the whole frame.

Network-only: the runtime's call on one prepared input (batch 1, fixed square size, letterboxed
from a real validation image, made by the runtime's own input path,
:mod:`yoloshrink.bench.runners`). The whole frame, on real validation images in turn: its
three stages timed inside the same call, so that they add up to its end-to-end time call by
call: ``pre`` (letterbox and the runtime's input path), ``infer`` (the same call as the network
time) and ``post`` (NMS at ultralytics' predict thresholds, or for an end-to-end head only the
confidence filter, and boxes scaled back to the image), each the runner's fast path. Both are
warmed up until steady and timed in the same interleaved rounds (:mod:`yoloshrink.bench.timing`),
on a process pinned to the cores it times. Thread counts are set through each runtime's own knob.

Each session is a fresh process (:class:`Session`, :func:`spawn_session`: ``python -m
yoloshrink.bench.latency``) that loads one model and times it alone, one process at a time: the
variation between processes is the largest there is at short calls, and the intervals must see
it. Every p50 comes with its bootstrap interval over those processes, then their rounds
(:mod:`yoloshrink.bench.stats`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink import layout
from yoloshrink.bench.runners import (
    Runner,
    letterbox,
    make_runner,
    postprocess,
    precision_that_runs,
    read_images,
    resolve_model,
    timed_as,
)
from yoloshrink.bench.stats import P50_KEYS, summarize
from yoloshrink.bench.timing import Staged, TimingPlan, in_processes, interleaved, pin_cores, time_block, warm_up
from yoloshrink.bench.timing import in_turns as timing_in_turns
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
        out.update({f"{stage}_{k}": s[k] for k in (*P50_KEYS, "mean_ms")})
    out["dominant_stage"] = max(STAGES, key=lambda stage: out[f"{stage}_mean_ms"])
    return out


def set_threads(threads: int) -> list[int]:
    """Pin this process to ``threads`` cores and give OpenCV, and torch where it is loaded, that
    many threads; return the cores (the runtimes get theirs through their own knob,
    :func:`make_runner`; torch's loader sets torch's). Imports no torch: a timing session of
    another runtime would pay its 2 s import."""
    import cv2

    cpus = pin_cores(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    cv2.setNumThreads(threads)  # the end-to-end letterbox resizes on the timed threads too
    return cpus


@dataclass(frozen=True)
class Session:
    """One timing session, run in a process of its own (:func:`spawn_session`): ``model``
    (the file or folder ``target``'s runtime loads) at ``imgsz`` on ``threads`` threads, warmed
    up and timed by ``plan`` (the fields of the session's :class:`TimingPlan` share), on the
    first of ``images`` (validation image files, listed by the parent: listing them the
    ultralytics way imports torch); with ``e2e`` the whole frame too, over all of them (a latency
    row), else the network call alone (a pair's turn)."""

    target: str
    model: str
    imgsz: int
    threads: int
    images: list[str]
    plan: dict[str, Any]
    e2e: bool = False

    @classmethod
    def of(
        cls, target: str, model: Path, imgsz: int, threads: int, images_dir: Path, plan: TimingPlan, e2e_images: int = 0
    ) -> Session:
        """The session of one model, a share of ``plan`` (:meth:`TimingPlan.per_session`), on the
        first ``e2e_images`` validation images of ``images_dir`` (the first alone without them)."""
        from yoloshrink.datasets.files import list_images

        images = list_images(images_dir)[: max(1, e2e_images)]
        if not images:
            raise FileNotFoundError(f"no validation images in {images_dir}")
        share = asdict(plan.per_session())
        return cls(target, str(model), int(imgsz), int(threads), images, share, e2e_images > 0)


def run_session(session: Session) -> dict[str, Any]:
    """``session`` in this process: pin it to its cores, load the model, warm up, time. Returns
    ``timed`` (per call name its rounds), ``warm``, ``cpus`` and what ran (``runner``). Imports
    torch only for a torch target (its loader does)."""
    threads = int(session.threads)
    cpus = set_threads(threads)
    plan = TimingPlan(**session.plan)
    images = read_images(session.images)
    runner = make_runner(session.target, Path(session.model), threads)
    x = runner.prepare(letterbox(images[0], session.imgsz))
    calls: dict[str, Callable[[], Any]] = {"net": lambda: runner.run(x)}
    if session.e2e:
        calls["e2e"] = end_to_end(runner, images, session.imgsz)
    warm = warm_up(calls, plan)
    timed = interleaved(calls, plan)
    ran = {k: getattr(runner, k) for k in ("runtime", "runtime_version", "precision", "end2end", "input_path")}
    return {"timed": timed, "warm": warm, "cpus": cpus, "runner": {**ran, "post_path": runner.post_path}}


def spawn_session(session: Session, timeout: float = 900) -> dict[str, Any]:
    """:func:`run_session` in a fresh interpreter (``python -m yoloshrink.bench.latency``): a
    fresh load, fresh thread pools, buffers and code placed anew. Its output goes to this
    process's (the job's log); its result comes back through a temporary file. Raises
    RuntimeError with the end of its output when it fails."""
    with tempfile.TemporaryDirectory(prefix="session-") as tmp:
        result = Path(tmp) / "result.json"
        spec = Path(tmp) / "session.json"
        spec.write_text(json.dumps(asdict(session)))
        sys.stdout.flush()
        sys.stderr.flush()
        proc = subprocess.run(
            [sys.executable, "-m", "yoloshrink.bench.latency", str(spec), str(result)],
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0 or not result.exists():
            raise RuntimeError(
                f"the timing process of {session.target} ({session.model}) failed with exit status "
                f"{proc.returncode}:\n{proc.stderr[-3000:]}"
            )
        return json.loads(result.read_text())


def in_fresh_processes(sessions: dict[str, Session], n: int) -> dict[str, list[dict[str, Any]]]:
    """``n`` sessions of each of ``sessions`` (label -> session), each a fresh process, one at a
    time, the labels taking turns in ABBA order (:func:`yoloshrink.bench.timing.in_processes`)."""
    return in_processes(lambda label: spawn_session(sessions[label]), list(sessions), n)


class Worker:
    """One model loaded in a process of its own that times blocks of its network call when told
    to (:func:`serve`), so that two models take turns block by block, one running at a time,
    neither in the other's process (a :class:`yoloshrink.bench.timing.Turn`). The process
    writes its log to this process's stderr (the job's log) when it ends."""

    def __init__(self, session: Session, timeout: float = 900) -> None:
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="worker-")
        spec = Path(self._tmp.name) / "session.json"
        spec.write_text(json.dumps(asdict(session)))
        self._log = open(Path(self._tmp.name) / "log", "w+")  # noqa: SIM115 (closed by close())
        self.name = f"{session.target} ({session.model})"
        sys.stdout.flush()
        sys.stderr.flush()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "yoloshrink.bench.latency", "--serve", str(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self.ready: dict[str, Any] = self._reply()

    def _reply(self) -> Any:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(self.timeout)
            raise RuntimeError(
                f"the timing process of {self.name} failed with exit status {self._proc.returncode}:\n{self._tail()}"
            )
        return json.loads(line)

    def _tail(self) -> str:
        self._log.seek(0)
        return self._log.read()[-3000:]

    def block(self, n: int) -> list[float]:
        """``n`` calls, timed in the worker's process: their durations (ms)."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(f"{int(n)}\n")
        self._proc.stdin.flush()
        return self._reply()

    def close(self) -> None:
        """End the process (it exits on the end of its input) and copy its log to stderr."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(self.timeout)
        finally:
            sys.stderr.write(self._tail())
            self._log.close()
            self._tmp.cleanup()


def serve(session: Session) -> None:
    """A :class:`Worker`'s process: pin, load ``session``'s model, say what ran and where (a JSON
    line: ``pid``, ``cpus``, ``runner``), then for every line ``n`` it reads time ``n`` network
    calls and answer their durations (ms, a JSON line), until its input ends. What the runtimes
    print goes to stderr, not into the replies."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)  # the replies keep the real stdout;
    os.dup2(2, 1)  # anything printed goes to stderr
    threads = int(session.threads)
    cpus = set_threads(threads)
    images = read_images(session.images)
    runner = make_runner(session.target, Path(session.model), threads)
    x = runner.prepare(letterbox(images[0], session.imgsz))
    ran = {k: getattr(runner, k) for k in ("runtime", "runtime_version", "precision", "end2end", "input_path")}
    said = {"pid": os.getpid(), "cpus": cpus, "runner": {**ran, "post_path": runner.post_path}}
    replies.write(json.dumps(said) + "\n")
    replies.flush()
    clock = time.perf_counter_ns
    for line in sys.stdin:
        replies.write(json.dumps(time_block(lambda: runner.run(x), int(line), clock)) + "\n")
        replies.flush()


def in_turns(sessions: dict[str, Session], plan: TimingPlan) -> dict[str, list[dict[str, Any]]]:
    """``plan.sessions`` sessions in which the models of ``sessions`` (label -> session), each in a
    fresh process of its own (:class:`Worker`), take turns block by block
    (:func:`yoloshrink.bench.timing.in_turns`). Returns, per label, each session's ``timed``
    (``net``: its rounds), ``warm``, ``cpus`` and ``runner``, as :func:`gathered` takes them."""
    out: dict[str, list[dict[str, Any]]] = {label: [] for label in sessions}
    for workers, rounds, warm in timing_in_turns(lambda label: Worker(sessions[label]), list(sessions), plan):
        for label, worker in workers.items():
            out[label].append({"timed": {"net": rounds[label]}, "warm": warm, **worker.ready})  # type: ignore[attr-defined]
    return out


def gathered(results: list[dict[str, Any]]) -> tuple[dict[str, list[list[list[float]]]], dict[str, Any]]:
    """The sessions' timings per call name (each a list of sessions of rounds) and the warm-up
    over all of them: ``sessions``, ``warmup_calls`` (in all) and ``warmup_settled`` (in every one)."""
    timed: dict[str, list[list[list[float]]]] = {}
    for r in results:
        for name, rounds in r["timed"].items():
            timed.setdefault(name, []).append(rounds)
    warm = {
        "sessions": len(results),
        "warmup_calls": sum(r["warm"]["warmup_calls"] for r in results),
        "warmup_settled": all(r["warm"]["warmup_settled"] for r in results),
    }
    return timed, warm


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
    p50 with its interval over ``plan.sessions`` fresh processes, the cores pinned to and the
    warm-up it took."""
    session = Session.of(target, model_path, imgsz, threads, images_dir, plan, e2e_images)
    results = in_fresh_processes({"model": session}, plan.sessions)["model"]
    timed, warm = gathered(results)
    ran = results[0]["runner"]
    return {
        "status": "ok",
        "format": TARGETS[target].format,
        "threads": int(threads),
        "cpus": ",".join(map(str, results[0]["cpus"])),
        "imgsz": int(imgsz),
        **ran,
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
    same = timed_as(target)
    if same != target:  # one thing run is timed once: its row is the other target's
        record = {**fields, "status": "ok", "same_as": same, "precision": precision_that_runs(target)}
        return layout.write_record("latency", out, record)
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


def main(argv: list[str]) -> None:
    """``python -m yoloshrink.bench.latency SESSION.json RESULT.json``: one session
    (:func:`run_session`) in this fresh process, its result written to RESULT.json;
    ``--serve SESSION.json``: a :class:`Worker`'s process (:func:`serve`)."""
    if argv[0] == "--serve":
        serve(Session(**json.loads(Path(argv[1]).read_text())))
        return
    spec, out = (Path(a) for a in argv)
    result = run_session(Session(**json.loads(spec.read_text())))
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
