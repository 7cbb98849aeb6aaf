"""What every workflow script does first: the offline environment, and its output to the log.

``workflow/scripts/*.py`` start with ``from yoloshrink.job import start; start(snakemake)``,
then unpack ``snakemake.input/output/params/wildcards/threads`` and call one function of the
package. :func:`start` imports nothing heavy, so the thread variables it sets for a timing job
are in place before numpy or any runtime is loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from yoloshrink import offline

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


def redirect_output(log_path: str | Path) -> None:
    """Point file descriptors 1 and 2 (and sys.stdout/stderr) at ``log_path``, appending."""
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def start(snakemake: Any, timed_threads: int | None = None) -> None:
    """Keep ultralytics, OpenVINO and ONNX Runtime offline in this job, and send its output (and
    its subprocesses') to the rule's log file (``log:``, the first one). A timing job, which
    holds every core but times ``timed_threads``, gets that many in the thread variables."""
    offline.apply()
    if timed_threads is not None:
        limit_thread_env(timed_threads)
    if snakemake.log:
        redirect_output(snakemake.log[0])
