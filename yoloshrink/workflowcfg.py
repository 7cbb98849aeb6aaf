"""Config logic of the workflow that a JSON schema cannot express: variant names, thread
counts, and checks across keys. Called from workflow/rules/common.smk and tested directly.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config value that cannot work; the message names the key and the value."""


def _key_path(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def schema_errors(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every schema violation of ``config`` as a message naming the key and the value.

    Unknown keys get the closest valid name suggested.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    messages = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        where = _key_path(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = list(err.schema.get("properties", {}))
            for key in sorted(set(err.instance) - set(allowed)):
                near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"; did you mean '{near[0]}'?" if near else f"; valid keys: {', '.join(allowed)}"
                prefix = f"{where}." if err.absolute_path else ""
                messages.append(f"{prefix}{key}: unknown key{hint}")
        elif err.validator == "uniqueItems":
            messages.append(f"{where}: {err.instance!r} holds duplicates")
        else:
            messages.append(f"{where}: {err.instance!r} is invalid: {err.message}")
    return messages


def validate_config(config: dict[str, Any], schema_file: Path) -> None:
    """Raise ConfigError listing every violation of the schema (before any job starts)."""
    schema = yaml.safe_load(Path(schema_file).read_text())
    messages = schema_errors(config, schema)
    if messages:
        raise ConfigError("invalid config:\n  " + "\n  ".join(messages))


def canonical(value: Any) -> Any:
    """``value`` with every mapping's keys sorted, recursively.

    Snakemake decides whether params changed by comparing their printed form, so a dict param
    must not depend on the order of keys in a YAML file: reordering a config section (or a
    tool that rewrites the file sorted) would otherwise retrain everything.
    """
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def variant_name(width: float) -> str:
    """Readable, stable name of a width variant: 0.25 -> "w0.25", 0.125 -> "w0.125"."""
    return f"w{width:g}"


def variants(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The variant table: name -> knobs (width, depth, max_channels), in config order."""
    model = config["model"]
    out: dict[str, dict[str, Any]] = {}
    for width in model["widths"]:
        name = variant_name(width)
        if name in out:
            raise ConfigError(f"model.widths: {width!r} duplicates {out[name]['width']!r}")
        out[name] = {
            "width": float(width),
            "depth": float(model.get("depth_multiple", 0.33)),
            "max_channels": int(model.get("max_channels", 1024)),
        }
    return out


def bench_threads(config: dict[str, Any], cpu_count: int | None = None) -> list[int]:
    """Benchmark thread counts with "all" resolved to this machine's cores; sorted, unique."""
    cores = cpu_count or os.cpu_count() or 1
    out = {cores if t == "all" else int(t) for t in config["benchmark"]["threads"]}
    return sorted(out)


def bench_targets(config: dict[str, Any]) -> list[str]:
    """Benchmark targets: the PyTorch checkpoint, each exported format, and OpenVINO at f32
    beside OpenVINO's default precision (bf16 on CPUs that have it)."""
    formats = list(config["export"]["formats"])
    out = ["pytorch", *formats]
    if "openvino" in formats:
        out.insert(out.index("openvino") + 1, "openvino-f32")
    return out


def dataset_yaml(config: dict[str, Any]) -> str:
    """The data.yaml the canonical dataset is made from, for the configured source.

    builtin: the generated set; folder: ``dataset.path``; zip and roboflow:
    ``resources/datasets/<name>/data.yaml``, the folder the source is unpacked to.
    """
    ds = config["dataset"]
    if ds["source"] == "builtin":
        return "resources/datasets/builtin/data.yaml"
    if ds["source"] in ("zip", "roboflow"):
        from yoloshrink.datasets.sources import dataset_name

        return f"resources/datasets/{dataset_name(ds)}/data.yaml"
    return ds["path"]


def check(config: dict[str, Any], base_dir: Path) -> None:
    """Checks across keys, after schema validation; raises ConfigError naming the key."""
    ds = config["dataset"]
    source = ds["source"]
    if source in ("folder", "zip"):
        if not ds.get("path"):
            raise ConfigError(f"dataset.path: required when dataset.source is {source!r}")
        path = Path(ds["path"])
        expected = "a data.yaml" if source == "folder" else "a .zip export"
        if not path.is_file():
            raise ConfigError(f"dataset.path: {ds['path']!r} is not a file (expected {expected})")
    if source == "roboflow":
        rf = ds.get("roboflow") or {}
        missing = [k for k in ("workspace", "project", "version") if not rf.get(k)]
        if missing:
            raise ConfigError(f"dataset.roboflow: {', '.join(missing)} required when dataset.source is 'roboflow'")
    if source in ("zip", "roboflow"):
        from yoloshrink.datasets.sources import dataset_name

        if dataset_name(ds) == "builtin":
            raise ConfigError("dataset.name: 'builtin' is reserved for the generated dataset")
    variants(config)


def failed_trainings(variants: list[str], train_dir: Path = Path("results/train")) -> dict[str, str]:
    """Variants whose recorded training failed: name -> error (these are not retried by themselves)."""
    import json

    out = {}
    for v in variants:
        info = Path(train_dir) / v / "train_info.json"
        if info.exists():
            try:
                rec = json.loads(info.read_text())
            except (OSError, ValueError):
                continue
            if rec.get("status", "ok") != "ok":
                out[v] = rec.get("error", "unknown error")
    return out


def re_escape(name: str) -> str:
    """Escape a variant name for a wildcard constraint."""
    return re.escape(name)
