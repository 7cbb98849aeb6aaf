"""How calls are timed: pinned to the cores timed on, warmed up until steady, then measured in
interleaved rounds of short blocks.

Every timing (one model's latency, or a variant and its baseline side by side) is a set of named
calls. After a warm-up that alternates blocks of each until their block medians settle, the
calls are measured in rounds: each round runs one block of ``block`` calls of each, in the
given order on even rounds and reversed on odd ones, so that anything the machine does over
time (a clock change, another process, thermal drift) falls on all of them alike and a linear
drift cancels over each pair of rounds.

A call may return :class:`Staged`, the durations of its own stages (pre-processing, inference,
post-processing of a whole frame): the call's time is then their sum, so the stages add up to
it exactly, call by call, and each stage is kept beside it as ``<name>/<stage>`` with the same
rounds and sessions.

The measurement is split into ``sessions``: each loads the models afresh (new runtime sessions,
new buffers, new thread pools), warms them up and times its share of the rounds. How fast a
loaded model runs varies from one load to the next, and more from one process to the next
(where its buffers and code land, how its threads are placed, what the runtime compiled) by
several per cent, as much as between two runs of the workflow. So the workflow's timings run
each session in a process of its own: a model's latency row one process after another
(:func:`in_processes`, :mod:`yoloshrink.bench.latency`); a pair's two models each in a process
of its own, both alive, taking turns block by block (:func:`in_turns`: a :class:`Turn` times
its own blocks where it runs), so that the machine's slow spells fall on both and neither runs
in the other's process. :func:`in_sessions` keeps sessions in this process (the deployment
host's benchmark, INT8 "auto"). The per-call times are kept per round and session, outliers
included; :mod:`yoloshrink.bench.stats` turns them into percentiles and intervals.

Imports nothing heavy when loaded.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

#: Warm-up ends when each call's last two block medians differ by at most this fraction.
SETTLE_TOLERANCE = 0.05

Clock = Callable[[], int]  # nanoseconds


@dataclass(frozen=True)
class Staged:
    """What a staged call returns: each stage's duration in nanoseconds, in the order they ran,
    measured by the call itself on consecutive clock readings (so they add up to the call)."""

    ns: dict[str, int]

    @classmethod
    def of(cls, names: tuple[str, ...], stamps: list[int]) -> Staged:
        """The stages between consecutive clock readings: ``len(stamps) == len(names) + 1``."""
        if len(stamps) != len(names) + 1:
            raise ValueError(f"{len(names)} stages need {len(names) + 1} clock readings, got {len(stamps)}")
        return cls({name: stamps[i + 1] - stamps[i] for i, name in enumerate(names)})


@dataclass(frozen=True)
class TimingPlan:
    """How long to warm up and to measure (the config's ``benchmark`` timing keys).

    ``warmup``/``warmup_max``: warm-up calls per call name and session, at least and at most;
    ``block``: calls per block; a measurement runs at least ``min_rounds`` rounds, ``min_runs``
    calls of each name and ``min_seconds`` in all, and stops at ``max_runs`` calls of each;
    ``sessions`` share them (:meth:`per_session`).
    """

    warmup: int = 10
    warmup_max: int = 200
    block: int = 5
    min_rounds: int = 10
    min_runs: int = 100
    min_seconds: float = 10.0
    max_runs: int | None = 10_000
    sessions: int = 3

    def per_session(self) -> TimingPlan:
        """The share of one session: the minimums and the cap divided among the sessions."""
        n = self.sessions
        return replace(
            self,
            min_rounds=-(-self.min_rounds // n),
            min_runs=-(-self.min_runs // n),
            min_seconds=self.min_seconds / n,
            max_runs=None if self.max_runs is None else -(-self.max_runs // n),
            sessions=1,
        )

    @classmethod
    def problems(cls, timing: dict[str, Any], where: str) -> list[str]:
        """What makes the timing settings ``timing`` unusable, each naming its key as
        ``where.<key>``: a known key of the wrong type or range (whole numbers of at least 1,
        ``warmup`` at least 0, ``min_seconds`` a number of at least 0, ``max_runs`` also null),
        and the bounds across keys (``warmup`` <= ``warmup_max``, ``min_runs`` <= ``max_runs``).
        Keys the plan does not know are left to their owner. The workflow's config and a bundle's
        manifest are checked by this one function."""
        out = []
        lows = {"warmup": 0, "min_seconds": 0}
        for f in fields(cls):
            if f.name not in timing:
                continue
            value, low = timing[f.name], lows.get(f.name, 1)
            number = (int, float) if f.name == "min_seconds" else int
            if f.name == "max_runs" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, number) or value < low:
                kind = "a number" if f.name == "min_seconds" else "a whole number"
                out.append(f"{where}.{f.name}: {value!r} is not {kind} of at least {low}")
        ok = {k: timing.get(k) for k in ("warmup", "warmup_max", "min_runs", "max_runs")}
        numbers = {k: v for k, v in ok.items() if isinstance(v, int) and not isinstance(v, bool)}
        if {"warmup", "warmup_max"} <= set(numbers) and numbers["warmup"] > numbers["warmup_max"]:
            out.append(f"{where}.warmup: {numbers['warmup']} is more than {where}.warmup_max ({numbers['warmup_max']})")
        if {"min_runs", "max_runs"} <= set(numbers) and numbers["min_runs"] > numbers["max_runs"]:
            out.append(f"{where}.min_runs: {numbers['min_runs']} is more than {where}.max_runs ({numbers['max_runs']})")
        return out

    @classmethod
    def from_config(cls, timing: dict[str, Any]) -> TimingPlan:
        """The plan of the given keys (others keep their defaults)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in timing.items() if k in known})


#: The cores this process was allowed when it first pinned itself (pinning narrows what
#: ``os.sched_getaffinity`` returns afterwards; a later, wider row must widen it again).
_ALLOWED: list[int] = []


def allowed_cores() -> list[int]:
    """The cores this process may use: its affinity as it was before its first :func:`pin_cores`."""
    if not _ALLOWED:
        _ALLOWED.extend(sorted(os.sched_getaffinity(0)))
    return list(_ALLOWED)


def pin_cores(threads: int) -> list[int]:
    """Pin this process (and the threads it starts later) to ``threads`` of the cores it may use
    (:func:`allowed_cores`), the lowest-numbered, widening as well as narrowing an earlier
    pinning; return them. Call before a runtime creates its thread pool. ValueError for a thread
    count below 1 or beyond those cores: a row timed on fewer cores than its threads would be
    mislabelled."""
    available = allowed_cores()
    n = int(threads)
    if not 1 <= n <= len(available):
        raise ValueError(f"{threads} thread(s): this process may use {len(available)} core(s) ({available})")
    cpus = available[:n]
    os.sched_setaffinity(0, cpus)
    return cpus


def time_block(
    fn: Callable[[], Any], n: int, clock: Clock, stages: dict[str, list[float]] | None = None
) -> list[float]:
    """``n`` timed calls of ``fn``: their durations in milliseconds. A call returning
    :class:`Staged` lasts the sum of its stages, each appended to ``stages[stage]`` (ms)."""
    out = []
    for _ in range(n):
        t0 = clock()
        result = fn()
        elapsed = clock() - t0
        if isinstance(result, Staged):
            elapsed = sum(result.ns.values())
            if stages is not None:
                for stage, ns in result.ns.items():
                    stages.setdefault(stage, []).append(ns / 1e6)
        out.append(elapsed / 1e6)
    return out


class Turn(Protocol):
    """A call that times its own blocks where it runs (a model in another process:
    :class:`yoloshrink.bench.latency.Worker`): ``block(n)`` runs ``n`` calls and returns their
    durations (ms)."""

    def block(self, n: int) -> list[float]: ...

    def close(self) -> None: ...


#: What :func:`warm_up` and :func:`interleaved` time: a call in this process, or a :class:`Turn`.
Timed = Callable[[], Any] | Turn


def _block_of(call: Timed, n: int, clock: Clock, stages: dict[str, list[float]] | None = None) -> list[float]:
    """:func:`time_block` of a call in this process; a :class:`Turn`'s own block, timed where it ran."""
    if hasattr(call, "block"):
        return call.block(n)  # type: ignore[union-attr]
    return time_block(call, n, clock, stages)  # type: ignore[arg-type]


def warm_up(calls: dict[str, Timed], plan: TimingPlan, clock: Clock = time.perf_counter_ns) -> dict[str, Any]:
    """Alternate blocks of each call until every call's last two block medians agree within
    :data:`SETTLE_TOLERANCE` and each ran ``plan.warmup`` calls, or each ran ``plan.warmup_max``.

    Returns ``warmup_calls`` (calls per name) and ``warmup_settled`` (False when the cap ended it).
    """
    medians: dict[str, list[float]] = {name: [] for name in calls}
    done = 0
    while True:
        for name, fn in calls.items():
            medians[name].append(statistics.median(_block_of(fn, plan.block, clock)))
        done += plan.block
        settled = all(len(m) >= 2 and abs(m[-1] - m[-2]) <= SETTLE_TOLERANCE * m[-2] for m in medians.values())
        if (settled and done >= plan.warmup) or done >= plan.warmup_max:
            return {"warmup_calls": done, "warmup_settled": settled}


def interleaved(
    calls: dict[str, Timed], plan: TimingPlan, clock: Clock = time.perf_counter_ns
) -> dict[str, list[list[float]]]:
    """Time ``calls`` in interleaved rounds (see the module docstring); return, per name, its
    rounds, each a list of per-call times in milliseconds; a staged call's stages come as
    ``<name>/<stage>``, round for round."""
    names = list(calls)
    rounds: dict[str, list[list[float]]] = {name: [] for name in names}
    start = clock()
    n_rounds = 0
    while True:
        for name in names if n_rounds % 2 == 0 else names[::-1]:
            stages: dict[str, list[float]] = {}
            rounds[name].append(_block_of(calls[name], plan.block, clock, stages))
            for stage, times in stages.items():
                rounds.setdefault(f"{name}/{stage}", []).append(times)
        n_rounds += 1
        runs = n_rounds * plan.block
        if plan.max_runs is not None and runs >= plan.max_runs:
            return rounds
        if n_rounds >= plan.min_rounds and runs >= plan.min_runs and (clock() - start) / 1e9 >= plan.min_seconds:
            return rounds


Calls = dict[str, Callable[[], Any]]


def abba(labels: list[str], sessions: int) -> list[str]:
    """The order in which ``sessions`` sessions of each of ``labels`` run, one at a time: the
    labels in order, then reversed, and so on (A B B A A B ... for two), so that a drift in time
    falls on every label alike and a linear one cancels over each two sessions."""
    return [label for k in range(sessions) for label in (labels if k % 2 == 0 else labels[::-1])]


def in_processes(session: Callable[[str], dict[str, Any]], labels: list[str], sessions: int) -> dict[str, list[Any]]:
    """Run ``session(label)`` ``sessions`` times for each label in :func:`abba` order, one after
    the other (each call a process of its own: :func:`yoloshrink.bench.latency.spawn_session`);
    return, per label, what its calls returned, in order."""
    out: dict[str, list[Any]] = {label: [] for label in labels}
    for label in abba(labels, sessions):
        out[label].append(session(label))
    return out


def in_sessions(
    load: Callable[[], Calls], plan: TimingPlan, clock: Clock = time.perf_counter_ns
) -> tuple[dict[str, list[list[list[float]]]], dict[str, Any]]:
    """Time the calls ``load()`` returns in ``plan.sessions`` sessions, each loading them afresh,
    warming them up and timing its share of the rounds (:meth:`TimingPlan.per_session`).

    Returns, per name, its sessions (each a list of rounds of per-call milliseconds), and the
    warm-up: ``sessions``, ``warmup_calls`` (in all sessions) and ``warmup_settled`` (in every one).
    """
    share = plan.per_session()
    out: dict[str, list[list[list[float]]]] = {}
    warm = {"sessions": plan.sessions, "warmup_calls": 0, "warmup_settled": True}
    for _ in range(plan.sessions):
        calls = load()
        w = warm_up(calls, plan, clock)
        warm["warmup_calls"] += w["warmup_calls"]
        warm["warmup_settled"] &= w["warmup_settled"]
        for name, rounds in interleaved(calls, share, clock).items():
            out.setdefault(name, []).append(rounds)
        del calls  # the session's models go before the next loads its own
    return out, warm


def in_turns(
    start: Callable[[str], Turn], labels: list[str], plan: TimingPlan, clock: Clock = time.perf_counter_ns
) -> list[tuple[dict[str, Turn], dict[str, list[list[float]]], dict[str, Any]]]:
    """``plan.sessions`` sessions in which every label's model is started afresh (``start(label)``:
    in the workflow a process of its own, :class:`yoloshrink.bench.latency.Worker`) and the models
    take turns block by block, one running at a time: warmed up in turns (:func:`warm_up`), then
    timed in :func:`interleaved` rounds of the session's share (:meth:`TimingPlan.per_session`),
    then closed. A slow spell of the machine, seconds long on a shared VM, then falls on every
    model alike, and no model runs in another's process. The models start in :func:`abba` order
    over the sessions. Returns, per session, its turns (what each said when it started), each
    label's rounds and the warm-up (``warmup_calls`` per label, ``warmup_settled``)."""
    share = plan.per_session()
    out = []
    for k in range(plan.sessions):
        order = labels if k % 2 == 0 else labels[::-1]
        turns: dict[str, Turn] = {}
        try:
            for label in order:
                turns[label] = start(label)
            warm = warm_up(dict(turns), plan, clock)
            rounds = interleaved(dict(turns), share, clock)
        finally:
            for turn in turns.values():
                turn.close()
        out.append(({label: turns[label] for label in labels}, {label: rounds[label] for label in labels}, warm))
    return out
