"""What a SLURM cluster offers, from one ``sinfo -N`` call: its partitions (up or not, the
default, the time limit) and each partition's nodes (CPUs, memory, GPUs and their types, node
features, whether a job can start there). :mod:`yoloshrink.cluster` checks requests against it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

__all__ = [
    "ClusterConfigError",
    "Node",
    "Partition",
    "constraint_ok",
    "parse_sinfo",
    "parse_time_limit",
    "query_sinfo",
]


class ClusterConfigError(RuntimeError):
    """The submission asks for something the cluster does not have (or the cluster cannot be asked)."""


#: one line per node and partition: partition|node|CPUs|memory MB|GRES|features|partition state|time limit|node state
SINFO_FORMAT = "%P|%N|%c|%m|%G|%f|%a|%l|%t"
#: node states (sinfo %t, without the trailing * of an unresponsive node) in which no job starts
UNUSABLE_STATES = ("down", "drain", "fail", "maint", "inval", "futr", "unk", "no_resp")


@dataclass(frozen=True)
class Node:
    """One node of a partition (one ``sinfo -N`` line)."""

    name: str
    cpus: int
    memory_mb: int
    gpus: int = 0
    gpu_types: frozenset[str] = frozenset()
    features: frozenset[str] = frozenset()
    usable: bool = True


@dataclass
class Partition:
    """A partition: its nodes, whether it is up and the default, and its time limit (None: none)."""

    name: str
    default: bool = False
    up: bool = True
    max_minutes: int | None = None
    nodes: list[Node] = field(default_factory=list)

    @property
    def has_gpus(self) -> bool:
        return any(n.gpus > 0 for n in self.nodes)


def _gres_gpus(gres: str) -> tuple[int, frozenset[str]]:
    """GPUs in an sinfo %G field and their types: ``gpu:4``, ``gpu:a100:2(S:0-1)``,
    ``gpu:1,shard:8``, ``(null)``."""
    total, types = 0, set()
    for item in gres.split(","):
        item = re.sub(r"\(.*?\)", "", item.strip())
        parts = item.split(":")
        if parts[0] != "gpu":
            continue
        count = parts[-1] if len(parts) > 1 else "1"
        m = re.match(r"(\d+)", count)
        total += int(m.group(1)) if m else 1
        if len(parts) == 3 or (len(parts) == 2 and not m):
            types.add(parts[1])
    return total, frozenset(types)


def parse_time_limit(text: str) -> int | None:
    """Minutes in a SLURM time limit (sinfo %l): ``infinite``/``UNLIMITED`` -> None, ``30``,
    ``30:00`` (min:s), ``2:00:00``, ``1-00:00:00``, ``1-12`` (days-hours), ``1-12:30``."""
    text = text.strip()
    if text.lower() in {"infinite", "unlimited", "n/a", "none", ""}:
        return None
    days = 0
    if "-" in text:
        d, text = text.split("-", 1)
        days = int(d)
        parts = [int(p) for p in text.split(":")]
        h, m, s = [*parts, 0, 0, 0][:3]
    else:
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 1:
            h, m, s = 0, parts[0], 0
        elif len(parts) == 2:
            h, m, s = 0, parts[0], parts[1]
        else:
            h, m, s = parts[:3]
    return days * 1440 + h * 60 + m + (1 if s else 0)


def _int(text: str) -> int:
    m = re.match(r"\d+", text.strip())
    return int(m.group()) if m else 0


def parse_sinfo(text: str) -> dict[str, Partition]:
    """Partitions from ``sinfo -h -N -o '%P|%N|%c|%m|%G|%f|%a|%l|%t'`` output (the default
    partition's name ends in ``*``)."""
    partitions: dict[str, Partition] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.strip().split("|")
        if len(fields) != 9:
            raise ValueError(f"unexpected sinfo line (wanted {SINFO_FORMAT}): {line!r}")
        name, node, cpus, memory, gres, features, avail, limit, state = (f.strip() for f in fields)
        default = name.endswith("*")
        name = name.rstrip("*")
        part = partitions.setdefault(name, Partition(name, up=avail == "up", max_minutes=parse_time_limit(limit)))
        part.default = part.default or default
        gpus, types = _gres_gpus(gres)
        feats = frozenset() if features in {"(null)", ""} else frozenset(features.split(","))
        usable = not state.rstrip("*~#!%$@^-").lower().startswith(UNUSABLE_STATES)
        part.nodes.append(Node(node, _int(cpus), _int(memory), gpus, types, feats, usable))
    return partitions


def query_sinfo() -> dict[str, Partition]:
    """Ask the cluster (``sinfo -N``) for its partitions and their nodes."""
    if shutil.which("sinfo") is None:
        raise ClusterConfigError("executor is slurm but `sinfo` is not on PATH: is this a SLURM submit host?")
    proc = subprocess.run(["sinfo", "-h", "-N", "-o", SINFO_FORMAT], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise ClusterConfigError(f"`sinfo` failed ({proc.returncode}): {proc.stderr.strip()}")
    return parse_sinfo(proc.stdout)


def constraint_ok(constraint: str, features: frozenset[str]) -> bool:
    """Whether nodes with ``features`` satisfy a --constraint: ``a``, ``a&b``, ``a|b``, ``[a|b]``, ``a*2``."""
    tokens = [re.sub(r"\*\d+$", "", t).strip() for t in re.split(r"[&|,\[\]()]", constraint)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return True
    if "|" in constraint:
        return any(t in features for t in tokens)
    return all(t in features for t in tokens)
