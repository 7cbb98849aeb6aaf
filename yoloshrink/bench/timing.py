"""Timing: calls timed on a clock, their statistics, and the thread settings of a timing process.

Imports nothing heavy when loaded (numpy only inside :func:`timing_stats`), so a timing job can
set its thread variables (:func:`limit_thread_env`) before numpy or any runtime is imported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

#: Thread-count variables of the OpenMP/BLAS libraries under the runtimes. Snakemake sets them to
#: the job's cores; a timing job holds every core but times a given thread count.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def limit_thread_env(threads: int) -> None:
    """Set :data:`THREAD_ENV` to ``threads`` in this process; call before importing a runtime."""
    os.environ.update({name: str(int(threads)) for name in THREAD_ENV})


def timing_stats(samples_ms: list[float] | Any) -> dict[str, float]:
    """n, mean, sd (sample), min, max, p50, p90, p99 of latency samples in milliseconds.

    Percentiles use linear interpolation (numpy's default). Raises ValueError on no samples.
    """
    import numpy as np

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


def time_calls(
    fn: Callable[[], Any],
    warmup: int,
    min_runs: int,
    min_seconds: float,
    max_runs: int | None = None,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> list[float]:
    """Call ``fn`` ``warmup`` times, then time calls until ``min_runs`` and ``min_seconds``.

    Stops early at ``max_runs`` if given. Returns the per-call times in milliseconds.
    """
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    start = clock()
    while True:
        t0 = clock()
        fn()
        t1 = clock()
        samples.append((t1 - t0) / 1e6)
        elapsed = (t1 - start) / 1e9
        if max_runs is not None and len(samples) >= max_runs:
            break
        if len(samples) >= min_runs and elapsed >= min_seconds:
            break
    return samples
