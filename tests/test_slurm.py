"""The SLURM profile on a real (single-node, throw-away) SLURM: same results as a local run.

A module fixture writes /etc/slurm/slurm.conf from tests/slurm/slurm.conf.in (one node `debug`
partition, a small GPU node: 2 declared CPUs, 21694 MB, one fake GPU on /dev/fakegpu0, node
feature `bench_cpu`), starts munged, slurmctld and slurmd (tests/slurm/cluster.sh), and stops
them afterwards, also on failure. SLURM must be installed (`tests/slurm/cluster.sh install`,
Debian's slurmctld/slurmd/slurm-client/munge, as .ci/run does) and the user root: the tests skip
otherwise, saying so, and where a SLURM is already configured on the machine (it is never
touched). CI sets YOLOSHRINK_REQUIRE_SLURM=1, which makes such a skip a failure (conftest.py).

Then some targets (both model summaries, the training of w0.125, its ONNX export and latency)
run through profiles/slurm, unchanged except for values given through its environment variables
(the partitions, and the training's memory and CPUs per GPU for the small node), and are
compared with the same jobs of the session's tiny run (conftest.py's ``tiny_run``, the local
executor). Further tests: the pre-flight check naming the profile's own training request on
that node (before any job, and in a dry run), and a training cancelled mid-run that the same
invocation resubmits and resumes.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import copy_run, dry_run_outputs, job_counts, make_workdir, snakemake, workflow_env, write_config

from yoloshrink import cluster, layout, sinfo

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
CLUSTER_SH = REPO / "tests/slurm/cluster.sh"

# Every kind of job the profile places differently: CPU partition (dataset, model, export), GPU
# (train), one node type + exclusive (latency; machine_peak and crosscheck get the same
# settings but would add a serialised exclusive job to the test's time).
TARGETS = [
    "results/models/w0.25/summary.json",
    "results/models/w0.125/summary.json",
    "results/train/w0.125/train_info.json",
    "results/benchmark/w0.125/onnx/latency_t1.json",
]
RULES = {"builtin_dataset", "prepare_dataset", "model_yaml", "train", "export", "latency"}
# results.csv columns compared between the runs: at 64 px and one epoch no box is matched, so
# the box and DFL losses and every mAP are 0 in both runs and would compare nothing; the class
# losses and learning rates are non-zero and move with every weight (CPU training with seed 0
# is bit-reproducible at this size: measured, twice)
TRAIN_COLUMNS = ["epoch", "train/cls_loss", "val/cls_loss", "lr/pg0", "lr/pg1", "lr/pg2"]
PARTITIONS = {
    "YOLOSHRINK_SLURM_CPU_PARTITION": "debug",
    "YOLOSHRINK_SLURM_GPU_PARTITION": "debug",
    # YOLOSHRINK_SLURM_BENCH_CONSTRAINT keeps its default `bench_cpu`: the test node has it
}
# The test node is a small GPU node (2 CPUs, 21694 MB, like the one of issue 18): the site's
# environment variables alone fit the profile's training to it, the rest of the profile unchanged
SMALL_NODE = {"YOLOSHRINK_SLURM_TRAIN_MEM_MB": "8000", "YOLOSHRINK_SLURM_CPUS_PER_GPU": "2"}
SLURM_ENV = {**PARTITIONS, **SMALL_NODE}
SLURM_ARGS = [
    "--profile",
    "profiles/slurm",
    "--slurm-status-command",
    "squeue",  # no slurmdbd here, so no sacct
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--jobs",
    "2",  # 2 real cores
    "--latency-wait",
    "5",
]

pytestmark = [pytest.mark.e2e, pytest.mark.slurm]


def _sh(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLUSTER_SH), *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


#: SLURM's daemons and client commands the tests start and call (Debian's slurmctld, slurmd,
#: slurm-client and munge packages)
SLURM_COMMANDS = ("slurmctld", "slurmd", "munged", "sinfo", "squeue", "sbatch", "scancel", "scontrol")
GET_SLURM = (
    "install it as root with `tests/slurm/cluster.sh install` (Debian's slurmctld slurmd slurm-client munge),"
    " as .ci/run does"
)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running single-node SLURM for this module; every daemon it started is stopped after.
    Skips, saying how to get one, where SLURM is not installed or this user is not root (CI
    installs it and turns such a skip into a failure: conftest.py, YOLOSHRINK_REQUIRE_SLURM)."""
    missing = [c for c in SLURM_COMMANDS if shutil.which(c) is None]
    if missing:
        pytest.skip(f"SLURM is not installed here ({', '.join(missing)} not on PATH): {GET_SLURM}")
    if os.geteuid() != 0:
        pytest.skip("needs root: starts slurmctld, slurmd and munged and writes /etc/slurm")
    configured = Path("/etc/slurm/slurm.conf").exists()
    if configured and subprocess.run(["sinfo"], capture_output=True, timeout=30).returncode == 0:
        pytest.skip("a SLURM is already configured and running on this machine; not touching it")
    t0 = time.monotonic()
    env = {"YOLOSHRINK_SLURM_STATE": str(tmp_path_factory.mktemp("slurm-state"))}
    try:
        proc = _sh("start", env=env, timeout=120)
        assert proc.returncode == 0, f"SLURM did not start:\n{proc.stdout}\n{proc.stderr}"
        print(f"SLURM up in {time.monotonic() - t0:.0f} s")
        yield env
    finally:
        stop = _sh("stop", env=env, timeout=120)
        assert stop.returncode == 0, stop.stderr


def _run(workdir: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    log = open(workdir / "snakemake.out", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [
            str(SNAKEMAKE),
            *TARGETS,
            *args,
            "--configfile",
            ".test/config.yaml",
        ],  # targets first: --configfile takes several
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=workflow_env(env),
    )


def _jobs() -> list[dict[str, str]]:
    """Every job slurmctld remembers (MinJobAge=600), as scontrol's key=value fields."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in out.splitlines() if line.strip()]


def _normalised(path: Path) -> str:
    """``path`` with the time/host/pid-stamped TensorBoard event name normalised."""
    return re.sub(r"events\.out\.tfevents\..*", "events.out.tfevents.*", str(path))


def _files(root: Path) -> set[str]:
    """Every file under results/, normalised."""
    return {_normalised(p.relative_to(root)) for p in (root / "results").rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def runs(slurm, tmp_path_factory, request) -> SimpleNamespace:
    """TARGETS run through SLURM (``slurm``: its workdir) and the session's tiny run (``local``:
    conftest.py's ``tiny_run``, the same config with the local executor), with the local
    executor's plan for TARGETS (``counts``: jobs per rule; ``outputs``: the jobs' outputs) and
    the SLURM run's ``seconds``. The tiny run is asked for only once the SLURM run is done, so
    that the SLURM run goes on while another worker builds it."""
    on_slurm = make_workdir(tmp_path_factory.mktemp("slurm-e2e") / "slurm")
    plan = snakemake(on_slurm, *TARGETS, "--configfile", ".test/config.yaml", "--dry-run").stdout
    t0 = time.monotonic()
    proc = _run(on_slurm, SLURM_ARGS, SLURM_ENV)
    try:
        rc = proc.wait(timeout=900)
        assert rc == 0, f"SLURM run failed:\n{(on_slurm / 'snakemake.out').read_text()[-6000:]}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)
    seconds = time.monotonic() - t0
    return SimpleNamespace(
        slurm=on_slurm,
        local=request.getfixturevalue("tiny_run"),
        seconds=seconds,
        counts=job_counts(plan),
        outputs=dry_run_outputs(plan),
    )


def _products(root: Path, outputs: list[str]) -> set[str]:
    """The files under results/ that the jobs of ``outputs`` made in ``root``: each output file,
    every file in an output folder, and a training's whole run folder (ultralytics' weights,
    results.csv, TensorBoard events, ...: complete when its train_info.json appears)."""
    made: set[Path] = set()
    for out in (root / o for o in outputs if o.startswith("results/")):
        if out.name == layout.TRAIN_INFO:
            out = out.parent  # the training's run folder
        made |= {p for p in out.rglob("*") if p.is_file()} if out.is_dir() else {out}
    return {_normalised(p.relative_to(root)) for p in made}


def test_every_job_ran_on_slurm_where_the_profile_puts_it(runs):
    print(f"the SLURM run took {runs.seconds:.0f} s")
    jobs = [j for j in _jobs() if j.get("WorkDir") == str(runs.slurm)]
    by_rule: dict[str, list[dict[str, str]]] = {}
    for job in jobs:
        rule = re.sub(r"_wildcards_.*", "", job["Comment"]).removeprefix("rule_")
        by_rule.setdefault(rule, []).append(job)
    # every job of the run went through SLURM: the same rules, as often, as the local executor plans
    assert set(by_rule) >= RULES, sorted(by_rule)
    assert {r: len(js) for r, js in by_rule.items()} == runs.counts, runs.counts
    assert len(by_rule["model_yaml"]) == 2
    for rule, rule_jobs in by_rule.items():
        for job in rule_jobs:
            assert job["JobState"] == "COMPLETED", (rule, job["JobState"])
            assert job["Partition"] == "debug", (rule, job["Partition"])
    (train,) = by_rule["train"]
    assert train.get("TresPerJob") == "gres:gpu:1", train  # profile: gpu: 1 -> --gpus=1
    assert train.get("CpusPerTres") == "gres:gpu:2", train  # YOLOSHRINK_SLURM_CPUS_PER_GPU
    assert train["MinMemoryNode"] == "8000M", train  # YOLOSHRINK_SLURM_TRAIN_MEM_MB
    (job,) = by_rule["latency"]
    assert job["Features"] == "bench_cpu", job  # constraint: one node type
    assert job["OverSubscribe"] == "NO", job  # slurm_extra: --exclusive
    for rule in ("builtin_dataset", "prepare_dataset", "model_yaml", "export"):
        assert all(j["Features"] == "(null)" and j["OverSubscribe"] != "NO" for j in by_rule[rule]), rule


def test_slurm_and_local_runs_produce_the_same_files(runs):
    files = _files(runs.slurm)
    assert files == _products(runs.slurm, runs.outputs)  # nothing beyond what its jobs make
    assert files == _products(runs.local, runs.outputs)  # what the same jobs made in the local run
    assert {*TARGETS, "results/train/w0.125/weights/best.pt", "results/train/w0.125/results.csv"} <= files


def test_same_model_summaries_and_training(runs):
    on_slurm, local = runs.slurm, runs.local
    for v in ("w0.25", "w0.125"):
        a, b = (json.loads((w / f"results/models/{v}/summary.json").read_text()) for w in (on_slurm, local))
        assert a == b and a["parameters"] > 0, v
    rows = []
    for w in (on_slurm, local):
        with open(w / "results/train/w0.125/results.csv") as f:
            rows.append([{k.strip(): v.strip() for k, v in r.items()} for r in csv.DictReader(f)])
    assert len(rows[0]) == len(rows[1]) == 1  # 1 epoch
    for col in TRAIN_COLUMNS:
        a, b = rows[0][0][col], rows[1][0][col]
        assert float(a) > 0, f"{col} is {a}: comparing it proves nothing"
        assert a == b, (col, a, b)
    infos = [json.loads((w / "results/train/w0.125/train_info.json").read_text()) for w in (on_slurm, local)]
    for key in ("optimizer_resolved", "lr0_resolved", "best_epoch", "torch_threads_at_start", "train_images"):
        assert key in infos[0] and key in infos[1], key
        assert infos[0][key] == infos[1][key], key
    assert infos[0]["lr0_resolved"] > 0 and infos[0]["train_images"] == 24
    lat = [json.loads((w / "results/benchmark/w0.125/onnx/latency_t1.json").read_text()) for w in (on_slurm, local)]
    assert set(lat[0]) == set(lat[1])  # timings differ; the record's shape does not


def test_cluster_check_reads_the_real_sinfo(slurm):
    parts = sinfo.query_sinfo()
    assert set(parts) == {"debug"} and parts["debug"].default and parts["debug"].has_gpus
    good = [cluster.JobRequest("train", "debug", 1), cluster.JobRequest("latency", "debug", 0, "bench_cpu")]
    assert cluster.check_requests(good, parts) == []
    # the profile's placeholders, unset: every problem is named before any job is submitted
    bad = [cluster.JobRequest("train", "gpu", 1), cluster.JobRequest("latency", "debug", 0, "icelake")]
    problems = cluster.check_requests(bad, parts)
    assert any("'gpu' does not exist" in p for p in problems) and any("'icelake'" in p for p in problems)


def test_unknown_partition_fails_at_once_naming_it(slurm, tmp_path):
    """The pre-flight check (onstart in common.smk) names the partition before any job is submitted."""
    work = make_workdir(tmp_path / "bad")
    t0 = time.monotonic()
    proc = subprocess.run(
        [str(SNAKEMAKE), "resources/datasets/builtin/data.yaml", *SLURM_ARGS, "--configfile", ".test/config.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env=workflow_env({**SLURM_ENV, "YOLOSHRINK_SLURM_CPU_PARTITION": "nope"}),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "partition 'nope' does not exist on this cluster" in out, out[-3000:]
    assert "no job was submitted" in out
    assert time.monotonic() - t0 < 120


def test_preflight_check_stops_a_bad_profile_before_any_submission(slurm, tmp_path):
    """The onstart check: a missing GPU partition is named and nothing reaches the queue."""
    work = make_workdir(tmp_path / "preflight")
    assert "cluster.check_workflow" in (work / "workflow/rules/common.smk").read_text()
    before = len(_jobs())
    proc = subprocess.run(
        [str(SNAKEMAKE), "results/train/w0.125/train_info.json", *SLURM_ARGS, "--configfile", ".test/config.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env=workflow_env({**SLURM_ENV, "YOLOSHRINK_SLURM_GPU_PARTITION": "gpux"}),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "ClusterConfigError" in out and "rule train: partition 'gpux' does not exist" in out, out[-3000:]
    assert "partitions: debug" in out
    assert len(_jobs()) == before, "a job was submitted"


def test_the_train_memory_beyond_the_node_is_named_before_any_job_and_in_a_dry_run(slurm, tmp_path):
    """Issue 18: the profile's default training memory (48000 MB) and CPUs per GPU (8) on the
    test node (2 CPUs, 21694 MB): the real run stops before any submission, naming both with the
    environment variable that changes each; `-n` prints the same as a report."""
    work = make_workdir(tmp_path / "mem")
    before = len(_jobs())
    env = workflow_env(PARTITIONS)  # the profile's own training request
    target = "results/train/w0.125/train_info.json"
    lines = [
        "rule train: asks for 48000 MB of memory but the largest node of partition 'debug' has 21694 MB; "
        "set YOLOSHRINK_SLURM_TRAIN_MEM_MB (MB)",
        "rule train: asks for 8 CPUs but the largest node of partition 'debug' has 2; "
        "set YOLOSHRINK_SLURM_CPUS_PER_GPU",
    ]
    for dry in (True, False):
        args = [str(SNAKEMAKE), target, *SLURM_ARGS, *(["-n"] if dry else []), "--configfile", ".test/config.yaml"]
        proc = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=300, env=env)
        out = proc.stdout + proc.stderr
        assert proc.returncode == (0 if dry else 1), out[-3000:]
        for line in lines:
            assert line in out, out[-3000:]
        assert ("SLURM pre-flight check (dry run)" in out) == dry
        assert not (work / "results/dataset").exists()
    assert len(_jobs()) == before, "a job was submitted"


EPOCHS = 4  # cancelled once the first has its checkpoint: the retry resumes at epoch 2 or later


def test_a_cancelled_training_is_resubmitted_and_resumes_in_the_same_invocation(runs, tmp_path):
    """Issue 18: scancel the running training (as a preemption or a time limit would end it):
    the same snakemake invocation resubmits it (preemptible-retries of the profile) and the new
    job resumes from the checkpoint of the cancelled one. In a copy of the SLURM run above, so
    that only the training (now of 4 epochs) runs."""
    work = tmp_path / "cancel"
    copy_run(runs.slurm, work)
    cfg = write_config(work, "long.yaml", lambda c: c["train"].update(epochs=EPOCHS))
    log = open(work / "snakemake.out", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [str(SNAKEMAKE), "results/train/w0.125/train_info.json", *SLURM_ARGS, "--configfile", cfg],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=workflow_env(SLURM_ENV),
    )
    last = work / "results/train/.partial/w0.125/weights/last.pt"
    try:
        deadline = time.monotonic() + 300
        while not last.exists():  # the first epoch's checkpoint
            assert proc.poll() is None, (work / "snakemake.out").read_text()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint after 300 s"
            time.sleep(0.2)
        (train,) = [j for j in _jobs() if j.get("WorkDir") == str(work) and "rule_train" in j["Comment"]]
        assert train["JobState"] == "RUNNING", train
        subprocess.run(["scancel", train["JobId"]], check=True)
        rc = proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)
        log.close()
    out = (work / "snakemake.out").read_text()
    assert rc == 0, out[-4000:]
    jobs = sorted(
        (j for j in _jobs() if j.get("WorkDir") == str(work) and "rule_train" in j["Comment"]),
        key=lambda j: int(j["JobId"]),
    )
    assert [j["JobState"] for j in jobs] == ["CANCELLED", "COMPLETED"], [(j["JobId"], j["JobState"]) for j in jobs]
    info = json.loads((work / "results/train/w0.125/train_info.json").read_text())
    assert info["status"] == "ok" and info["resumed_from_epoch"] >= 2, info
    rows = layout.read_results_csv(work / "results/train/w0.125/results.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))  # each epoch once: resumed
