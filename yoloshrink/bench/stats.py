"""Statistics of timed sessions and rounds: percentiles, and bootstrap intervals of a median and of
a speed-up.

A timing is sessions (each loading the models afresh, in the workflow each a process of its own)
of rounds (see :mod:`yoloshrink.bench.timing`). The bootstrap is two-level: it draws sessions
with replacement, then rounds within each drawn session, so that what a session shares (where
its buffers landed, how its threads were placed) and what a round shares (the machine's state
while it ran) stay together, and the intervals see the variation between sessions as well as
within them. For a speed-up it draws the same session pairs of both models (a pair: the two
sessions that ran next to each other), then rounds: the same rounds where both models ran in
one process side by side, each its own where they ran in processes of their own.

With few sessions a percentile interval is too narrow (it behaves like a z interval that knows
the spread): every interval is Hesterberg's *expanded percentile* interval, the percentiles of
the level whose normal quantile is the Student t quantile of ``n - 1`` degrees of freedom
scaled by ``sqrt(n / (n - 1))`` (n sessions), which covers at about its nominal rate where the
variation between sessions dominates (tests/test_timing.py simulates it). Intervals come from
``REPS`` resamples from a fixed seed, so a record is reproducible.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

#: A p50 with its interval, as :func:`summarize` names them (and every record and CSV after it).
P50_KEYS = ("p50_ms", "p50_ci_low_ms", "p50_ci_high_ms")
#: A speed-up with its interval, as :func:`speedup` names them.
SPEEDUP_KEYS = ("speedup", "speedup_ci_low", "speedup_ci_high")

REPS = 4000  #: bootstrap resamples (the expanded intervals read far into the tails)
LEVEL = 0.95  #: confidence level of every interval
SEED = 0

Rounds = list[list[float]]  #: one session: rounds of per-call milliseconds
Sessions = list[Rounds]


def timing_stats(samples_ms: list[float] | np.ndarray) -> dict[str, float]:
    """n, mean, sd (sample), min, max, p50, p90, p99 of latency samples in milliseconds.

    Percentiles use linear interpolation (numpy's default). Raises ValueError on no samples.
    """
    a = np.asarray(samples_ms, dtype=float)
    if a.size == 0:
        raise ValueError("no timing samples")
    return {
        "n": int(a.size),
        "mean_ms": float(a.mean()),
        "sd_ms": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
        "p50_ms": float(np.percentile(a, 50)),
        "p90_ms": float(np.percentile(a, 90)),
        "p99_ms": float(np.percentile(a, 99)),
    }


def _padded(sessions: Sessions) -> tuple[np.ndarray, np.ndarray]:
    """Sessions as one array (session, round, call), shorter sessions padded, and their round counts."""
    counts = np.array([len(r) for r in sessions])
    block = len(sessions[0][0])
    arr = np.full((len(sessions), counts.max(), block), np.nan)
    for i, rounds in enumerate(sessions):
        arr[i, : len(rounds)] = np.asarray(rounds, dtype=float)
    return arr, counts


def _draws(counts: np.ndarray, reps: int, seed: int, sess: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``reps`` two-level draws: sessions (reps x sessions; ``sess`` where given) and, in each
    drawn session, as many rounds as the longest session has (reps x sessions x rounds), each
    among that session's own."""
    rng = np.random.default_rng(seed)
    n, most = len(counts), int(counts.max())
    if sess is None:
        sess = rng.integers(0, n, size=(reps, n))
    rounds = (rng.random((reps, n, most)) * counts[sess][:, :, None]).astype(int)
    return sess, rounds


def _medians(arr: np.ndarray, draws: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The pooled median of every resample ``draws`` picks from padded sessions ``arr``."""
    sess, rounds = draws
    out = np.empty(len(sess))
    for start in range(0, len(sess), 250):  # bounded memory for long timings
        s, r = sess[start : start + 250], rounds[start : start + 250]
        picked = arr[s[:, :, None], r]  # reps x sessions x rounds x calls
        out[start : start + 250] = np.median(picked.reshape(len(s), -1), axis=1)
    return out


def t_quantile(p: float, df: int) -> float:
    """Student t's ``p`` quantile with ``df`` degrees of freedom: exact for 1 and 2, else the
    Cornish-Fisher expansion in the normal quantile (within 0.1 % of the exact value at df 3,
    closer beyond). No scipy: the deployment host's light venv has none."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = NormalDist().inv_cdf(p)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(t / df ** (i + 1) for i, t in enumerate(terms))


def expanded_level(n: int, level: float = LEVEL) -> float:
    """The percentile level of Hesterberg's expanded percentile interval for ``n`` sessions at
    nominal ``level``; ``level`` itself for one session (nothing to expand by)."""
    if n < 2:
        return level
    z = math.sqrt(n / (n - 1)) * t_quantile(1 - (1 - level) / 2, n - 1)
    return 1 - 2 * NormalDist().cdf(-z)


def _interval(values: np.ndarray, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The expanded percentile interval of bootstrap ``values`` drawn over ``n`` sessions."""
    tail = (1 - expanded_level(n, level)) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def _pooled(sessions: Sessions) -> np.ndarray:
    return np.array([x for rounds in sessions for r in rounds for x in r], dtype=float)


def summarize(sessions: Sessions, reps: int = REPS, seed: int = SEED) -> dict[str, Any]:
    """:func:`timing_stats` of all samples, the p50's interval (``p50_ci_low_ms``,
    ``p50_ci_high_ms``), the number of ``rounds`` in all and their spread (``round_cv``: the
    sample sd of the rounds' medians over their median; 0 with one round)."""
    arr, counts = _padded(sessions)
    lo, hi = _interval(_medians(arr, _draws(counts, reps, seed)), len(sessions))
    round_medians = np.array([np.median(r) for rounds in sessions for r in rounds])
    cv = float(round_medians.std(ddof=1) / np.median(round_medians)) if len(round_medians) > 1 else 0.0
    return {
        **timing_stats(_pooled(sessions)),
        "p50_ci_low_ms": lo,
        "p50_ci_high_ms": hi,
        "rounds": int(counts.sum()),
        "round_cv": cv,
    }


def speedup(
    baseline: Sessions, variant: Sessions, reps: int = REPS, seed: int = SEED, same_rounds: bool = True
) -> dict[str, Any]:
    """The baseline's p50 over the variant's (above 1: the variant is faster), with its interval
    and a ``verdict``. Session ``k`` of each model form a pair, resampled together. With
    ``same_rounds`` the two were timed side by side in one process, round for round, and the
    same rounds of both are drawn; else (a process each, taking turns) each session's rounds
    are drawn on their own."""
    if len(baseline) != len(variant):
        raise ValueError(f"paired timings differ in sessions: {len(baseline)} and {len(variant)}")
    shape = [len(r) for r in baseline]
    if same_rounds and shape != [len(r) for r in variant]:
        raise ValueError(f"paired sessions differ in rounds: {shape} and {[len(r) for r in variant]}")
    (base, counts), (var, var_counts) = _padded(baseline), _padded(variant)
    draws = _draws(counts, reps, seed)
    var_draws = draws if same_rounds else _draws(var_counts, reps, seed + 1, sess=draws[0])
    lo, hi = _interval(_medians(base, draws) / _medians(var, var_draws), len(baseline))
    point = float(np.median(_pooled(baseline)) / np.median(_pooled(variant)))
    return {"speedup": point, "speedup_ci_low": lo, "speedup_ci_high": hi, "speedup_verdict": verdict(lo, hi)}


def interference(pair: dict[str, Any], baseline_row: dict[str, Any], variant_row: dict[str, Any]) -> dict[str, Any]:
    """Each model's p50 in the pair against its own latency row: ``pair_slowdown`` and
    ``baseline_pair_slowdown`` (the pair's p50 over the row's, 1 = as fast as alone), and
    ``pair_interference``: True where the pair's interval for either model lies wholly above its
    row's (the pair slowed it by more than the intervals allow), False where both overlap or lie
    below, None where a figure is missing."""
    out: dict[str, Any] = {}
    flags = []
    for prefix, row in (("", variant_row), ("baseline_", baseline_row)):
        p50, lo = pair.get(f"{prefix}p50_ms"), pair.get(f"{prefix}p50_ci_low_ms")
        alone, hi = row.get("p50_ms"), row.get("p50_ci_high_ms")
        known = all(isinstance(x, (int, float)) and x == x for x in (p50, lo, alone, hi))
        out[f"{prefix}pair_slowdown"] = p50 / alone if known else float("nan")
        flags.append(lo > hi if known else None)
    out["pair_interference"] = None if None in flags else any(flags)
    return out


def between_jobs(groups: list[list[float]]) -> tuple[float, int]:
    """The spread of a p50 between the jobs that timed the same model: ``groups`` holds, per model,
    its p50s from two or more jobs (its latency row, the pairs that timed it); returns the pooled
    sample sd of their logarithms about each model's own mean, and its degrees of freedom (the
    p50s less one per model). (nan, 0) where no model was timed twice."""
    logs = [np.log(np.asarray(g, dtype=float)) for g in groups if len(g) >= 2]
    dof = sum(len(g) - 1 for g in logs)
    if dof == 0:
        return math.nan, 0
    return float(math.sqrt(sum(((g - g.mean()) ** 2).sum() for g in logs) / dof)), dof


def jobs_interval(p50: float, lo: float, hi: float, sd: float, dof: int, level: float = LEVEL) -> tuple[float, float]:
    """The 95 % interval of a model's p50 in a typical job of the run, from one job's ``p50``: its
    own interval (``lo``-``hi``, what varied within that job) widened, on the log scale, by the
    Student t interval of the spread between jobs (``sd`` with ``dof`` degrees of freedom:
    :func:`between_jobs`), the two half-widths added in quadrature on each side. A job's p50 is
    the model's times the job's own factor (the machine's state while it ran, its processes);
    one job's interval knows nothing of that factor. nan where the spread is unknown."""
    if not (dof >= 1 and sd == sd and 0 < lo <= p50 <= hi):
        return math.nan, math.nan
    jobs = t_quantile(1 - (1 - level) / 2, dof) * sd
    down = math.hypot(math.log(p50 / lo), jobs)
    up = math.hypot(math.log(hi / p50), jobs)
    return p50 * math.exp(-down), p50 * math.exp(up)


def verdict(lo: float, hi: float) -> str:
    """ "faster" when the whole interval is above 1, "slower" below, else "no measurable difference"."""
    if lo > 1:
        return "faster"
    if hi < 1:
        return "slower"
    return "no measurable difference"
