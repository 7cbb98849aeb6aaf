"""End-to-end: the deployment bundle of the session's tiny run (a copy of conftest.py's
``tiny_run``), timed from a fresh venv that holds only requirements-host.txt, and the host's
results back in the report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from helpers import TARGETS, VARIANTS, copy_run, job_counts, snakemake

pytestmark = pytest.mark.e2e


@pytest.fixture
def run(tiny_run) -> Path:
    return tiny_run


def test_the_bundle_timed_in_a_light_venv_without_torch_shows_in_the_report(run, tmp_path):
    """Issue 16: bundle the tiny run, time it from a fresh venv holding only
    requirements-host.txt (no torch, no ultralytics, no OpenCV), drop the host's folder back in:
    only the report reruns, and it shows both machines."""
    repo = Path(__file__).resolve().parent.parent
    work = copy_run(run, tmp_path / "copy")
    snakemake(work, "bundle", "--configfile", ".test/config.yaml")  # the target before --configfile
    tar = work / "results/bundle/yoloshrink-bundle.tar"
    with tarfile.open(tar) as bundle:
        manifest = json.loads(bundle.extractfile("manifest.json").read())
    assert len(manifest["models"]) == len(VARIANTS) * (len(TARGETS) - 1)  # every target but the checkpoint
    venv = tmp_path / "hostenv"
    # uv (in requirements.txt) makes the venv and installs from its cache: seconds, where
    # `python -m venv` and pip take 15 s; the same pinned packages either way, compiled as pip
    # does (the benchmark's sessions are processes that would each compile them otherwise)
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, venv], check=True)
    install = ["pip", "install", "-q", "--compile-bytecode", "--python", venv / "bin/python"]
    pip = subprocess.run(
        [uv, *install, "-r", repo / "requirements-host.txt"],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    for module in ("torch", "ultralytics", "cv2", "pandas"):
        probe = subprocess.run([venv / "bin/python", "-c", f"import {module}"], capture_output=True)
        assert probe.returncode != 0, f"{module} is installed in the light venv"
    host = subprocess.run(
        [venv / "bin/python", "-m", "yoloshrink.hostbench", tar, "--host", "lightbox", "--out", tmp_path / "hosts"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
        cwd=tmp_path,
    )
    # written, but the TorchScript rows failed (no torch here): exit status 1 says not every row ran
    assert host.returncode == 1, host.stderr[-3000:]
    assert f"{len(VARIANTS)} row(s) failed" in host.stderr
    assert f"[{len(manifest['models'])}/{len(manifest['models'])}]" in host.stdout
    rows = pd.read_csv(tmp_path / "hosts/lightbox/hostbench.csv")
    torch_rows = rows[rows["target"] == "torchscript"]
    assert (torch_rows["status"] == "failed").all() and (
        torch_rows["error"] == "torch is not installed on this host"
    ).all()
    others = rows[rows["target"] != "torchscript"]
    assert (others["status"] == "ok").all(), others[others["status"] != "ok"][["target", "error"]]
    assert (others["p50_ms"] > 0).all()
    shutil.copytree(tmp_path / "hosts/lightbox", work / "results/hosts/lightbox")
    counts = job_counts(snakemake(work, "--configfile", ".test/config.yaml", "--dry-run").stdout)
    assert set(counts) <= {"report", "all", "total"} and counts.get("report") == 1, counts
    snakemake(work, "--configfile", ".test/config.yaml")
    text = (work / "results/report/README.md").read_text()
    assert "## Timing on deployment machines" in text and "**lightbox**:" in text
    assert "| variant | target | threads | this machine | lightbox |" in text
    assert "lightbox, 5 ms per network call, 1 thread(s):" in text
    assert (work / "results/report/hosts.png").stat().st_size > 0
