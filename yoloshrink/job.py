"""What every workflow script does first: the offline environment, and its output to the log.

``workflow/scripts/*.py`` start with ``from yoloshrink.job import start; start(snakemake)``,
then unpack ``snakemake.input/output/params/wildcards/threads`` and call one function of the
package. :func:`start` imports nothing heavy, so a script can still set thread variables
(:func:`yoloshrink.bench.timing.limit_thread_env`) before numpy or a runtime is loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from yoloshrink import offline


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


def start(snakemake: Any) -> None:
    """Keep ultralytics, OpenVINO and ONNX Runtime offline in this job, and send its output (and
    its subprocesses') to the rule's log file (``log:``, the first one)."""
    offline.apply()
    if snakemake.log:
        redirect_output(snakemake.log[0])
