"""One GPU per training job on a workstation: a lock-file allocator.

Snakemake's ``--resources gpu=N`` bounds how many jobs holding ``gpu=1`` run at once, but it
does not say *which* GPU a job gets. :func:`assign_gpu` gives a job a free index in
``0..n_gpus-1`` by taking an exclusive ``fcntl`` lock on ``<lock_dir>/gpu<i>.lock``; the lock is
held by an open file descriptor kept for the life of the process, so the OS frees it when the
job ends, even if it is killed (no stale lock files to clean up). Two processes never hold the
same index at once.

On SLURM (``SLURM_JOB_ID`` set) the scheduler has already confined the job to its GPUs through
``CUDA_VISIBLE_DEVICES``; :func:`training_device` then returns the job's first visible GPU, 0.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

__all__ = ["NoFreeGPU", "assign_gpu", "release_gpu", "training_device"]

# index -> open lock file, per process; kept so that the lock lives as long as the process
_HELD: dict[int, int] = {}


class NoFreeGPU(RuntimeError):
    """Every GPU index is locked by another process (more jobs than ``--resources gpu``)."""


def assign_gpu(n_gpus: int, lock_dir: Path, timeout_s: float = 0.0, poll_s: float = 0.2) -> int:
    """Lock and return a GPU index in ``range(n_gpus)`` no other live process holds.

    The lock is released when the process exits or by :func:`release_gpu`. Calling it again in
    the same process returns the index already held. With ``timeout_s`` > 0, waits that long
    for a GPU to free up before raising :class:`NoFreeGPU`.
    """
    if n_gpus < 1:
        raise ValueError(f"n_gpus must be >= 1, got {n_gpus}")
    if _HELD:
        return next(iter(_HELD))
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        for index in range(n_gpus):
            fd = os.open(lock_dir / f"gpu{index}.lock", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            _HELD[index] = fd
            return index
        if time.monotonic() >= deadline:
            raise NoFreeGPU(
                f"all {n_gpus} GPU(s) in {lock_dir} are in use; run with --resources gpu=N "
                f"where N is at most the number of GPUs ({n_gpus})"
            )
        time.sleep(poll_s)


def release_gpu() -> None:
    """Release the GPU this process holds, if any."""
    while _HELD:
        _, fd = _HELD.popitem()
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def training_device(
    configured: str | int, lock_dir: Path, n_gpus: int | None = None, timeout_s: float = 7 * 24 * 3600
) -> str:
    """The ultralytics ``device`` for one training job.

    ``cpu``/``mps`` and explicit lists (``"0,1"``) are returned unchanged. A single GPU request
    (``0``, ``"0"``, ``"cuda"``) becomes: ``"0"`` under SLURM (the job sees only its own GPUs),
    else ``str(assign_gpu(n_gpus, lock_dir, timeout_s))`` where ``n_gpus`` defaults to the number
    of visible CUDA devices: with more trainings than GPUs, the extra one waits for a free GPU.
    """
    text = str(configured).strip().lower()
    if text in {"cpu", "mps"} or "," in text:
        return str(configured)
    if os.environ.get("SLURM_JOB_ID"):
        return "0"
    if n_gpus is None:
        import torch

        n_gpus = torch.cuda.device_count()
    if n_gpus < 1:
        return str(configured)  # let ultralytics report that there is no GPU
    return str(assign_gpu(n_gpus, lock_dir, timeout_s=timeout_s))
