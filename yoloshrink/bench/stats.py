"""Statistics of timed rounds: percentiles, and bootstrap intervals of the median and of a speed-up.

Rounds (see :mod:`yoloshrink.bench.timing`) are the unit of resampling: a bootstrap draws rounds
with replacement, so that what a round shares (the machine's state while it ran) stays together,
and for a speed-up it draws the same rounds of both models, which ran side by side. Intervals
are percentile intervals of ``REPS`` resamples from a fixed seed, so a record is reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

REPS = 2000  #: bootstrap resamples
LEVEL = 0.95  #: confidence level of every interval
SEED = 0

Rounds = list[list[float]]


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


def _resampled_medians(rounds: Rounds, index: np.ndarray) -> np.ndarray:
    """The pooled median of the rounds ``index`` picks, one per row of ``index``."""
    arr = np.asarray(rounds, dtype=float)  # rounds x block
    out = np.empty(len(index))
    for start in range(0, len(index), 250):  # bounded memory for long timings
        chunk = arr[index[start : start + 250]]
        out[start : start + 250] = np.median(chunk.reshape(len(chunk), -1), axis=1)
    return out


def _draws(n_rounds: int, reps: int = REPS, seed: int = SEED) -> np.ndarray:
    """``reps`` bootstrap draws of ``n_rounds`` round indices."""
    return np.random.default_rng(seed).integers(0, n_rounds, size=(reps, n_rounds))


def _interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def summarize(rounds: Rounds, reps: int = REPS, seed: int = SEED) -> dict[str, Any]:
    """:func:`timing_stats` of all samples, the p50's interval (``p50_ci_low_ms``,
    ``p50_ci_high_ms``), the number of ``rounds`` and their spread (``round_cv``: the sample sd of
    the rounds' medians over their median; 0 with one round)."""
    samples = [x for r in rounds for x in r]
    medians = _resampled_medians(rounds, _draws(len(rounds), reps, seed))
    lo, hi = _interval(medians)
    round_medians = np.median(np.asarray(rounds, dtype=float), axis=1)
    cv = float(round_medians.std(ddof=1) / np.median(round_medians)) if len(rounds) > 1 else 0.0
    return {**timing_stats(samples), "p50_ci_low_ms": lo, "p50_ci_high_ms": hi, "rounds": len(rounds), "round_cv": cv}


def speedup(baseline: Rounds, variant: Rounds, reps: int = REPS, seed: int = SEED) -> dict[str, Any]:
    """The baseline's p50 over the variant's (above 1: the variant is faster) from rounds timed side
    by side, with its interval (the same rounds of both resampled together) and a ``verdict``."""
    if len(baseline) != len(variant):
        raise ValueError(f"paired rounds differ in number: {len(baseline)} and {len(variant)}")
    draws = _draws(len(baseline), reps, seed)
    ratios = _resampled_medians(baseline, draws) / _resampled_medians(variant, draws)
    point = float(np.median(np.concatenate(baseline)) / np.median(np.concatenate(variant)))
    lo, hi = _interval(ratios)
    return {"speedup": point, "speedup_ci_low": lo, "speedup_ci_high": hi, "speedup_verdict": verdict(lo, hi)}


def verdict(lo: float, hi: float) -> str:
    """ "faster" when the whole interval is above 1, "slower" below, else "no measurable difference"."""
    if lo > 1:
        return "faster"
    if hi < 1:
        return "slower"
    return "no measurable difference"
