"""yoloshrink.cluster: the SLURM pre-flight check, on recorded sinfo output."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import make_workdir, snakemake
from snakemake_interface_executor_plugins.workflow import WorkflowExecutorInterface

from yoloshrink import cluster
from yoloshrink.cluster import JobRequest

SINFO = """\
cpu*|(null)|icelake,avx512|up
cpu*|(null)|skylake|up
gpu|gpu:a100:4(S:0-1)|icelake|up
gpu|gpu:2,shard:8|rome|up
maint|(null)|(null)|down
"""


@pytest.fixture
def parts():
    return cluster.parse_sinfo(SINFO)


def test_parse_sinfo(parts):
    assert set(parts) == {"cpu", "gpu", "maint"}
    assert parts["cpu"].default and not parts["gpu"].default
    assert not parts["cpu"].has_gpus and parts["gpu"].has_gpus
    assert sorted(g.gpus for g in parts["gpu"].groups) == [2, 4]
    assert parts["cpu"].groups[0].features == {"icelake", "avx512"}
    assert not parts["maint"].groups[0].up


def test_a_good_request_passes(parts):
    reqs = [
        JobRequest("train", "gpu", 1),
        JobRequest("latency", "cpu", 0, "icelake"),
        JobRequest("report", None),
        JobRequest("export", "cpu,gpu"),
    ]
    assert cluster.check_requests(reqs, parts) == []


def test_missing_partition_is_named(parts):
    (msg,) = cluster.check_requests([JobRequest("train", "gpux", 1)], parts)
    assert "rule train" in msg and "'gpux' does not exist" in msg and "cpu, gpu, maint" in msg
    assert "YOLOSHRINK_SLURM" in msg


def test_gpu_where_there_is_none(parts):
    (msg,) = cluster.check_requests([JobRequest("train", "cpu", 1)], parts)
    assert "asks for 1 GPU(s)" in msg and "'cpu' has no GPU" in msg
    (msg,) = cluster.check_requests([JobRequest("train", "gpu", 8)], parts)
    assert "no node" in msg and "more than 4" in msg


def test_unknown_constraint_and_down_partition(parts):
    (msg,) = cluster.check_requests([JobRequest("latency", "cpu", 0, "bench_cpu")], parts)
    assert "'bench_cpu' matches no node" in msg and "avx512, icelake, skylake" in msg
    assert cluster.check_requests([JobRequest("latency", "cpu", 0, "skylake|rome")], parts) == []
    assert cluster.check_requests([JobRequest("latency", "cpu", 0, "icelake&avx512")], parts) == []
    assert cluster.check_requests([JobRequest("latency", "cpu", 0, "skylake&avx512")], parts)
    # the GPU nodes of `gpu` are icelake (a100) and rome: a GPU job constrained to skylake fails
    assert cluster.check_requests([JobRequest("train", "gpu", 1, "skylake")], parts)
    (msg,) = cluster.check_requests([JobRequest("x", "maint")], parts)
    assert "not up" in msg


def test_request_from_resources():
    assert cluster.request_from_resources("t", {"gpu": 1, "slurm_partition": "gpu"}) == JobRequest("t", "gpu", 1)
    assert cluster.request_from_resources("t", {"gres": "gpu:a100:2"}).gpus == 2
    assert cluster.request_from_resources("t", {"gres": "gpu"}).gpus == 1
    assert cluster.request_from_resources("t", {"gres": "shard:2"}).gpus == 0
    assert cluster.request_from_resources("l", {"constraint": "x"}) == JobRequest("l", None, 0, "x")


class FakeWorkflow(SimpleNamespace):
    """A stand-in for snakemake's Workflow, registered as implementing the executor interface."""


WorkflowExecutorInterface.register(FakeWorkflow)


def _workflow(executor: str | None, jobs: list[tuple[str, dict]] = ()):
    dag_jobs = [SimpleNamespace(rule=SimpleNamespace(name=r), resources=res) for r, res in jobs]
    plugin = None
    if executor is not None:
        local = executor in ("local", "dryrun")
        plugin = SimpleNamespace(name=executor, common_settings=SimpleNamespace(non_local_exec=not local))
    return FakeWorkflow(executor_plugin=plugin, dag=SimpleNamespace(needrun_jobs=lambda: dag_jobs), cores=6)


def test_check_workflow_raises_once_with_every_problem(parts):
    wf = _workflow("slurm", [("train", {"gpu": 1, "slurm_partition": "cpu"}), ("report", {"slurm_partition": "nope"})])
    with pytest.raises(cluster.ClusterConfigError) as err:
        cluster.check_workflow(wf, partitions=parts)
    text = str(err.value)
    assert "no job was submitted" in text and "rule train" in text and "rule report" in text


def test_check_workflow_ignores_other_executors(parts):
    bad = [("train", {"gpu": 1, "slurm_partition": "nope"})]
    for name in ("local", "slurm-jobstep", "dryrun"):
        cluster.check_workflow(_workflow(name, bad), partitions=parts)


def test_check_workflow_fails_loudly_when_the_executor_cannot_be_found(parts):
    bad = [("train", {"gpu": 1, "slurm_partition": "nope"})]
    # an object without Snakemake's executor interface (e.g. a renamed attribute): no silent pass
    plain = SimpleNamespace(executor_plugin=SimpleNamespace(name="slurm"), dag=None)
    with pytest.raises(cluster.ClusterConfigError, match="cannot tell which executor"):
        cluster.check_workflow(plain, partitions=parts)
    with pytest.raises(cluster.ClusterConfigError, match="without an executor plugin"):
        cluster.check_workflow(_workflow(None, bad), partitions=parts)


def test_timing_jobs_hold_every_local_core_and_the_largest_thread_count_on_a_cluster():
    assert cluster.timing_cores(_workflow("local"), cluster_threads=2) == 6  # workflow.cores
    assert cluster.timing_cores(_workflow("dryrun"), cluster_threads=2) == 6
    assert cluster.timing_cores(_workflow("slurm"), cluster_threads=2) == 2  # a whole node via --exclusive
    assert cluster.timing_cores(_workflow(None), cluster_threads=2) == 2  # no executor: no job runs


def test_sinfo_missing(monkeypatch):
    monkeypatch.setattr(cluster.shutil, "which", lambda _: None)
    with pytest.raises(cluster.ClusterConfigError, match="not on PATH"):
        cluster.query_sinfo()


def fake_command(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_sinfo_failing_or_unreadable(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    fake_command(tmp_path, "sinfo", "echo 'slurm_load_partitions: Unable to contact slurm controller' >&2\nexit 1\n")
    with pytest.raises(cluster.ClusterConfigError, match=r"`sinfo` failed \(1\): slurm_load_partitions: Unable"):
        cluster.query_sinfo()
    fake_command(tmp_path, "sinfo", "echo 'not the format asked for'\n")
    with pytest.raises(ValueError, match="unexpected sinfo line"):
        cluster.query_sinfo()


def test_check_runs_under_executor_slurm_before_any_submission(tmp_path):
    """The real Snakefile with --executor slurm (profiles/slurm), a fake sinfo and an sbatch that
    records its calls: the onstart check names the missing partition and nothing is submitted."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_command(bin_dir, "sinfo", "echo 'cpu*|(null)|bench_cpu|up'\necho 'gpu|gpu:1|(null)|up'\n")
    calls = tmp_path / "sbatch.calls"
    fake_command(bin_dir, "sbatch", f'echo "$*" >> {calls}\nexit 1\n')
    work = make_workdir(tmp_path / "wd")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "YOLOSHRINK_SLURM_CPU_PARTITION": "nope"}
    args = ["--profile", "profiles/slurm", "--slurm-no-account", "--configfile", ".test/config.yaml"]
    proc = snakemake(work, "resources/datasets/builtin/data.yaml", *args, check=False, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rule builtin_dataset: partition 'nope' does not exist on this cluster (partitions: cpu, gpu)" in out, out
    assert not calls.exists(), calls.read_text()


def test_the_slurm_profile_gives_every_timing_rule_a_whole_node_of_one_type():
    """A rule that times (threads: timing_threads) must run alone on its node on SLURM too."""
    import re

    import yaml

    repo = Path(__file__).resolve().parent.parent
    rules = "\n".join(p.read_text() for p in sorted((repo / "workflow/rules").glob("*.smk")))
    pattern = r"^rule (\w+):\n(?:    .*\n|\n)*?    threads: (?:timing_threads|quantize_threads)$"
    timing = set(re.findall(pattern, rules, re.M))
    assert {"latency", "speedup", "machine_peak", "ultralytics_crosscheck", "quantize"} <= timing, timing
    profile = yaml.safe_load((repo / "profiles/slurm/config.yaml").read_text())["set-resources"]
    for rule in timing:
        assert "--exclusive" in profile[rule]["slurm_extra"], rule
        # host_bench runs on the node type its host names (benchmark.hosts), every other on the bench node
        assert profile[rule].get("constraint") == (None if rule == "host_bench" else "?BENCH_NODE"), rule
