"""Send a job's output (Python's and its subprocesses') to the rule's log file."""

from __future__ import annotations

import os
import sys
from pathlib import Path


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
