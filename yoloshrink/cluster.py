"""Pre-flight check of a SLURM submission: every job's request can be met by a node.

Without it, a profile naming a partition that does not exist fails job by job at ``sbatch``
time, a request larger than every node ("Memory specification can not be satisfied") is refused
only when that rule's first job is submitted, after everything before it has run, and a GPU
request on a partition without GPUs (or a ``constraint`` no node has) leaves jobs pending
forever. This module compares what each job to run asks for (partition, CPUs, CPUs per GPU,
GPUs and their model, memory, runtime, node features) with what the partition's nodes offer
(one ``sinfo -N`` call) and names every request no node can meet, rule by rule, with the setting
that changes it (:func:`yoloshrink.slurmsite.hint`).

It runs twice in the workflow (``workflow/rules/common.smk``):

- :func:`check_workflow` in ``onstart``, after the DAG is built and before the first
  submission: it raises :class:`ClusterConfigError`, so nothing is submitted;
- :func:`report_dry_run_at_exit` for ``snakemake -n``: Snakemake runs no handler in a dry run,
  so the check prints its report when the dry run ends (its exit status unchanged).

Both do nothing unless the jobs go to SLURM: the executor is ``slurm`` (or, in a dry run, the
jobs carry the profile's ``slurm_partition``). The executor is read through the interface
Snakemake publishes for executor plugins (``snakemake_interface_executor_plugins``:
``WorkflowExecutorInterface.executor_plugin``, the plugin's ``name`` and
``common_settings.non_local_exec``); if a Snakemake release stops providing it,
:func:`executor_plugin` raises instead of letting the check pass silently.

The request of a job is what ``snakemake-executor-plugin-slurm`` puts on its ``sbatch`` line
(:func:`request_from_job`): ``--cpus-per-task`` (``cpus_per_task``, else the job's threads) or
``--cpus-per-gpu`` (``cpus_per_gpu``, on GPU jobs), ``--mem`` (``mem_mb``) or ``--mem-per-cpu``
(``mem_mb_per_cpu``), ``--gpus``/``--gres``, ``-t`` (``runtime``, minutes), ``-C``
(``constraint``), ``-p`` (``slurm_partition``).
"""

from __future__ import annotations

import atexit
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from yoloshrink import sinfo, slurmsite
from yoloshrink.sinfo import ClusterConfigError, Partition

__all__ = [
    "ClusterConfigError",
    "JobRequest",
    "check_requests",
    "check_workflow",
    "dry_run_report",
    "executor_plugin",
    "report_dry_run_at_exit",
    "request_from_job",
    "request_from_resources",
    "slurm_profile",
    "timing_cores",
]


@dataclass(frozen=True)
class JobRequest:
    """What one rule's jobs ask SLURM for. ``partition`` None means the cluster default;
    ``mem_mb`` is per node (``mem_mb_per_cpu`` times the CPUs when so asked); ``runtime`` minutes."""

    rule: str
    partition: str | None = None
    gpus: int = 0
    constraint: str | None = None
    cpus: int = 1
    mem_mb: int | None = None
    runtime: int | None = None
    gpu_model: str | None = None


def _minutes(m: int) -> str:
    return f"{m} min" if m < 120 or m % 60 else f"{m // 60} h"


def _request_problems(req: JobRequest, partitions: Mapping[str, Partition]) -> list[str]:
    """What in ``req`` no node can meet: one line per resource, each with its :func:`slurmsite.hint`."""
    rule, names = req.rule, ", ".join(sorted(partitions)) or "none"
    hint = lambda resource: slurmsite.hint(rule, resource)  # noqa: E731
    if req.partition is None:
        part = next((p for p in partitions.values() if p.default), None)
        if part is None:
            return [f"no slurm_partition and the cluster has no default partition; {hint('partition')}"]
    else:
        wanted = [p.strip() for p in str(req.partition).split(",") if p.strip()]
        missing = [p for p in wanted if p not in partitions]
        if missing:
            return [
                f"partition {', '.join(map(repr, missing))} does not exist on this cluster (partitions: {names}); "
                f"{hint('partition')}"
            ]
        parts = [partitions[p] for p in wanted]
        limits = [p.max_minutes for p in parts]
        part = Partition(
            ",".join(wanted),
            up=any(p.up for p in parts),
            max_minutes=None if None in limits else max(limits),
            nodes=[n for p in parts for n in p.nodes],
        )
    where = f"partition {part.name!r}"
    problems = []
    if not part.up:
        problems.append(f"{where} is not up (sinfo %a); {hint('partition')}")
    elif not any(n.usable for n in part.nodes):
        problems.append(f"no node of {where} is usable now (all down or drained); {hint('partition')}")
    if req.runtime and part.max_minutes is not None and req.runtime > part.max_minutes:
        problems.append(
            f"runtime {_minutes(req.runtime)} exceeds the time limit of {where}, {_minutes(part.max_minutes)}; "
            f"{hint('runtime')}"
        )
    nodes = part.nodes
    # each resource alone: the nodes that have it (the request's own words, then the best node's)
    checks: list[tuple[str, str, Any]] = []
    if req.gpus > 0:
        best = max((n.gpus for n in nodes), default=0)
        if best == 0:
            checks.append(("gpus", f"asks for {req.gpus} GPU(s) but {where} has no GPU (gres) on any node", None))
        else:
            checks.append(
                (
                    "gpus",
                    f"asks for {req.gpus} GPUs but no node of {where} has more than {best}",
                    lambda n: n.gpus >= req.gpus,
                )
            )
        if req.gpu_model:
            types = sorted({t for n in nodes for t in n.gpu_types}) or ["none named"]
            checks.append(
                (
                    "gpu_model",
                    f"GPU model {req.gpu_model!r} is on no node of {where} (GPU types there: {', '.join(types)})",
                    lambda n: req.gpu_model in n.gpu_types,
                )
            )
    best_cpus = max((n.cpus for n in nodes), default=0)
    checks.append(
        (
            "cpus",
            f"asks for {req.cpus} CPUs but the largest node of {where} has {best_cpus}",
            lambda n: n.cpus >= req.cpus,
        )
    )
    if req.mem_mb:
        best_mem = max((n.memory_mb for n in nodes), default=0)
        checks.append(
            (
                "mem_mb",
                f"asks for {req.mem_mb} MB of memory but the largest node of {where} has {best_mem} MB",
                lambda n: n.memory_mb >= req.mem_mb,
            )
        )
    if req.constraint:
        feats = sorted({f for n in nodes for f in n.features}) or ["none"]
        checks.append(
            (
                "constraint",
                f"constraint {req.constraint!r} matches no node of {where} (features there: {', '.join(feats)})",
                lambda n: sinfo.constraint_ok(req.constraint, n.features),
            )
        )
    fitting = list(nodes)
    for resource, message, ok in checks:
        if ok is None or not any(ok(n) for n in nodes):
            problems.append(f"{message}; {hint(resource)}")
        else:
            fitting = [n for n in fitting if ok(n)]
    if len(problems) == 0 and not fitting:
        asked = [f"{req.cpus} CPUs"] + ([f"{req.mem_mb} MB"] if req.mem_mb else [])
        asked += [f"{req.gpus} GPU(s)"] if req.gpus else []
        asked += [f"features {req.constraint!r}"] if req.constraint else []
        problems.append(
            f"no single node of {where} has all of {', '.join(asked)} (each alone exists on some node); "
            f"{hint('mem_mb')}, or {hint('cpus')}"
        )
    return problems


def check_requests(requests: Iterable[JobRequest], partitions: Mapping[str, Partition]) -> list[str]:
    """Every problem with ``requests`` on a cluster with ``partitions``, one line each (empty if
    none), ``rule NAME: ...``, rule by rule, each problem once."""
    out: list[str] = []
    for req in sorted(set(requests), key=lambda r: (r.rule, str(r.partition), r.cpus, r.mem_mb or 0)):
        for problem in _request_problems(req, partitions):
            line = f"rule {req.rule}: {problem}"
            if line not in out:
                out.append(line)
    return out


def _positive_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and int(value) > 0 else None
    except (TypeError, ValueError):
        return None


def request_from_resources(rule: str, resources: Mapping[str, Any], threads: int = 1) -> JobRequest:
    """The SLURM request the executor plugin makes of a job with these (evaluated) resources
    and ``threads`` (see the module's docstring for the mapping)."""
    gpus = resources.get("gpu") or 0
    try:
        gpus = int(gpus)
    except (TypeError, ValueError):
        gpus = 1
    gres = str(resources.get("gres") or "")
    gpu_model = resources.get("gpu_model") or None
    if not gpus and gres.split(":")[0] == "gpu":
        m = re.search(r":(\d+)$", gres)
        gpus = int(m.group(1)) if m else 1
        parts = gres.split(":")
        if gpu_model is None and (len(parts) == 3 or (len(parts) == 2 and not m)):
            gpu_model = parts[1]
    gpu_job = gpus > 0
    if _positive_int(resources.get("cpus_per_task")):
        cpus = int(resources["cpus_per_task"])
    elif gpu_job and _positive_int(resources.get("cpus_per_gpu")):
        cpus = int(resources["cpus_per_gpu"]) * gpus
    else:
        cpus = max(1, int(threads))
    if _positive_int(resources.get("mem_mb_per_cpu")):
        mem = int(resources["mem_mb_per_cpu"]) * cpus
    else:
        mem = _positive_int(resources.get("mem_mb"))
    partition = resources.get("slurm_partition") or None
    constraint = resources.get("constraint") or None
    return JobRequest(
        rule,
        None if partition is None else str(partition),
        gpus,
        None if constraint is None else str(constraint),
        cpus=cpus,
        mem_mb=mem,
        runtime=_positive_int(resources.get("runtime")),
        gpu_model=None if gpu_model is None else str(gpu_model),
    )


def request_from_job(job: Any) -> JobRequest:
    """:func:`request_from_resources` of a Snakemake job (its evaluated resources and threads)."""
    return request_from_resources(job.rule.name, dict(job.resources.items()), getattr(job, "threads", 1))


def executor_plugin(workflow: Any) -> Any:
    """The executor plugin running ``workflow`` (None while Snakemake only builds a DAG, e.g. for
    ``--report``), read through Snakemake's published executor-plugin interface.

    Raises :class:`ClusterConfigError` when ``workflow`` does not provide that interface, so that
    a Snakemake release that changes it stops the run instead of silently skipping the checks.
    """
    from snakemake_interface_executor_plugins.workflow import WorkflowExecutorInterface

    if not isinstance(workflow, WorkflowExecutorInterface):
        raise ClusterConfigError(
            f"cannot tell which executor runs this workflow: {type(workflow).__name__} does not implement "
            "snakemake_interface_executor_plugins.workflow.WorkflowExecutorInterface (a Snakemake release this "
            "project was not written for?); yoloshrink.cluster.executor_plugin needs updating"
        )
    return workflow.executor_plugin


def timing_cores(workflow: Any, cluster_threads: int) -> int:
    """The cores a timing job holds, so that nothing runs beside it on the machine it measures.

    Locally: every core Snakemake may use (``workflow.cores``, i.e. ``--cores``), whatever the
    thread count being timed, so that no other job (each holds at least one core) can start
    while it runs, for any config and any ``--cores``. On a cluster the profile gives each timing
    job a whole node (``--exclusive``) and this returns ``cluster_threads`` (the largest thread
    count timed), which is what the job asks the scheduler for; so too while no executor runs
    (``--report``, where no job executes).
    """
    plugin = executor_plugin(workflow)
    if plugin is None or plugin.common_settings.non_local_exec:
        return int(cluster_threads)
    if plugin.common_settings.dryrun_exec and slurm_profile(workflow):
        return int(cluster_threads)  # a dry run of a SLURM run shows (and checks) what it will ask
    return int(workflow.cores)


def slurm_profile(workflow: Any) -> bool:
    """Whether the resources come from a SLURM profile: its default resources name a partition
    (``profiles/slurm`` always does). Tells a dry run bound for SLURM from a local one."""
    settings = getattr(workflow, "resource_settings", None)
    defaults = getattr(settings, "default_resources", None)
    try:
        return defaults is not None and "slurm_partition" in defaults
    except TypeError:
        return False


def _submitted_jobs(workflow: Any, include_finished: bool = False) -> list[Any]:
    """The jobs to run that go to the cluster: not the local rules, not rules without a command."""
    local = set(getattr(workflow, "_localrules", ()))
    jobs = workflow.dag.needrun_jobs(exclude_finished=not include_finished)
    return [j for j in jobs if not getattr(j.rule, "norun", False) and j.rule.name not in local]


def check_workflow(workflow: Any, partitions: Mapping[str, Partition] | None = None) -> None:
    """In ``onstart``: raise :class:`ClusterConfigError` if a job to run asks SLURM for what no
    node has.

    No-op unless the executor is ``slurm``. ``partitions`` (for tests) replaces the ``sinfo`` query.
    Raises :class:`ClusterConfigError` when the executor cannot be determined (see
    :func:`executor_plugin`): ``onstart`` runs only while a workflow executes, when there is one.
    """
    plugin = executor_plugin(workflow)
    if plugin is None:
        raise ClusterConfigError("onstart ran without an executor plugin: cannot tell whether jobs go to SLURM")
    if plugin.name != "slurm":
        return
    requests = {request_from_job(job) for job in _submitted_jobs(workflow)}
    if not requests:
        return
    problems = check_requests(requests, partitions if partitions is not None else sinfo.query_sinfo())
    if problems:
        raise ClusterConfigError("the SLURM request cannot be met; no job was submitted:\n  " + "\n  ".join(problems))


def dry_run_report(workflow: Any, partitions: Mapping[str, Partition] | None = None) -> str | None:
    """The pre-flight report of a dry run (``-n``) of jobs bound for SLURM, or None when the dry
    run is not one: no dry run, or no job carries a ``slurm_partition`` (no SLURM profile)."""
    plugin = executor_plugin(workflow)
    if plugin is None or not plugin.common_settings.dryrun_exec or workflow.dag is None:
        return None
    jobs = _submitted_jobs(workflow, include_finished=True)
    if not any("slurm_partition" in dict(j.resources.items()) for j in jobs):
        return None
    requests = {request_from_job(job) for job in jobs}
    head = "SLURM pre-flight check (dry run)"
    if partitions is None:
        try:
            partitions = sinfo.query_sinfo()
        except (ClusterConfigError, OSError, subprocess.SubprocessError, ValueError) as exc:
            return f"{head}: not checked, the cluster could not be asked: {exc}"
    problems = check_requests(requests, partitions)
    rules = sorted({r.rule for r in requests})
    if not problems:
        return f"{head}: every request of {len(rules)} rule(s) ({', '.join(rules)}) fits a node of its partition."
    return f"{head}: the real run would stop before any submission:\n  " + "\n  ".join(problems)


def report_dry_run_at_exit(workflow: Any) -> None:
    """Print :func:`dry_run_report` to stderr when this Snakemake process ends (for ``common.smk``).

    Snakemake calls no handler (``onstart``, ``onsuccess``) in a dry run, and only after the DAG
    is built are the jobs and their resources known: the end of the process is the one place
    left. Anything that goes wrong there is printed, never raised: a dry run stays a dry run.
    """

    def report() -> None:
        try:
            text = dry_run_report(workflow)
        except Exception as exc:  # a report at exit must not turn into a traceback
            text = f"SLURM pre-flight check (dry run): failed: {type(exc).__name__}: {exc}"
        if text:
            print(text, file=sys.stderr, flush=True)

    atexit.register(report)
