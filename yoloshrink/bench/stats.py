"""Statistics of timed sessions and rounds: percentiles, and bootstrap intervals of a median and of
a speed-up.

A timing is sessions (each loading the models afresh) of rounds (see
:mod:`yoloshrink.bench.timing`). The bootstrap is two-level: it draws sessions with replacement,
then rounds within each drawn session, so that what a session shares (where its buffers landed,
how its threads were placed) and what a round shares (the machine's state while it ran) stay
together, and the intervals see the variation between loads as well as within them. For a
speed-up it draws the same sessions and rounds of both models, which ran side by side.
Intervals are percentile intervals of ``REPS`` resamples from a fixed seed, so a record is
reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

REPS = 2000  #: bootstrap resamples
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


def _draws(counts: np.ndarray, reps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``reps`` two-level draws: sessions (reps x sessions) and, in each drawn session, as many
    rounds as the longest session has (reps x sessions x rounds), each among that session's own."""
    rng = np.random.default_rng(seed)
    n, most = len(counts), int(counts.max())
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


def _interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def _pooled(sessions: Sessions) -> np.ndarray:
    return np.array([x for rounds in sessions for r in rounds for x in r], dtype=float)


def summarize(sessions: Sessions, reps: int = REPS, seed: int = SEED) -> dict[str, Any]:
    """:func:`timing_stats` of all samples, the p50's interval (``p50_ci_low_ms``,
    ``p50_ci_high_ms``), the number of ``rounds`` in all and their spread (``round_cv``: the
    sample sd of the rounds' medians over their median; 0 with one round)."""
    arr, counts = _padded(sessions)
    lo, hi = _interval(_medians(arr, _draws(counts, reps, seed)))
    round_medians = np.array([np.median(r) for rounds in sessions for r in rounds])
    cv = float(round_medians.std(ddof=1) / np.median(round_medians)) if len(round_medians) > 1 else 0.0
    return {
        **timing_stats(_pooled(sessions)),
        "p50_ci_low_ms": lo,
        "p50_ci_high_ms": hi,
        "rounds": int(counts.sum()),
        "round_cv": cv,
    }


def speedup(baseline: Sessions, variant: Sessions, reps: int = REPS, seed: int = SEED) -> dict[str, Any]:
    """The baseline's p50 over the variant's (above 1: the variant is faster) from sessions timed
    side by side, with its interval (the same sessions and rounds of both resampled together)
    and a ``verdict``."""
    shape = [len(r) for r in baseline]
    if shape != [len(r) for r in variant]:
        raise ValueError(f"paired sessions differ in rounds: {shape} and {[len(r) for r in variant]}")
    (base, counts), (var, _) = _padded(baseline), _padded(variant)
    draws = _draws(counts, reps, seed)
    lo, hi = _interval(_medians(base, draws) / _medians(var, draws))
    point = float(np.median(_pooled(baseline)) / np.median(_pooled(variant)))
    return {"speedup": point, "speedup_ci_low": lo, "speedup_ci_high": hi, "speedup_verdict": verdict(lo, hi)}


def verdict(lo: float, hi: float) -> str:
    """ "faster" when the whole interval is above 1, "slower" below, else "no measurable difference"."""
    if lo > 1:
        return "faster"
    if hi < 1:
        return "slower"
    return "no measurable difference"
