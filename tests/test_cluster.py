"""yoloshrink.sinfo and yoloshrink.cluster: the SLURM pre-flight check, on recorded sinfo output;
yoloshrink.slurmsite: the profile's site settings."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import make_workdir, snakemake
from snakemake_interface_executor_plugins.workflow import WorkflowExecutorInterface

from yoloshrink import cluster, sinfo, slurmsite
from yoloshrink.cluster import JobRequest

REPO = Path(__file__).resolve().parent.parent
# sinfo -h -N -o '%P|%N|%c|%m|%G|%f|%a|%l|%t': a site with two CPU node types, two GPU node
# types (the second like the issue's: 32 CPUs, 21694 MB) and a partition that is down
SINFO = """\
cpu*|c1|32|190000|(null)|icelake,avx512|up|1-00:00:00|idle
cpu*|c2|16|64000|(null)|skylake|up|1-00:00:00|mix
gpu|g1|64|512000|gpu:a100:4(S:0-1)|icelake|up|2-00:00:00|idle
gpu|g2|32|21694|gpu:2,shard:8|rome|up|2-00:00:00|alloc
maint|m1|8|16000|(null)|(null)|down|infinite|down*
"""


@pytest.fixture
def parts():
    return sinfo.parse_sinfo(SINFO)


def test_parse_sinfo(parts):
    assert set(parts) == {"cpu", "gpu", "maint"}
    assert parts["cpu"].default and not parts["gpu"].default
    assert not parts["cpu"].has_gpus and parts["gpu"].has_gpus
    assert sorted(n.gpus for n in parts["gpu"].nodes) == [2, 4]
    g1, g2 = parts["gpu"].nodes
    assert (g1.cpus, g1.memory_mb, g1.gpu_types) == (64, 512000, {"a100"})
    assert (g2.cpus, g2.memory_mb, g2.gpu_types) == (32, 21694, frozenset())
    assert parts["cpu"].nodes[0].features == {"icelake", "avx512"}
    assert parts["cpu"].max_minutes == 1440 and parts["gpu"].max_minutes == 2880
    assert not parts["maint"].up and parts["maint"].max_minutes is None and not parts["maint"].nodes[0].usable


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("infinite", None),
        ("UNLIMITED", None),
        ("30", 30),
        ("30:00", 30),
        ("2:00:00", 120),
        ("1-00:00:00", 1440),
        ("1-12", 2160),
        ("1-12:30", 2190),
        ("0:30:30", 31),
    ],
)
def test_time_limits(text, minutes):
    assert sinfo.parse_time_limit(text) == minutes


def test_a_good_request_passes(parts):
    reqs = [
        JobRequest("train", "gpu", 1, cpus=8, mem_mb=48000, runtime=720),
        JobRequest("train", "gpu", 1, cpus=8, mem_mb=16000, gpu_model="a100"),
        JobRequest("latency", "cpu", 0, "icelake", cpus=2, mem_mb=8000, runtime=120),
        JobRequest("report", None),
        JobRequest("export", "cpu,gpu", cpus=2),
    ]
    assert cluster.check_requests(reqs, parts) == []


def test_missing_partition_is_named(parts):
    (msg,) = cluster.check_requests([JobRequest("train", "gpux", 1)], parts)
    assert "rule train" in msg and "'gpux' does not exist" in msg and "cpu, gpu, maint" in msg
    assert "YOLOSHRINK_SLURM_GPU_PARTITION" in msg
    (msg,) = cluster.check_requests([JobRequest("latency", "nope")], parts)
    assert "YOLOSHRINK_SLURM_BENCH_PARTITION" in msg


def test_gpu_where_there_is_none(parts):
    (msg,) = cluster.check_requests([JobRequest("train", "cpu", 1)], parts)
    assert "asks for 1 GPU(s)" in msg and "'cpu' has no GPU" in msg
    (msg,) = cluster.check_requests([JobRequest("train", "gpu", 8)], parts)
    assert "no node" in msg and "more than 4" in msg


def test_unknown_constraint_and_down_partition(parts):
    (msg,) = cluster.check_requests([JobRequest("latency", "cpu", 0, "bench_cpu")], parts)
    assert "'bench_cpu' matches no node" in msg and "avx512, icelake, skylake" in msg
    assert "YOLOSHRINK_SLURM_BENCH_CONSTRAINT" in msg
    assert cluster.check_requests([JobRequest("latency", "cpu", 0, "skylake|rome")], parts) == []
    assert cluster.check_requests([JobRequest("latency", "cpu", 0, "icelake&avx512")], parts) == []
    assert cluster.check_requests([JobRequest("latency", "cpu", 0, "skylake&avx512")], parts)
    # the GPU nodes of `gpu` are icelake (a100) and rome: a GPU job constrained to skylake fails
    assert cluster.check_requests([JobRequest("train", "gpu", 1, "skylake")], parts)
    (msg,) = cluster.check_requests([JobRequest("x", "maint")], parts)
    assert "not up" in msg


def test_memory_cpus_runtime_and_gpu_model_beyond_every_node_are_named_with_their_setting(parts):
    """Issue 18: the requests sbatch refuses only at submission ("Memory specification can not
    be satisfied"), or that would wait forever, are named before anything runs."""
    problems = cluster.check_requests(
        [JobRequest("train", "gpu", 1, cpus=128, mem_mb=600000, runtime=4320, gpu_model="h100")], parts
    )
    text = "\n".join(problems)
    assert len(problems) == 4, text  # each resource once, every one of them
    assert all(p.startswith("rule train: ") for p in problems)
    assert "asks for 600000 MB of memory but the largest node of partition 'gpu' has 512000 MB" in text
    assert "YOLOSHRINK_SLURM_TRAIN_MEM_MB" in text
    assert "asks for 128 CPUs but the largest node of partition 'gpu' has 64" in text
    assert "YOLOSHRINK_SLURM_CPUS_PER_GPU" in text
    assert "runtime 72 h exceeds the time limit of partition 'gpu', 48 h" in text
    assert "YOLOSHRINK_SLURM_TRAIN_RUNTIME" in text
    assert "GPU model 'h100' is on no node of partition 'gpu' (GPU types there: a100)" in text
    assert "YOLOSHRINK_SLURM_GPU_MODEL" in text
    # CPU rules name the caps and the config
    (mem,) = cluster.check_requests([JobRequest("report", None, mem_mb=200000)], parts)
    assert "largest node of partition 'cpu' has 190000 MB" in mem and "YOLOSHRINK_SLURM_MAX_MEM_MB" in mem
    (cpus,) = cluster.check_requests([JobRequest("latency", "cpu", 0, "icelake", cpus=48)], parts)
    assert "benchmark.threads" in cpus


def test_resources_that_exist_only_on_different_nodes_are_named_together(parts):
    # 100 GB exists (g1), rome exists (g2), not on one node
    (msg,) = cluster.check_requests([JobRequest("train", "gpu", 1, "rome", cpus=8, mem_mb=100000)], parts)
    assert "no single node of partition 'gpu' has all of 8 CPUs, 100000 MB, 1 GPU(s), features 'rome'" in msg


def test_request_from_resources_follows_the_plugins_sbatch_line():
    req = cluster.request_from_resources
    assert req("t", {"gpu": 1, "slurm_partition": "gpu"}) == JobRequest("t", "gpu", 1)
    assert req("t", {"gres": "gpu:a100:2"}).gpus == 2 and req("t", {"gres": "gpu:a100:2"}).gpu_model == "a100"
    assert req("t", {"gres": "gpu"}).gpus == 1
    assert req("t", {"gres": "shard:2"}).gpus == 0
    assert req("l", {"constraint": "x"}) == JobRequest("l", None, 0, "x")
    # CPUs: cpus_per_task, else cpus_per_gpu x GPUs on a GPU job, else the threads
    assert req("t", {"gpu": 2, "cpus_per_gpu": 8}, threads=4).cpus == 16
    assert req("t", {"gpu": 1, "cpus_per_gpu": 8, "cpus_per_task": 3}, threads=4).cpus == 3
    assert req("t", {"cpus_per_gpu": 8}, threads=4).cpus == 4  # no GPU: cpus_per_gpu is not used
    # memory per node: mem_mb, or mem_mb_per_cpu x CPUs; runtime in minutes
    assert req("t", {"mem_mb": 4000, "runtime": 30}, threads=2) == JobRequest("t", cpus=2, mem_mb=4000, runtime=30)
    assert req("t", {"mem_mb_per_cpu": 1000, "mem_mb": 4000}, threads=3).mem_mb == 3000
    assert req("t", {"gpu": 1, "gpu_model": "a100"}).gpu_model == "a100"


class FakeWorkflow(SimpleNamespace):
    """A stand-in for snakemake's Workflow, registered as implementing the executor interface."""


WorkflowExecutorInterface.register(FakeWorkflow)


def _workflow(executor: str | None, jobs: list[tuple[str, dict]] = (), slurm_profile: bool = False):
    dag_jobs = [
        SimpleNamespace(rule=SimpleNamespace(name=r, norun=r == "all"), resources=res, threads=1) for r, res in jobs
    ]
    plugin = None
    if executor is not None:
        local = executor in ("local", "dryrun")
        plugin = SimpleNamespace(
            name=executor, common_settings=SimpleNamespace(non_local_exec=not local, dryrun_exec=executor == "dryrun")
        )
    return FakeWorkflow(
        _localrules={"model_yaml"},
        executor_plugin=plugin,
        dag=SimpleNamespace(needrun_jobs=lambda exclude_finished=True: iter(dag_jobs)),
        cores=6,
        resource_settings=SimpleNamespace(default_resources={"slurm_partition": "cpu"} if slurm_profile else {}),
    )


def test_check_workflow_raises_once_with_every_problem(parts):
    jobs = [
        ("train", {"gpu": 1, "slurm_partition": "cpu"}),
        ("report", {"slurm_partition": "nope"}),
        ("all", {"slurm_partition": "nope"}),  # no command: never submitted
        ("model_yaml", {"slurm_partition": "nope"}),  # a local rule: run on the submit host
    ]
    with pytest.raises(cluster.ClusterConfigError) as err:
        cluster.check_workflow(_workflow("slurm", jobs), partitions=parts)
    text = str(err.value)
    assert "no job was submitted" in text and "rule train" in text and "rule report" in text
    assert "rule all" not in text and "rule model_yaml" not in text


def test_check_workflow_ignores_other_executors(parts):
    bad = [("train", {"gpu": 1, "slurm_partition": "nope"})]
    for name in ("local", "slurm-jobstep", "dryrun"):
        cluster.check_workflow(_workflow(name, bad), partitions=parts)


def test_a_dry_run_bound_for_slurm_reports_and_others_say_nothing(parts):
    bad = [("train", {"gpu": 1, "slurm_partition": "gpu", "mem_mb": 600000, "cpus_per_gpu": 8})]
    text = cluster.dry_run_report(_workflow("dryrun", bad), partitions=parts)
    assert text.startswith("SLURM pre-flight check (dry run): the real run would stop before any submission")
    assert "rule train: asks for 600000 MB of memory" in text
    good = [("train", {"gpu": 1, "slurm_partition": "gpu", "mem_mb": 16000}), ("report", {"slurm_partition": "cpu"})]
    text = cluster.dry_run_report(_workflow("dryrun", good), partitions=parts)
    assert "every request of 2 rule(s) (report, train) fits a node of its partition" in text
    assert cluster.dry_run_report(_workflow("dryrun", [("train", {"gpu": 1})]), partitions=parts) is None  # local
    assert cluster.dry_run_report(_workflow("local", bad), partitions=parts) is None
    assert cluster.dry_run_report(_workflow("slurm", bad), partitions=parts) is None  # onstart's job


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
    # a dry run of the SLURM profile shows (and checks) what the SLURM run will ask
    assert cluster.timing_cores(_workflow("dryrun", slurm_profile=True), cluster_threads=2) == 2


def test_sinfo_missing(monkeypatch):
    monkeypatch.setattr(sinfo.shutil, "which", lambda _: None)
    with pytest.raises(cluster.ClusterConfigError, match="not on PATH"):
        sinfo.query_sinfo()


def fake_command(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_sinfo_failing_or_unreadable(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    fake_command(tmp_path, "sinfo", "echo 'slurm_load_partitions: Unable to contact slurm controller' >&2\nexit 1\n")
    with pytest.raises(cluster.ClusterConfigError, match=r"`sinfo` failed \(1\): slurm_load_partitions: Unable"):
        sinfo.query_sinfo()
    fake_command(tmp_path, "sinfo", "echo 'not the format asked for'\n")
    with pytest.raises(ValueError, match="unexpected sinfo line"):
        sinfo.query_sinfo()


# the node: 2 CPUs, 21694 MB, one GPU, no features (a bench partition with the feature)
FAKE_SINFO = (
    "echo 'cpu*|n1|2|21694|(null)|bench_cpu|up|infinite|idle'\necho 'gpu|n1|2|21694|gpu:1|(null)|up|infinite|idle'\n"
)


def _fake_cluster(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A folder of SLURM's client commands, first on PATH, for a cluster with no job: every
    command the executor plugin looks for (it refuses to load without `squeue` or `sacct`, and
    asks `scontrol` for MinJobAge), whatever the machine has installed. `sbatch` records its
    calls and fails, so that a test sees any submission."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_command(bin_dir, "sinfo", FAKE_SINFO)
    fake_command(bin_dir, "squeue", "exit 0\n")  # no job queued
    fake_command(bin_dir, "sacct", "exit 0\n")  # no job recorded
    fake_command(bin_dir, "scontrol", "echo 'MinJobAge               = 300 sec'\n")
    fake_command(bin_dir, "scancel", "exit 0\n")
    calls = tmp_path / "sbatch.calls"
    fake_command(bin_dir, "sbatch", f'echo "$*" >> {calls}\nexit 1\n')
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}, calls


SLURM_ARGS = ["--profile", "profiles/slurm", "--slurm-no-account", "--configfile", ".test/config.yaml"]


def test_check_runs_under_executor_slurm_before_any_submission(tmp_path):
    """The real Snakefile with --executor slurm (profiles/slurm), a fake sinfo and an sbatch that
    records its calls: the onstart check names the missing partition and nothing is submitted."""
    env, calls = _fake_cluster(tmp_path)
    work = make_workdir(tmp_path / "wd")
    env["YOLOSHRINK_SLURM_CPU_PARTITION"] = "nope"
    proc = snakemake(work, "resources/datasets/builtin/data.yaml", *SLURM_ARGS, check=False, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rule builtin_dataset: partition 'nope' does not exist on this cluster (partitions: cpu, gpu)" in out, out
    assert not calls.exists(), calls.read_text()


def test_a_dry_run_names_what_the_nodes_cannot_meet_and_env_vars_alone_fix_it(tmp_path):
    """Issue 18: `snakemake -n` with the SLURM profile ends with the pre-flight report (the train
    job's 48 GB and 8 CPUs per GPU on a 2-CPU, 21694 MB node); the site's environment variables
    alone make every request fit."""
    env, calls = _fake_cluster(tmp_path)
    work = make_workdir(tmp_path / "wd")
    target = "results/train/w0.125/train_info.json"
    proc = snakemake(work, target, *SLURM_ARGS, "--dry-run", env=env)
    out = proc.stdout + proc.stderr
    assert "SLURM pre-flight check (dry run): the real run would stop before any submission" in out, out[-3000:]
    assert "rule train: asks for 48000 MB of memory but the largest node of partition 'gpu' has 21694 MB" in out
    assert "rule train: asks for 8 CPUs but the largest node of partition 'gpu' has 2" in out
    assert "YOLOSHRINK_SLURM_TRAIN_MEM_MB" in out and "YOLOSHRINK_SLURM_CPUS_PER_GPU" in out
    assert "rule builtin_dataset" not in out.split("SLURM pre-flight check")[1]  # what fits is not named
    env.update(YOLOSHRINK_SLURM_TRAIN_MEM_MB="8000", YOLOSHRINK_SLURM_CPUS_PER_GPU="2")
    out = snakemake(work, target, *SLURM_ARGS, "--dry-run", env=env).stderr
    assert "SLURM pre-flight check (dry run): every request of" in out and "fits a node" in out, out[-3000:]
    # a local dry run says nothing of SLURM
    assert "SLURM pre-flight" not in snakemake(work, target, "--dry-run", "--configfile", ".test/config.yaml").stderr
    assert not calls.exists()


def test_the_slurm_profile_gives_every_timing_rule_a_whole_node_of_one_type(monkeypatch):
    """A rule that times (threads: timing_threads) must run alone on its node on SLURM too."""
    rules = "\n".join(p.read_text() for p in sorted((REPO / "workflow/rules").glob("*.smk")))
    pattern = r"^rule (\w+):\n(?:    .*\n|\n)*?    threads: (?:timing_threads|quantize_threads)$"
    timing = set(re.findall(pattern, rules, re.M))
    assert {"latency", "speedup", "machine_peak", "ultralytics_crosscheck", "quantize"} <= timing, timing
    profile = _profile({"YOLOSHRINK_SLURM_BENCH_PARTITION": "bench"}, monkeypatch)["set-resources"]
    for rule in timing:
        assert "--exclusive" in profile[rule]["slurm_extra"], rule
        # host_bench runs on the node type its host names (benchmark.hosts), every other on the bench node
        assert profile[rule].get("constraint") == (None if rule == "host_bench" else "bench_cpu"), rule
    bench = {r for r, res in profile.items() if res.get("slurm_partition") == "bench"}
    assert bench == slurmsite.BENCH_RULES and timing <= bench


def _profile(env: dict[str, str], monkeypatch) -> dict:
    """profiles/slurm/config.yaml as Snakemake reads it (YTE), under ``env``."""
    import yte

    for knob in slurmsite.KNOBS:
        monkeypatch.delenv(knob.env, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with open(REPO / "profiles/slurm/config.yaml") as f:
        return yte.process_yaml(f)


def test_each_site_setting_changes_its_value_and_keeps_the_rest_of_the_profile(monkeypatch):
    base = _profile({}, monkeypatch)
    train = base["set-resources"]["train"]
    assert train == {"slurm_partition": "gpu", "gpu": 1, "cpus_per_gpu": 8, "mem_mb": 48000, "runtime": 720}
    assert base["preemptible-rules"] == ["train"] and base["preemptible-retries"] == 3
    env = {
        "YOLOSHRINK_SLURM_TRAIN_MEM_MB": "16000",
        "YOLOSHRINK_SLURM_TRAIN_RUNTIME": "90",
        "YOLOSHRINK_SLURM_CPUS_PER_GPU": "2",
        "YOLOSHRINK_SLURM_GPU_MODEL": "a100",
        "YOLOSHRINK_SLURM_TRAIN_RETRIES": "1",
    }
    site = _profile(env, monkeypatch)
    assert site["set-resources"]["train"] == {
        **train,
        "mem_mb": 16000,
        "runtime": 90,
        "cpus_per_gpu": 2,
        "gpu_model": "a100",
    }
    assert site["preemptible-retries"] == 1
    for rule, res in base["set-resources"].items():  # nothing else moved
        if rule != "train":
            assert site["set-resources"][rule] == res, rule
    gres = _profile({"YOLOSHRINK_SLURM_GPU_REQUEST": "gres", "YOLOSHRINK_SLURM_GPU_MODEL": "a100"}, monkeypatch)
    assert gres["set-resources"]["train"]["gres"] == "gpu:a100:1" and "gpu" not in gres["set-resources"]["train"]
    capped = _profile({"YOLOSHRINK_SLURM_MAX_RUNTIME": "60", "YOLOSHRINK_SLURM_MAX_MEM_MB": "6000"}, monkeypatch)
    for rule, res in capped["set-resources"].items():
        old = base["set-resources"][rule]
        assert res["runtime"] == min(old["runtime"], 60) and res["mem_mb"] == min(old["mem_mb"], 6000), rule
    assert capped["default-resources"] == {"slurm_partition": "cpu", "mem_mb": 4000, "runtime": 30}


def test_a_bad_site_setting_names_the_variable():
    with pytest.raises(slurmsite.SiteError, match=r"YOLOSHRINK_SLURM_TRAIN_MEM_MB='16G': not a whole number"):
        slurmsite.Site.from_environ({"YOLOSHRINK_SLURM_TRAIN_MEM_MB": "16G"})
    with pytest.raises(slurmsite.SiteError, match=r"YOLOSHRINK_SLURM_MAX_RUNTIME='0': must be at least 1"):
        slurmsite.Site.from_environ({"YOLOSHRINK_SLURM_MAX_RUNTIME": "0"})
    with pytest.raises(slurmsite.SiteError, match=r"YOLOSHRINK_SLURM_GPU_REQUEST='mig': must be one of gpus, gres"):
        slurmsite.Site.from_environ({"YOLOSHRINK_SLURM_GPU_REQUEST": "mig"})
    site = slurmsite.Site.from_environ(
        {"YOLOSHRINK_SLURM_CPU_PARTITION": "short", "YOLOSHRINK_SLURM_TRAIN_RETRIES": "0"}
    )
    assert site.bench_partition == "short" and site.train_retries == 0  # the bench partition follows the CPU one


def test_every_site_setting_is_documented_and_read_by_the_profile():
    docs = (REPO / "docs/cluster.md").read_text()
    profile = (REPO / "profiles/slurm/config.yaml").read_text()
    for knob in slurmsite.KNOBS:
        assert f"`{knob.env}`" in docs, knob.env
        assert knob.env in profile, knob.env  # the profile's header lists them
    used = set(re.findall(r"site\.(\w+)", profile))
    # the caps go through site.mem/site.runtime; the workflow reads the local rules
    assert used >= {k.name for k in slurmsite.KNOBS} - {"max_mem_mb", "max_runtime", "local_rules"}
    assert {"mem", "runtime"} <= used
    assert "slurmsite.Site.from_environ().local_rule_names()" in (REPO / "workflow/rules/common.smk").read_text()
    site = slurmsite.Site.from_environ({"YOLOSHRINK_SLURM_LOCAL_RULES": " model_yaml, report ,"})
    assert site.local_rule_names() == ["model_yaml", "report"]


def test_a_site_without_node_features_runs_its_timing_jobs_without_a_constraint(monkeypatch, tmp_path):
    """Issue 29: nodes whose sinfo lists `(null)` features; YOLOSHRINK_SLURM_BENCH_CONSTRAINT=none
    drops the timing jobs' constraint (an empty value keeps the default), and the pre-flight then
    finds nothing to fix; its hint for the default names `none`."""
    featureless = sinfo.parse_sinfo("batch*|n1|2|21694|gpu:1|(null)|up|infinite|idle\n")
    assert slurmsite.Site.from_environ({"YOLOSHRINK_SLURM_BENCH_CONSTRAINT": "none"}).bench_constraint is None
    assert slurmsite.Site.from_environ({"YOLOSHRINK_SLURM_BENCH_CONSTRAINT": " "}).bench_constraint == "bench_cpu"
    (msg,) = cluster.check_requests([JobRequest("latency", "batch", 0, "bench_cpu")], featureless)
    assert "YOLOSHRINK_SLURM_BENCH_CONSTRAINT" in msg and "`none` where the nodes list none" in msg
    assert cluster.check_requests([JobRequest("latency", "batch", 0, None)], featureless) == []
    base = _profile({}, monkeypatch)["set-resources"]
    none = _profile({"YOLOSHRINK_SLURM_BENCH_CONSTRAINT": "none"}, monkeypatch)["set-resources"]
    for rule in slurmsite.BENCH_RULES - {"host_bench"}:
        assert base[rule]["constraint"] == "bench_cpu" and "constraint" not in none[rule], rule
        assert none[rule] == {k: v for k, v in base[rule].items() if k != "constraint"}, rule  # nothing else moved


def test_the_environment_record_says_when_timing_jobs_had_no_node_constraint(tmp_path):
    """Issue 29: in a job of Snakemake's SLURM executor the environment record keeps the timing
    jobs' node feature, None for a featureless site (the report's sentence: tests/test_report.py).
    Outside such a job (a laptop, or a local run inside an interactive allocation) it records
    nothing."""
    import subprocess
    import sys

    from yoloshrink import environment

    probe = f"{sys.executable} -c 'from yoloshrink import environment as e; print(e.submitted_by_snakemake_slurm())'"
    step = ["snakemake", "--executor", "slurm-jobstep"]  # bash's $0 and arguments: in its command line
    inside = subprocess.run(["bash", "-c", probe + "; true", *step], capture_output=True)
    assert inside.stdout.decode().strip() == "True"  # an ancestor is the plugin's job step
    assert not environment.submitted_by_snakemake_slurm()  # pytest's ancestors are not
    assert environment.slurm_timing_node({"SLURM_JOB_ID": "7"}, submitted=False) == {}
    none = environment.slurm_timing_node({"YOLOSHRINK_SLURM_BENCH_CONSTRAINT": "none"}, submitted=True)
    assert none == {"slurm_bench_constraint": None}


def test_no_hint_replaces_a_rules_resources():
    """Issue 29: the partition hint offered `--set-resources RULE:slurm_partition=NAME`, which
    replaces the rule's whole mapping in the profile (a training then asked for 4000 MB, 30
    minutes and no GPU; timing jobs lost --exclusive). Every hint names a site setting, a config
    key or --set-threads, never --set-resources."""
    rules = ["train", "latency", "export", "host_bench"]
    resources = ["partition", "mem_mb", "runtime", "cpus", "gpus", "gpu_model", "constraint"]
    hints = [slurmsite.hint(rule, resource) for rule in rules for resource in resources]
    assert hints and not any("--set-resources" in h or "--default-resources" in h for h in hints), hints
    assert slurmsite.hint("train", "partition") == "set YOLOSHRINK_SLURM_GPU_PARTITION"
