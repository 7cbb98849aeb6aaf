"""yoloshrink.gpu: concurrent jobs never share a GPU index."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import time
from pathlib import Path

import pytest

from yoloshrink import gpu

_HOLD = """
import time
from pathlib import Path
from yoloshrink.gpu import assign_gpu
i = assign_gpu({n}, Path({lock!r}), timeout_s={timeout})
print(i, flush=True)
time.sleep({hold})
"""


def _holder(lock_dir: Path, n: int, hold: float, timeout: float = 0.0) -> subprocess.Popen[str]:
    code = _HOLD.format(n=n, lock=str(lock_dir), hold=hold, timeout=timeout)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _grab(args):
    lock_dir, n, barrier, hold = args
    barrier.wait()
    index = gpu.assign_gpu(n, Path(lock_dir), timeout_s=30, poll_s=0.02)
    start = time.monotonic()
    time.sleep(hold)
    end = time.monotonic()
    gpu.release_gpu()  # a job's process exits here; pool workers live on, so release explicitly
    return index, start, end


def test_two_concurrent_processes_get_different_gpus(tmp_path):
    a = _holder(tmp_path, 2, hold=1.5)
    b = _holder(tmp_path, 2, hold=1.5)
    ia, ib = int(a.stdout.readline()), int(b.stdout.readline())
    assert {ia, ib} == {0, 1}
    a.wait(timeout=30)
    b.wait(timeout=30)


def test_a_third_process_waits_or_fails_while_both_gpus_are_held(tmp_path):
    a, b = _holder(tmp_path, 2, hold=2), _holder(tmp_path, 2, hold=2)
    held = {int(a.stdout.readline()), int(b.stdout.readline())}
    assert held == {0, 1}
    c = _holder(tmp_path, 2, hold=0, timeout=0)
    _, err = c.communicate(timeout=30)
    assert c.returncode != 0 and "NoFreeGPU" in err and "--resources gpu" in err
    a.wait(timeout=30)
    b.wait(timeout=30)
    # both freed by process exit (no cleanup ran): a new process gets one
    d = _holder(tmp_path, 2, hold=0)
    assert int(d.stdout.readline()) in {0, 1}
    d.wait(timeout=30)


def test_many_racing_processes_never_overlap_on_one_index(tmp_path):
    """8 processes start together on 2 GPUs; intervals holding the same index never overlap."""
    n_proc, n_gpus = 8, 2
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n_proc)
        with ctx.Pool(n_proc) as pool:
            results = pool.map(_grab, [(str(tmp_path), n_gpus, barrier, 0.3)] * n_proc)
    # pairwise: the same index => disjoint holding intervals; and both GPUs were used
    for i, (gi, si, ei) in enumerate(results):
        assert 0 <= gi < n_gpus
        for gj, sj, ej in results[i + 1 :]:
            if gi == gj:
                assert ei <= sj or ej <= si, results
    assert {g for g, _, _ in results} == set(range(n_gpus))


def test_same_process_keeps_its_index_and_release_frees_it(tmp_path):
    try:
        first = gpu.assign_gpu(2, tmp_path)
        assert gpu.assign_gpu(2, tmp_path) == first
        gpu.release_gpu()
        assert gpu.assign_gpu(1, tmp_path) == 0
    finally:
        gpu.release_gpu()


def test_bad_count_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="n_gpus"):
        gpu.assign_gpu(0, tmp_path)


def test_training_device(tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert gpu.training_device("cpu", tmp_path) == "cpu"
    assert gpu.training_device("0,1", tmp_path) == "0,1"
    assert gpu.training_device(0, tmp_path, n_gpus=0) == "0"
    try:
        assert gpu.training_device(0, tmp_path, n_gpus=2) in {"0", "1"}
    finally:
        gpu.release_gpu()
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert gpu.training_device("0", tmp_path, n_gpus=4) == "0"
