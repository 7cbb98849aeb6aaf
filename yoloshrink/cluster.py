"""Pre-flight check of a SLURM submission: every partition, GPU and node feature asked for exists.

Without it, a profile naming a partition that does not exist fails job by job at ``sbatch``
time, and a GPU request on a partition without GPUs (or a ``constraint`` no node has) leaves
jobs pending forever. :func:`check_workflow` is meant for the workflow's ``onstart`` handler,
which runs after the DAG is built and before the first job is submitted::

    onstart:
        cluster.check_workflow(workflow)

It does nothing unless the executor is ``slurm`` (not inside jobs, not locally), asks ``sinfo``
once, and raises :class:`ClusterConfigError` listing every problem, with the rule names and the
environment variables of ``profiles/slurm`` that set the value.

The executor is read through the interface Snakemake publishes for executor plugins
(``snakemake_interface_executor_plugins``: ``WorkflowExecutorInterface.executor_plugin``, the
plugin's ``name`` and ``common_settings.non_local_exec``); if a Snakemake release stops
providing it, :func:`executor_plugin` raises instead of letting the check pass silently.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ClusterConfigError",
    "JobRequest",
    "NodeGroup",
    "Partition",
    "check_requests",
    "check_workflow",
    "executor_plugin",
    "parse_sinfo",
    "query_sinfo",
    "request_from_resources",
    "timing_cores",
]

SINFO_FORMAT = "%P|%G|%f|%a"
HINTS = {
    "partition": "set YOLOSHRINK_SLURM_{CPU,GPU,BENCH}_PARTITION for profiles/slurm, "
    "or --set-resources RULE:slurm_partition=NAME (see docs/cluster.md)",
    "gpu": "point the rule at a GPU partition (YOLOSHRINK_SLURM_GPU_PARTITION), or drop its gpu/gres request",
    "constraint": "set YOLOSHRINK_SLURM_BENCH_CONSTRAINT to a feature listed by `sinfo -o '%P %f'`",
}


class ClusterConfigError(RuntimeError):
    """The submission asks for something the cluster does not have."""


@dataclass(frozen=True)
class NodeGroup:
    """Nodes of one partition that share GRES and features (one ``sinfo`` row)."""

    gpus: int
    features: frozenset[str]
    up: bool = True


@dataclass
class Partition:
    name: str
    default: bool = False
    groups: list[NodeGroup] = field(default_factory=list)

    @property
    def has_gpus(self) -> bool:
        return any(g.gpus > 0 for g in self.groups)


@dataclass(frozen=True)
class JobRequest:
    """What one rule's jobs ask SLURM for. ``partition`` None means the cluster default."""

    rule: str
    partition: str | None = None
    gpus: int = 0
    constraint: str | None = None


def _gpu_count(gres: str) -> int:
    """GPUs in an sinfo %G field: ``gpu:4``, ``gpu:a100:2(S:0-1)``, ``gpu:1,shard:8``, ``(null)``."""
    total = 0
    for item in gres.split(","):
        item = re.sub(r"\(.*?\)", "", item.strip())
        parts = item.split(":")
        if parts[0] != "gpu":
            continue
        count = parts[-1] if len(parts) > 1 else "1"
        m = re.match(r"(\d+)", count)
        total += int(m.group(1)) if m else 1
    return total


def parse_sinfo(text: str) -> dict[str, Partition]:
    """Partitions from ``sinfo -h -o '%P|%G|%f|%a'`` output (the default partition ends in ``*``)."""
    partitions: dict[str, Partition] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.strip().split("|")
        if len(fields) != 4:
            raise ValueError(f"unexpected sinfo line: {line!r}")
        name, gres, features, avail = fields
        default = name.endswith("*")
        name = name.rstrip("*")
        part = partitions.setdefault(name, Partition(name))
        part.default = part.default or default
        feats = frozenset() if features in {"(null)", ""} else frozenset(features.split(","))
        part.groups.append(NodeGroup(_gpu_count(gres), feats, up=avail.strip() == "up"))
    return partitions


def query_sinfo() -> dict[str, Partition]:
    """Ask the cluster (``sinfo``) for its partitions, GPUs and node features."""
    if shutil.which("sinfo") is None:
        raise ClusterConfigError("executor is slurm but `sinfo` is not on PATH: is this a SLURM submit host?")
    proc = subprocess.run(["sinfo", "-h", "-o", SINFO_FORMAT], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise ClusterConfigError(f"`sinfo` failed ({proc.returncode}): {proc.stderr.strip()}")
    return parse_sinfo(proc.stdout)


def _constraint_ok(constraint: str, features: frozenset[str]) -> bool:
    """Whether nodes with ``features`` satisfy a --constraint: ``a``, ``a&b``, ``a|b``, ``[a|b]``, ``a*2``."""
    tokens = [re.sub(r"\*\d+$", "", t).strip() for t in re.split(r"[&|,\[\]()]", constraint)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return True
    if "|" in constraint:
        return any(t in features for t in tokens)
    return all(t in features for t in tokens)


def check_requests(requests: Iterable[JobRequest], partitions: Mapping[str, Partition]) -> list[str]:
    """Every problem with ``requests`` on a cluster with ``partitions``, one line each (empty if none)."""
    problems: list[str] = []
    names = ", ".join(sorted(partitions)) or "none"
    default = next((p for p in partitions.values() if p.default), None)
    for req in sorted(set(requests), key=lambda r: (r.rule, str(r.partition))):
        if req.partition is None:
            if default is None:
                problems.append(
                    f"rule {req.rule}: no slurm_partition and the cluster has no default partition; "
                    f"{HINTS['partition']}"
                )
                continue
            part = default
        else:
            wanted = [p.strip() for p in str(req.partition).split(",") if p.strip()]
            missing = [p for p in wanted if p not in partitions]
            if missing:
                problems.append(
                    f"rule {req.rule}: partition {', '.join(map(repr, missing))} does not exist on this cluster "
                    f"(partitions: {names}); {HINTS['partition']}"
                )
                continue
            part = Partition(",".join(wanted), groups=[g for p in wanted for g in partitions[p].groups])
        if not any(g.up for g in part.groups):
            problems.append(f"rule {req.rule}: partition {part.name!r} is not up (sinfo %a)")
        groups = part.groups
        if req.gpus > 0:
            groups = [g for g in groups if g.gpus > 0]
            if not groups:
                problems.append(
                    f"rule {req.rule}: asks for {req.gpus} GPU(s) but partition {part.name!r} has no GPU (gres) "
                    f"on any node; {HINTS['gpu']}"
                )
                continue
            if max(g.gpus for g in groups) < req.gpus:
                problems.append(
                    f"rule {req.rule}: asks for {req.gpus} GPUs but no node of partition {part.name!r} has more than "
                    f"{max(g.gpus for g in groups)}"
                )
        if req.constraint and not any(_constraint_ok(req.constraint, g.features) for g in groups):
            feats = sorted({f for g in part.groups for f in g.features}) or ["none"]
            problems.append(
                f"rule {req.rule}: constraint {req.constraint!r} matches no node"
                f"{' with a GPU' if req.gpus else ''} of partition {part.name!r} (features there: "
                f"{', '.join(feats)}); {HINTS['constraint']}"
            )
    return problems


def request_from_resources(rule: str, resources: Mapping[str, Any]) -> JobRequest:
    """The SLURM request the executor plugin makes of a job with these (evaluated) resources."""
    gpus = resources.get("gpu") or 0
    try:
        gpus = int(gpus)
    except (TypeError, ValueError):
        gpus = 1
    gres = str(resources.get("gres") or "")
    if not gpus and gres.split(":")[0] == "gpu":
        m = re.search(r":(\d+)$", gres)
        gpus = int(m.group(1)) if m else 1
    partition = resources.get("slurm_partition") or None
    constraint = resources.get("constraint") or None
    return JobRequest(
        rule,
        None if partition is None else str(partition),
        gpus,
        None if constraint is None else str(constraint),
    )


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
    return int(workflow.cores)


def check_workflow(workflow: Any, partitions: Mapping[str, Partition] | None = None) -> None:
    """In ``onstart``: raise :class:`ClusterConfigError` if a job to run asks SLURM for what it lacks.

    No-op unless the executor is ``slurm``. ``partitions`` (for tests) replaces the ``sinfo`` query.
    Raises :class:`ClusterConfigError` when the executor cannot be determined (see
    :func:`executor_plugin`): ``onstart`` runs only while a workflow executes, when there is one.
    """
    plugin = executor_plugin(workflow)
    if plugin is None:
        raise ClusterConfigError("onstart ran without an executor plugin: cannot tell whether jobs go to SLURM")
    if plugin.name != "slurm":
        return
    requests = {
        request_from_resources(job.rule.name, dict(job.resources.items())) for job in workflow.dag.needrun_jobs()
    }
    if not requests:
        return
    problems = check_requests(requests, partitions if partitions is not None else query_sinfo())
    if problems:
        raise ClusterConfigError("the SLURM request cannot be met; no job was submitted:\n  " + "\n  ".join(problems))
