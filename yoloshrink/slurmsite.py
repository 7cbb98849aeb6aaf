"""The SLURM profile's site settings: every value a site may need to change, one environment
variable each, with its default.

``profiles/slurm/config.yaml`` reads them (YTE: ``site = slurmsite.Site.from_environ()``), and
the pre-flight check (:mod:`yoloshrink.cluster`) names them in its hints. They exist because a
command-line ``--set-resources`` (or ``--default-resources``) REPLACES the profile's whole mapping
of that key (every rule's memory, runtime, GPU, ... would be lost), while these change one value
and keep the rest::

    YOLOSHRINK_SLURM_TRAIN_MEM_MB=16000 YOLOSHRINK_SLURM_GPU_MODEL=a100 \\
        snakemake --profile profiles/slurm

:data:`KNOBS` is the list (docs/cluster.md shows it; a test keeps the two in step).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["BENCH_RULES", "KNOBS", "Knob", "Site", "SiteError", "hint"]

PREFIX = "YOLOSHRINK_SLURM_"

#: Rules the profile puts on the timing node type, alone on their node (``--exclusive``): what
#: they measure must not share the machine. ``environment`` records that node type's CPU.
BENCH_RULES = frozenset(
    {"quantize", "latency", "speedup", "control", "machine_peak", "ultralytics_crosscheck", "host_bench", "environment"}
)
GPU_RULES = frozenset({"train"})


class SiteError(ValueError):
    """A site setting (environment variable) has a value the profile cannot use."""


@dataclass(frozen=True)
class Knob:
    """One site setting: ``Site.<name>``, set by the environment variable :attr:`env`."""

    name: str
    default: str | int | None
    kind: type
    help: str

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


KNOBS: tuple[Knob, ...] = (
    Knob("cpu_partition", "cpu", str, "partition of the CPU jobs (dataset, model, export, accuracy, aggregates)"),
    Knob("gpu_partition", "gpu", str, "partition of the trainings"),
    Knob("bench_partition", None, str, "partition of the timing jobs (default: the CPU partition)"),
    Knob(
        "bench_constraint",
        "bench_cpu",
        str,
        "node feature naming ONE CPU model, for the timing jobs; `none` where the nodes have no features",
    ),
    Knob("account", None, str, "sbatch -A ACCOUNT (else pass --slurm-no-account)"),
    Knob("cpus_per_gpu", 8, int, "CPUs of a training per GPU (= train.workers, its data-loader processes)"),
    Knob("train_mem_mb", 48000, int, "memory of a training, MB"),
    Knob("train_runtime", 720, int, "time limit of a training, minutes"),
    Knob("gpu_model", None, str, "GPU model of a training (--gpus=MODEL:1, or --gres=gpu:MODEL:1)"),
    Knob("gpu_request", "gpus", str, "how a training asks for its GPU: 'gpus' (--gpus=1) or 'gres' (--gres=gpu:1)"),
    Knob("max_mem_mb", None, int, "cap on every job's memory, MB (the largest node's memory)"),
    Knob("max_runtime", None, int, "cap on every job's time limit, minutes (the partitions' MaxTime)"),
    Knob("train_retries", 3, int, "resubmissions of a cancelled, preempted or timed-out training"),
    Knob(
        "local_rules",
        None,
        str,
        "rules run on the submit host, not submitted (comma-separated, e.g. model_yaml,report)",
    ),
)
_BY_NAME = {k.name: k for k in KNOBS}
GPU_REQUESTS = ("gpus", "gres")
#: The value of YOLOSHRINK_SLURM_BENCH_CONSTRAINT for a site without node features: the timing
#: jobs then carry no constraint, and so no guarantee that they all ran on one node type.
NO_CONSTRAINT = "none"


def _read(knob: Knob, environ: Mapping[str, str]) -> str | int | None:
    raw = environ.get(knob.env)
    if raw is None or raw.strip() == "":
        return knob.default
    raw = raw.strip()
    if knob.name == "bench_constraint" and raw.lower() == NO_CONSTRAINT:
        return None  # a site whose nodes have no features: the timing jobs ask for none
    if knob.kind is int:
        try:
            value = int(raw)
        except ValueError:
            raise SiteError(f"{knob.env}={raw!r}: not a whole number ({knob.help})") from None
        if value < (0 if knob.name == "train_retries" else 1):
            raise SiteError(f"{knob.env}={raw!r}: must be at least {0 if knob.name == 'train_retries' else 1}")
        return value
    return raw


@dataclass(frozen=True)
class Site:
    """Every :data:`KNOBS` value, read from the environment once (the profile's ``site``)."""

    values: Mapping[str, Any]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, stderr: TextIO | None = None) -> Site:
        """The site settings of ``environ`` (default: this process's environment). A bad value
        raises SiteError, after printing it to ``stderr`` (default sys.stderr): Snakemake reports
        an error in its profile only after its whole usage text, where nobody reads it."""
        environ = os.environ if environ is None else environ
        try:
            values = {k.name: _read(k, environ) for k in KNOBS}
            if values["bench_partition"] is None:
                values["bench_partition"] = values["cpu_partition"]
            if values["gpu_request"] not in GPU_REQUESTS:
                env = _BY_NAME["gpu_request"].env
                raise SiteError(f"{env}={values['gpu_request']!r}: must be one of {', '.join(GPU_REQUESTS)}")
        except SiteError as exc:
            print(f"error in the SLURM site settings (profiles/slurm): {exc}", file=stderr or sys.stderr, flush=True)
            raise
        return cls(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def mem(self, mb: int) -> int:
        """A memory request, MB, capped at ``max_mem_mb``."""
        cap = self.values["max_mem_mb"]
        return int(mb) if cap is None else min(int(mb), cap)

    def runtime(self, minutes: int) -> int:
        """A time limit, minutes, capped at ``max_runtime``."""
        cap = self.values["max_runtime"]
        return int(minutes) if cap is None else min(int(minutes), cap)

    def local_rule_names(self) -> list[str]:
        """``local_rules`` as a list (empty when unset): the workflow's ``localrules``."""
        return [r.strip() for r in (self.values["local_rules"] or "").split(",") if r.strip()]

    def gres(self) -> str:
        """The training's ``gres`` when ``gpu_request`` is 'gres': ``gpu:1`` or ``gpu:MODEL:1``."""
        model = self.values["gpu_model"]
        return f"gpu:{model}:1" if model else "gpu:1"


def hint(rule: str, resource: str) -> str:
    """What changes ``resource`` of ``rule``'s jobs: the site setting, or the config key."""
    env = {k.name: k.env for k in KNOBS}
    if resource == "partition":
        knob = "gpu_partition" if rule in GPU_RULES else "bench_partition" if rule in BENCH_RULES else "cpu_partition"
        # not --set-resources RULE:slurm_partition=NAME: it replaces the rule's whole mapping
        # (a training would lose its GPU, memory and time limit; a timing job its --exclusive)
        return f"set {env[knob]}"
    if resource == "mem_mb":
        if rule in GPU_RULES:
            return f"set {env['train_mem_mb']} (MB)"
        return f"set {env['max_mem_mb']} (MB, caps every job)"
    if resource == "runtime":
        if rule in GPU_RULES:
            return f"set {env['train_runtime']} (minutes; a training cut short resumes in its retry)"
        return f"set {env['max_runtime']} (minutes, caps every job)"
    if resource == "cpus":
        if rule in GPU_RULES:
            return f"set {env['cpus_per_gpu']} (and train.workers/train.threads in the config at most that)"
        if rule in BENCH_RULES:
            return "lower benchmark.threads in the config (a timing job asks for its largest value)"
        return f"--set-threads {rule}=N"
    if resource == "gpus":
        return f"point {env['gpu_partition']} at a partition with GPUs, or set train.device: cpu in the config"
    if resource == "gpu_model":
        return f"set {env['gpu_model']} to a GPU type listed by `sinfo -o '%P %G'` (or leave it unset)"
    if resource == "constraint":
        if rule == "host_bench":
            return "name a node feature listed by `sinfo -o '%P %f'` in benchmark.hosts in the config"
        return (
            f"set {env['bench_constraint']} to a node feature listed by `sinfo -o '%P %f'`, or to "
            f"`{NO_CONSTRAINT}` where the nodes list none (the timing jobs then may run on different node types)"
        )
    raise ValueError(f"no hint for resource {resource!r}")
