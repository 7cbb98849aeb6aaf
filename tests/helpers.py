"""Helpers shared by the tests that run the real Snakefile: a private copy of the workflow to
run in, a snakemake subprocess, the job counts and outputs of a dry run, edited copies of the
tiny config, a run built once per pytest session (whichever pytest-xdist worker asks first) and
copies of a finished run to change.
"""

from __future__ import annotations

import fcntl
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

# What the tiny config (.test/config.yaml) makes: exported formats, benchmark targets, variants
# and trainings
FORMATS = ["pytorch", "torchscript", "onnx", "openvino", "ncnn", "onnx-int8", "openvino-int8"]
TARGETS = [
    "pytorch",
    "torchscript",
    "onnx",
    "openvino",
    "openvino-f32",
    "openvino-bf16",
    "ncnn",
    "onnx-int8",
    "openvino-int8",
]
VARIANTS = ["w0.25", "w0.125"]


def timed_targets() -> list[str]:
    """The TARGETS with a row of their own on this machine: a target that runs the precision
    another asks for is timed as that one (``runners.timed_as``: ``openvino`` here)."""
    from yoloshrink.bench.runners import timed_as

    return [t for t in TARGETS if timed_as(t) == t]


RUNS = ["w0.25", "w0.25-seed1", "w0.125", "w0.125-seed1"]  # .test/config.yaml: seeds [0, 1]


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


def workflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a workflow run, plus ``extra``, less pytest's own marker:
    ultralytics turns TensorBoard logging off when it sees PYTEST_CURRENT_TEST, and a job (on
    SLURM too: sbatch passes the environment on) must log as a user's would."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, **(extra or {})}


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
        env=workflow_env(env),
        timeout=1500,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def no_network_prefix() -> list[str]:
    """``unshare --net`` (a network namespace with no interface up) where this user may use it."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return []
    ok = subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0
    return ["unshare", "--net"] if ok else []


def session_dir(tmp_path_factory) -> Path:
    """The temporary folder of this pytest session that every pytest-xdist worker sees (each
    worker's own base folder lies in it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """``session_dir/name``, built by ``build(folder)`` once per pytest session: the first worker
    to ask builds it while the others wait on a file lock, then all of them get the same folder.
    A build that failed fails every later request at once, with its error, instead of building
    again."""
    root = session_dir(tmp_path_factory)
    folder, done, failed = root / name, root / f"{name}.done", root / f"{name}.failed"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if failed.exists():
            raise AssertionError(f"building the shared {name} failed in another test:\n{failed.read_text()}")
        if not done.exists():
            try:
                build(folder)
            except BaseException as exc:
                failed.write_text(f"{type(exc).__name__}: {str(exc)[-6000:]}")
                raise
            done.touch()
    return folder


def copy_run(run: Path, dest: Path) -> Path:
    """A copy of a finished run to change: modification times (and so what Snakemake finds
    stale) and Snakemake's metadata kept, so only what a test changes reruns."""
    shutil.copytree(run, dest, symlinks=True)
    return dest


def dry_run_outputs(output: str) -> list[str]:
    """Every output path a dry run's job list names (its ``output:`` lines), in order."""
    paths: list[str] = []
    for line in output.splitlines():
        m = re.match(r"^\s+output: (.+)$", line)
        if m:
            paths += [p.strip() for p in m.group(1).split(",")]
    return paths


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


def job_record(workdir: Path, output: str) -> dict:
    """Snakemake's metadata record of ``output`` (a path relative to ``workdir``): the rule, its
    inputs, start and end time of the job that wrote it."""
    import base64
    import json

    for path in (workdir / ".snakemake" / "metadata").rglob("*"):
        if path.is_file() and base64.urlsafe_b64decode(path.name + "==").decode() == output:
            return json.loads(path.read_text())
    raise AssertionError(f"Snakemake recorded no job that wrote {output} in {workdir}")


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


def calibration_tensors(detector: dict) -> list:
    """The conftest detector's validation images as the quantizers' calibration inputs (NCHW
    float32 arrays, as the benchmark's runners preprocess them)."""
    import cv2

    from yoloshrink.bench import runners

    return [runners.preprocess(cv2.imread(str(p)), detector["imgsz"]) for p in detector["images"]]
