"""The timing method on a fake clock and on known distributions: interleaving, warm-up, intervals."""

from __future__ import annotations

import os

import numpy as np
import pytest

from yoloshrink.bench import stats
from yoloshrink.bench.timing import (
    TimingPlan,
    abba,
    allowed_cores,
    in_processes,
    in_sessions,
    interleaved,
    pin_cores,
    time_block,
    warm_up,
)
from yoloshrink.bench.timing import in_turns as timing_in_turns


class FakeMachine:
    """A clock in nanoseconds that only calls advance; every call costs its base time times a
    slowdown that grows linearly with the time elapsed (``drift`` per second)."""

    def __init__(self, drift: float = 0.0):
        self.ns = 0
        self.drift = drift

    def clock(self) -> int:
        return self.ns

    def call(self, cost_ms: float):
        def fn() -> None:
            self.ns += int(cost_ms * (1 + self.drift * self.ns / 1e9) * 1e6)

        return fn


def test_interleaving_cancels_a_drift_that_biases_sequential_timing():
    plan = TimingPlan(block=5, min_rounds=20, min_runs=100, min_seconds=0)
    m = FakeMachine(drift=0.5)  # 50 % slower per second of machine time
    a, b = m.call(10.0), m.call(5.0)  # the true ratio is 2
    seq_a = interleaved({"a": a}, plan, m.clock)["a"]
    seq_b = interleaved({"b": b}, plan, m.clock)["b"]  # timed after a, on a slower machine
    sequential = np.median(np.concatenate(seq_a)) / np.median(np.concatenate(seq_b))
    m = FakeMachine(drift=0.5)
    rounds = interleaved({"a": m.call(10.0), "b": m.call(5.0)}, plan, m.clock)
    paired = stats.speedup([rounds["a"]], [rounds["b"]])["speedup"]
    assert abs(sequential / 2 - 1) > 0.2, sequential  # the drift shows in the sequential ratio
    assert abs(paired / 2 - 1) < 0.02, paired  # and cancels side by side


def test_rounds_alternate_the_order_and_stop_at_the_plan():
    m = FakeMachine()
    order: list[str] = []
    calls = {name: (lambda name=name: (order.append(name), m.call(1.0)())) for name in ("a", "b")}
    rounds = interleaved(calls, TimingPlan(block=2, min_rounds=3, min_runs=4, min_seconds=0), m.clock)
    assert [len(r) for r in rounds["a"]] == [2, 2, 2] and len(rounds["b"]) == 3  # min_rounds wins over min_runs
    assert "".join(order) == "aabb" + "bbaa" + "aabb"
    m = FakeMachine()
    one = interleaved({"a": m.call(100.0)}, TimingPlan(block=1, min_rounds=2, min_runs=1, min_seconds=1.0), m.clock)
    # call k ends at 0.1*k s: 1 s of timing takes exactly 10 rounds
    assert len(one["a"]) == 10 and all(r == [pytest.approx(100.0)] for r in one["a"])
    capped = interleaved({"a": m.call(1.0)}, TimingPlan(block=5, min_rounds=100, max_runs=7, min_seconds=0), m.clock)
    assert len(capped["a"]) == 2  # 10 calls >= max_runs 7: stops after the round that passed it


def test_warm_up_runs_until_the_block_medians_settle_or_the_cap():
    m = FakeMachine()
    costs = iter([50.0] * 5 + [20.0] * 5 + [10.0] * 1000)  # a cold start that settles at 10 ms

    def cold() -> None:
        m.ns += int(next(costs) * 1e6)

    out = warm_up({"x": cold}, TimingPlan(warmup=0, warmup_max=1000, block=5), m.clock)
    assert out == {"warmup_calls": 20, "warmup_settled": True}  # blocks 50, 20, 10, 10
    never = iter(float(10 + 5 * (i % 2)) for i in range(1000))  # alternates: never within 5 %

    def noisy() -> None:
        m.ns += int(next(never) * 1e6)

    out = warm_up({"x": noisy}, TimingPlan(warmup=0, warmup_max=30, block=1), m.clock)
    assert out == {"warmup_calls": 30, "warmup_settled": False}
    out = warm_up({"x": m.call(1.0)}, TimingPlan(warmup=12, warmup_max=100, block=5), m.clock)
    assert out["warmup_calls"] == 15  # settled at once, but at least `warmup` calls


def lognormal_sessions(
    rng: np.random.Generator, median: float, sessions: int, rounds: int, block: int, between: float = 0.0
) -> list[list[list[float]]]:
    """Sessions of rounds of lognormal call times around ``median``; each session's level moved
    by a lognormal factor of sd ``between`` (what a fresh load changes)."""
    return [
        (median * np.exp(rng.normal(0, between)) * np.exp(rng.normal(0, 0.15, (rounds, block)))).tolist()
        for _ in range(sessions)
    ]


def test_intervals_cover_the_true_median_and_ratio_at_about_the_nominal_rate():
    rng = np.random.default_rng(1)
    n, ratio_hits, p50_hits = 200, 0, 0
    for i in range(n):
        base, var = lognormal_sessions(rng, 10.0, 3, 8, 5), lognormal_sessions(rng, 5.0, 3, 8, 5)
        s = stats.speedup(base, var, reps=500, seed=i)
        ratio_hits += s["speedup_ci_low"] <= 2.0 <= s["speedup_ci_high"]
        one = stats.summarize(var, reps=500, seed=i)
        p50_hits += one["p50_ci_low_ms"] <= 5.0 <= one["p50_ci_high_ms"]
    assert 0.9 <= ratio_hits / n <= 1.0, ratio_hits / n
    assert 0.9 <= p50_hits / n <= 1.0, p50_hits / n


def test_resampling_sessions_covers_what_a_fresh_load_changes_where_rounds_alone_do_not():
    rng = np.random.default_rng(2)
    n, two_level, rounds_only = 200, 0, 0
    for i in range(n):
        base, var = (lognormal_sessions(rng, m, 6, 4, 5, between=0.08) for m in (10.0, 5.0))
        s = stats.speedup(base, var, reps=400, seed=i)
        two_level += s["speedup_ci_low"] <= 2.0 <= s["speedup_ci_high"]
        flat = stats.speedup([[r for x in base for r in x]], [[r for x in var for r in x]], reps=400, seed=i)
        rounds_only += flat["speedup_ci_low"] <= 2.0 <= flat["speedup_ci_high"]
    assert two_level / n >= 0.9, two_level / n  # measured 0.93
    assert rounds_only / n <= 0.8, rounds_only / n  # measured 0.72: too narrow


def test_sessions_load_afresh_and_share_the_plan():
    m = FakeMachine()
    loads = []

    def load():
        loads.append(1)
        return {"a": m.call(1.0), "b": m.call(2.0)}

    plan = TimingPlan(warmup=0, warmup_max=10, block=2, sessions=3, min_rounds=7, min_runs=1, min_seconds=0)
    timed, warm = in_sessions(load, plan, m.clock)
    assert len(loads) == 3 and warm["sessions"] == 3 and warm["warmup_settled"]
    assert [len(rounds) for rounds in timed["a"]] == [3, 3, 3]  # ceil(7 / 3) rounds each
    assert warm["warmup_calls"] == 3 * 4  # two settled blocks of 2 per session
    assert plan.per_session().min_seconds == 0 and TimingPlan(min_seconds=9, sessions=3).per_session().min_seconds == 3


def test_verdicts_and_summary_fields():
    rng = np.random.default_rng(0)
    same = stats.speedup(lognormal_sessions(rng, 5.0, 3, 8, 5), lognormal_sessions(rng, 5.0, 3, 8, 5))
    assert (
        same["speedup_verdict"] == "no measurable difference" and same["speedup_ci_low"] < 1 < same["speedup_ci_high"]
    )
    faster = stats.speedup(lognormal_sessions(rng, 10.0, 3, 8, 5), lognormal_sessions(rng, 5.0, 3, 8, 5))
    assert faster["speedup_verdict"] == "faster" and faster["speedup_ci_low"] > 1
    assert stats.verdict(0.5, 0.9) == "slower"
    s = stats.summarize([[[1.0, 2.0], [3.0, 4.0]], [[100.0, 5.0]]])  # two sessions, unequal
    assert s["n"] == 6 and s["rounds"] == 3 and s["p50_ms"] == 3.5 and s["max_ms"] == 100.0  # outliers kept
    assert s["p50_ci_low_ms"] <= s["p50_ms"] <= s["p50_ci_high_ms"]
    assert s["round_cv"] == pytest.approx(np.std([1.5, 3.5, 52.5], ddof=1) / 3.5)
    with pytest.raises(ValueError, match="paired sessions differ"):
        stats.speedup([[[1.0]]], [[[1.0], [2.0]]])


def test_timing_stats_known_values():
    s = stats.timing_stats([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s["n"] == 5 and s["p50_ms"] == 3.0 and s["min_ms"] == 1.0 and s["max_ms"] == 100.0
    assert s["mean_ms"] == pytest.approx(22.0) and s["sd_ms"] == pytest.approx(np.std([1, 2, 3, 4, 100], ddof=1))
    assert s["p90_ms"] == pytest.approx(4 + 0.6 * 96) and s["p99_ms"] == pytest.approx(4 + 0.96 * 96)
    with pytest.raises(ValueError, match="no timing samples"):
        stats.timing_stats([])


def test_pin_cores_pins_the_lowest_cores_it_may_use_and_widens_again():
    before = os.sched_getaffinity(0)
    allowed = allowed_cores()
    try:
        cpus = pin_cores(1)
        assert cpus == [allowed[0]] and os.sched_getaffinity(0) == {allowed[0]}
        if len(allowed) >= 2:  # a 2-thread row after a 1-thread row: both cores again, not core 0 alone
            assert pin_cores(2) == allowed[:2] and os.sched_getaffinity(0) == set(allowed[:2])
            assert pin_cores(1) == [allowed[0]]
        for bad in (0, -1, len(allowed) + 1):  # refused by name, not silently capped
            with pytest.raises(ValueError, match=f"{bad} thread"):
                pin_cores(bad)
    finally:
        os.sched_setaffinity(0, before)


def test_plan_from_config_takes_its_keys_only():
    plan = TimingPlan.from_config({"block": 3, "min_rounds": 4, "e2e_images": 10, "parity_tolerance": 0.1})
    assert plan.block == 3 and plan.min_rounds == 4 and plan.min_runs == TimingPlan().min_runs


def test_sessions_take_turns_abba_one_at_a_time():
    assert abba(["a", "b"], 4) == list("abbaabba") and abba(["m"], 3) == ["m", "m", "m"]
    ran: list[str] = []
    out = in_processes(lambda label: ran.append(label) or f"{label}{len(ran)}", ["a", "b"], 3)
    assert ran == list("abbaab") and out == {"a": ["a1", "a4", "a5"], "b": ["b2", "b3", "b6"]}


def simulated_job(rng: np.random.Generator, medians: dict[str, float], processes: int, rounds: int) -> dict:
    """What a pair's timing sees when every process draws its own level (lognormal, sd 0.08:
    where a fresh interpreter's buffers, code and threads land) around each model's true median:
    ``processes`` processes (sessions) of each model, each of ``rounds`` rounds of 5 calls
    (within-call noise sd 0.15)."""
    return {
        name: [lognormal_sessions(rng, median * np.exp(rng.normal(0, 0.08)), 1, rounds, 5)[0] for _ in range(processes)]
        for name, median in medians.items()
    }


def test_a_process_per_session_covers_what_changes_between_processes_where_one_process_does_not():
    """Each process draws its own offset. An interval from one process per model sees only the
    variation within it; the workflow times each model in six processes, taking turns, and
    bootstraps over those (expanded for their number). Same number of rounds in both."""
    rng = np.random.default_rng(3)
    n, new_hits, old_hits = 200, 0, 0
    for i in range(n):
        new = simulated_job(rng, {"base": 10.0, "var": 5.0}, processes=6, rounds=4)
        s = stats.speedup(new["base"], new["var"], reps=1000, seed=i, same_rounds=False)
        new_hits += s["speedup_ci_low"] <= 2.0 <= s["speedup_ci_high"]
        old = simulated_job(rng, {"base": 10.0, "var": 5.0}, processes=1, rounds=24)
        s = stats.speedup(old["base"], old["var"], reps=1000, seed=i, same_rounds=False)
        old_hits += s["speedup_ci_low"] <= 2.0 <= s["speedup_ci_high"]
    assert 0.9 <= new_hits / n <= 1.0, new_hits / n  # nominal 0.95
    assert old_hits / n <= 0.6, old_hits / n  # the within-process interval misses the offsets


def test_expanded_intervals_use_student_t_for_few_sessions():
    assert stats.t_quantile(0.975, 1) == pytest.approx(12.706, abs=1e-3)
    assert stats.t_quantile(0.975, 2) == pytest.approx(4.303, abs=1e-3)
    assert stats.t_quantile(0.975, 5) == pytest.approx(2.571, abs=2e-3)
    assert stats.t_quantile(0.975, 29) == pytest.approx(2.045, abs=1e-3)
    assert stats.expanded_level(1) == 0.95  # one session: nothing to widen by
    assert stats.expanded_level(6) == pytest.approx(0.9951, abs=1e-4)
    assert stats.expanded_level(2) > stats.expanded_level(6) > stats.expanded_level(30) > 0.95


class Interfering:
    """A fake runtime whose calls slow down by half for every other model loaded in the same
    process (what two OpenVINO models in one pinned process did)."""

    def __init__(self, machine: FakeMachine):
        self.machine, self.loaded = machine, 0

    def load(self, cost_ms: float):
        self.loaded += 1

        def call() -> None:
            self.machine.ns += int(cost_ms * (1 + 0.5 * (self.loaded - 1)) * 1e6)

        return call


def test_a_pair_that_slows_its_models_is_flagged_and_processes_taking_turns_do_not_slow_them():
    plan = TimingPlan(warmup=0, warmup_max=10, block=5, min_rounds=4, min_runs=20, min_seconds=0, sessions=3)
    costs = {"baseline": 10.0, "variant": 4.0}

    def alone(name: str) -> dict:
        """One session of ``name`` in a fresh (fake) process: a runtime with one model loaded."""
        m = FakeMachine()
        call = Interfering(m).load(costs[name])
        warm_up({"net": call}, plan, m.clock)
        return interleaved({"net": call}, plan.per_session(), m.clock)["net"]

    rows = {name: stats.summarize(in_processes(alone, [name], 3)[name]) for name in costs}

    def together() -> dict:
        """Both models in one process, side by side (the old method)."""
        runtime = Interfering(m)
        return {name: runtime.load(cost) for name, cost in costs.items()}

    class Process:
        """A model in a (fake) process of its own: its own runtime, one model loaded."""

        def __init__(self, name: str):
            self.fn = Interfering(m).load(costs[name])

        def block(self, n: int) -> list[float]:
            return time_block(self.fn, n, m.clock)

        def close(self) -> None:
            pass

    m = FakeMachine()
    side_by_side, _ = in_sessions(together, plan, m.clock)
    in_turns = timing_in_turns(Process, list(costs), plan, m.clock)
    turns = {name: [rounds[name] for _, rounds, _ in in_turns] for name in costs}
    for timed, slowed in ((side_by_side, True), (turns, False)):
        base, var = stats.summarize(timed["baseline"]), stats.summarize(timed["variant"])
        pair = {
            **{k: var[k] for k in ("p50_ms", "p50_ci_low_ms")},
            **{f"baseline_{k}": base[k] for k in ("p50_ms", "p50_ci_low_ms")},
        }
        check = stats.interference(pair, rows["baseline"], rows["variant"])
        assert check["pair_interference"] is slowed, check
        expected = 1.5 if slowed else 1.0
        assert check["pair_slowdown"] == pytest.approx(expected) and check["baseline_pair_slowdown"] == pytest.approx(
            expected
        )
    assert stats.speedup(turns["baseline"], turns["variant"])["speedup"] == pytest.approx(2.5)
    missing = stats.interference({"p50_ms": 1.0}, {}, rows["variant"])
    assert missing["pair_interference"] is None


class SpellMachine(FakeMachine):
    """A shared VM's clock: calls run at their cost (lognormal noise, sd 0.1), 1.4x to 2x slower
    during slow spells that come and go at random, seconds long (what this project's 2-core VMs
    did: 35-40 % of 100-ms windows 1.4x to 2x slower, spells of 0.3 to 5 s, the same model in
    the same process)."""

    def __init__(self, rng: np.random.Generator):
        super().__init__()
        self.rng = rng
        edges, factors, t, slow = [], [], 0.0, False
        while t < 600:
            t += rng.exponential(3.0 if slow else 5.0)
            edges.append(t)
            factors.append(1.0 if slow else rng.uniform(1.4, 2.0))  # the spell after this edge
            slow = not slow
        self.edges, self.factors = np.array(edges) * 1e9, [1.0, *factors]

    def call(self, cost_ms: float):
        def fn() -> None:
            factor = self.factors[np.searchsorted(self.edges, self.ns)]
            self.ns += int(cost_ms * factor * np.exp(self.rng.normal(0, 0.1)) * 1e6)

        return fn


class FakeTurn:
    """A model in a (fake) process of its own that times its own blocks on the shared machine."""

    def __init__(self, machine: SpellMachine, cost_ms: float):
        self.machine, self.fn = machine, machine.call(cost_ms)

    def block(self, n: int) -> list[float]:
        return time_block(self.fn, n, self.machine.clock)

    def close(self) -> None:
        pass


def test_models_taking_turns_by_block_cancel_slow_spells_that_widen_a_process_each_in_turn():
    """Slow spells of seconds: timed a process after another (each model its own sessions), a
    spell falls on one model's sessions and not the other's, and the speed-up's point and interval
    swing; taking turns block by block in processes alive together, a spell falls on both alike.
    A/A on the fake machine, same time spent: the turns' intervals contain 1 about as often as
    they claim and are about as wide, and their points stay three times closer to 1."""
    plan = TimingPlan(warmup=5, warmup_max=50, block=5, min_rounds=12, min_runs=20, min_seconds=1.0, sessions=2)
    out: dict[str, list] = {"turns": [], "a process each, in turn": []}
    for i in range(100):
        m = SpellMachine(np.random.default_rng(i))
        sessions = timing_in_turns(lambda label, m=m: FakeTurn(m, 5.0), ["a", "b"], plan, m.clock)
        a, b = ([rounds[label] for _, rounds, _ in sessions] for label in ("a", "b"))
        out["turns"].append(stats.speedup(a, b, reps=500, seed=i))

        def alone(label: str, m: SpellMachine = m) -> list:
            call = m.call(5.0)
            warm_up({"net": call}, plan, m.clock)
            return interleaved({"net": call}, plan.per_session(), m.clock)["net"]

        each = in_processes(alone, ["a", "b"], plan.sessions)
        out["a process each, in turn"].append(stats.speedup(each["a"], each["b"], reps=500, seed=i, same_rounds=False))
    covered = {k: np.mean([s["speedup_ci_low"] <= 1.0 <= s["speedup_ci_high"] for s in v]) for k, v in out.items()}
    width = {k: np.median([s["speedup_ci_high"] - s["speedup_ci_low"] for s in v]) for k, v in out.items()}
    off = {k: np.percentile([abs(s["speedup"] - 1) for s in v], 90) for k, v in out.items()}
    assert covered["turns"] >= 0.93, covered
    assert width["turns"] < 1.5 * width["a process each, in turn"], width
    assert off["turns"] * 3 < off["a process each, in turn"], off


def test_the_interval_with_what_moved_between_jobs_covers_a_models_p50_where_one_jobs_does_not():
    """Each job (a process start, the machine's state while it ran) multiplies every p50 it
    measures by its own factor (lognormal, sd 0.15), far beyond the noise within a job (sd 0.01).
    As in a run of the workflow, the baseline is timed in four jobs (its row and three pairs),
    each other variant in two (its row and its pair). The interval of one job covers the model's
    typical p50 rarely; widened by the spread between jobs (pooled from those repeats) it covers
    it at about its nominal rate."""
    rng = np.random.default_rng(0)
    true = {"base": 10.0, "a": 5.0, "b": 4.0, "c": 2.5}
    within, hits, n = 0.01, {"one job": 0, "between jobs": 0}, 400
    for _ in range(n):
        jobs = {m: true[m] * np.exp(rng.normal(0, 0.15, 4 if m == "base" else 2)) for m in true}
        sd, dof = stats.between_jobs([list(p) for p in jobs.values()])
        assert dof == 3 + 3 * 1
        p50 = float(jobs["a"][0])  # variant a's latency row: one job
        lo, hi = p50 * np.exp(-1.96 * within), p50 * np.exp(1.96 * within)
        hits["one job"] += lo <= true["a"] <= hi
        jlo, jhi = stats.jobs_interval(p50, lo, hi, sd, dof)
        hits["between jobs"] += jlo <= true["a"] <= jhi
    assert hits["one job"] / n < 0.2, hits
    assert 0.9 <= hits["between jobs"] / n <= 0.99, hits
    sd, dof = stats.between_jobs([[1.0], [2.0]])  # no model timed twice: unknown
    assert np.isnan(sd) and dof == 0 and np.isnan(stats.jobs_interval(1.0, 0.9, 1.1, sd, dof)).all()
    assert stats.jobs_interval(1.0, 0.9, 1.1, 0.0, 5) == pytest.approx((0.9, 1.1))  # no spread: its own
