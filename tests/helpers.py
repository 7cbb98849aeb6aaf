"""Helpers shared by the tests that run the real Snakefile: a private copy of the workflow to
run in, a snakemake subprocess, the job counts of a dry run, and edited copies of the tiny config.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def make_workdir(path: Path) -> Path:
    """A copy of the workflow (Snakefile, rules, scripts, configs) to run in isolation; the
    yoloshrink package comes from the installation (make installs it, editable)."""
    path.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "profiles", "config", "envs", ".test"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, path / name, dirs_exist_ok=True)
        else:
            shutil.copy2(src, path / name)
    return path


def snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    prefix: list[str] | None = None,
    cores: int = 2,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run snakemake in ``workdir``; return the completed process (output captured)."""
    proc = subprocess.run(
        [*(prefix or []), str(SNAKEMAKE), "--cores", str(cores), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        # ultralytics turns TensorBoard logging off when it sees pytest: the workflow must not
        env={**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, **(env or {})},
        timeout=1500,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def job_counts(output: str) -> dict[str, int]:
    """Rule -> job count from a dry run's "Job stats" table (empty when nothing is to be done)."""
    counts: dict[str, int] = {}
    if "Job stats" not in output:
        return counts
    block = output.split("Job stats", 1)[1]
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)\s*$", line)
        if not m:
            if counts:
                break
            continue
        if m.group(1) != "total":
            counts[m.group(1)] = int(m.group(2))
    return counts


def write_config(workdir: Path, name: str, edit: Callable[[dict], None]) -> str:
    """A copy of the tiny config with ``edit`` applied; returns its path relative to workdir."""
    cfg = yaml.safe_load((workdir / ".test/config.yaml").read_text())
    edit(cfg)
    out = workdir / ".test" / name
    out.write_text(yaml.safe_dump(cfg))
    return str(out.relative_to(workdir))


def recorded_jobs(workdir: Path) -> list[dict]:
    """Every job Snakemake recorded in ``workdir/.snakemake/metadata``: rule, start and end time,
    and its outputs (the record's file name is the output's path, base64-encoded).

    Snakemake keeps one record per output file; its ``starttime`` is when the job started (the
    job's incomplete marker was written) and ``endtime`` when the output was last written. The
    records of one job (same rule and start) are merged into one, ending at its last output.
    """
    import base64
    import json

    jobs: dict[tuple[str, float], dict] = {}
    for path in (workdir / ".snakemake" / "metadata").rglob("*"):
        if not path.is_file():
            continue
        rec = json.loads(path.read_text())
        if rec.get("starttime") is None or rec.get("endtime") is None:
            continue
        key = (rec["rule"], rec["starttime"])
        job = jobs.setdefault(key, {"rule": rec["rule"], "start": rec["starttime"], "end": rec["endtime"]})
        job["end"] = max(job["end"], rec["endtime"])
        job.setdefault("outputs", []).append(base64.urlsafe_b64decode(path.name + "==").decode())
    return sorted(jobs.values(), key=lambda j: j["start"])
