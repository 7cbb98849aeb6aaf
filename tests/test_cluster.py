"""yoloshrink.cluster: the SLURM pre-flight check, on recorded sinfo output."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

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


def _workflow(executor: str, jobs: list[tuple[str, dict]]):
    dag_jobs = [SimpleNamespace(rule=SimpleNamespace(name=r), resources=res) for r, res in jobs]
    return SimpleNamespace(
        executor_plugin=SimpleNamespace(name=executor),
        dag=SimpleNamespace(needrun_jobs=lambda: dag_jobs),
    )


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
    cluster.check_workflow(SimpleNamespace(executor_plugin=None), partitions=parts)


def test_sinfo_missing_or_failing(monkeypatch):
    monkeypatch.setattr(cluster.shutil, "which", lambda _: None)
    with pytest.raises(cluster.ClusterConfigError, match="sinfo"):
        cluster.query_sinfo()
