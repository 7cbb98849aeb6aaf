"""The software and hardware a benchmark ran on, kept beside the CSV."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata as md
import json
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

from yoloshrink import targets

#: CPU flags that decide which kernels the runtimes can use.
CPU_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_bf16",
    "amx_int8",
)
#: The package's source folder: its git commit is the workflow's (an editable install).
SOURCE_ROOT = Path(__file__).resolve().parent.parent
CPUFREQ_MAX = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
#: Fields of the record that change between two runs on the same machine and software: when it
#: was written, the clock the kernel reported at that moment (``max_mhz`` is the part's), and
#: how a SLURM run placed its timing jobs (the machine is the same, run locally or on SLURM).
VOLATILE = ("date", "reported_mhz", "slurm_bench_constraint")
#: The distributions whose versions the record keeps: every runtime's (:data:`targets.RUNTIMES`)
#: and what exports and drives them.
PACKAGES = tuple(
    dict.fromkeys(
        [
            "torch",
            "torchvision",
            "ultralytics",
            "onnx",
            *(r.distribution for r in targets.RUNTIMES.values()),
            "numpy",
            "snakemake",
        ]
    )
)


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo"), cpufreq_max: Path = CPUFREQ_MAX) -> dict[str, Any]:
    """CPU model name, logical cores, the flags in :data:`CPU_FLAGS` that it has, and its clock:
    ``reported_mhz`` (``/proc/cpuinfo``, the first core) and ``max_mhz`` (cpufreq's maximum,
    None where the machine does not expose it, as in many VMs). The one reader of /proc/cpuinfo.
    """
    model, flags, mhz = platform.processor() or "unknown", set(), None
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("unknown", "", platform.machine()):
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
            elif key.strip() == "cpu MHz" and mhz is None:
                mhz = round(float(value), 1)
    try:
        max_mhz = round(int(cpufreq_max.read_text()) / 1000, 1)  # the file holds kHz
    except (OSError, ValueError):
        max_mhz = None
    return {
        "cpu_model": model,
        "logical_cores": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_flags": {f: f in flags for f in CPU_FLAGS},
        "reported_mhz": mhz,
        "max_mhz": max_mhz,
    }


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None when missing)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(root: Path = SOURCE_ROOT) -> str | None:
    """The workflow's git commit (with "-dirty" when the tree has changes), or None."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha + ("-dirty" if dirty else "")


def submitted_by_snakemake_slurm(pid: int | None = None) -> bool:
    """Whether this process runs in a job Snakemake's SLURM executor submitted: an ancestor runs
    ``snakemake ... --executor slurm-jobstep`` (the plugin's job step). A local run inside an
    interactive allocation (SLURM_JOB_ID set too) is not one."""
    pid = os.getppid() if pid is None else pid
    for _ in range(16):
        if pid <= 1:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if b"slurm-jobstep" in cmdline:
            return True
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's pid
    return False


def slurm_timing_node(environ: dict[str, str] | None = None, submitted: bool | None = None) -> dict[str, Any]:
    """In a job of Snakemake's SLURM executor (the environment job runs where the timings ran, on
    the bench partition with their constraint), ``slurm_bench_constraint``: the node feature the
    profile's timing jobs asked for, None for a site without node features
    (YOLOSHRINK_SLURM_BENCH_CONSTRAINT=none: no guarantee that they ran on one node type).
    Nothing elsewhere."""
    environ = dict(os.environ) if environ is None else environ
    if not (submitted_by_snakemake_slurm() if submitted is None else submitted):
        return {}
    from yoloshrink.slurmsite import Site

    return {"slurm_bench_constraint": Site.from_environ(environ).bench_constraint}


def collect_environment() -> dict[str, Any]:
    """Everything :mod:`yoloshrink.environment` knows about this machine, now."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "os": platform.platform(),
        "python": platform.python_version(),
        **cpu_info(),
        "packages": package_versions(),
        "workflow_commit": git_commit(),
        **slurm_timing_node(),
    }


def write_environment(path: Path) -> dict[str, Any]:
    """Write :func:`collect_environment` to ``path`` (the environment rule)."""
    from yoloshrink.fsutil import atomic_write_json

    env = collect_environment()
    atomic_write_json(path, env)
    return env


def environment_id(record: dict[str, Any]) -> str:
    """Short hash of what identifies an environment: machine, CPU, software versions, workflow
    commit; not the :data:`VOLATILE` fields, so that two runs on the same machine and software
    share it."""
    stable = {k: v for k, v in record.items() if k not in VOLATILE}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:12]
