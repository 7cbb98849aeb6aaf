"""Config logic of the workflow that a JSON schema cannot express: variant names, thread
counts, and checks across keys. Called from workflow/rules/common.smk and tested directly.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from yoloshrink import layout, model, quantize
from yoloshrink.bench.timing import TimingPlan
from yoloshrink.targets import EXPORTS, TARGETS, targets_for

#: The benchmark keys that say how a timing job times: the fields of
#: :class:`yoloshrink.bench.timing.TimingPlan` (the schema's ``benchmark`` and
#: ``export.quantize.timing`` keys are checked against them by a test).
TIMING_KEYS = tuple(f.name for f in fields(TimingPlan))


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
        elif err.validator in ("oneOf", "anyOf"):
            # jsonschema's own text ("is not valid under any of the given schemas") names no
            # valid value: say what is valid, from the schema's description or its alternatives
            valid = err.schema.get("description") or "; or ".join(c.message for c in err.context)
            messages.append(f"{where}: {err.instance!r} is invalid: expected {valid}")
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


#: The stock knobs: a variant's name spells out only the knobs that differ from these (the
#: family's own "n" depth, the stock heads, ``train.imgsz``), and YOLOv8's names carry no family,
#: so that names stay stable, and existing trainings stay valid, when the grid grows a new axis.
STOCK_HEADS = "P3-P5"
#: A distilled student's name: its undistilled twin's, with this suffix.
KD_SUFFIX = "-kd"


def variant_name(
    width: float,
    depth: float | None = None,
    imgsz: int | None = None,
    heads: str = STOCK_HEADS,
    family: str = model.DEFAULT_FAMILY,
) -> str:
    """Readable, stable name of a grid point: "w0.25", "w0.125-d0.67", "w0.125-320px",
    "w0.125-p34" (P3-P4 heads), "yolo26-w0.125" (the family's prefix, none for YOLOv8);
    ``depth=None`` is the family's stock depth, ``imgsz=None`` the default training size."""
    name = f"{model.FAMILIES[family].prefix}w{width:g}"
    if depth is not None and abs(depth - model.stock_depth(family)) > 1e-9:
        name += f"-d{depth:g}"
    if imgsz is not None:
        name += f"-{imgsz}px"
    if heads != STOCK_HEADS:
        name += "-p" + heads.replace("P", "").replace("-", "")  # "P3-P4" -> "-p34"
    return name


def grid(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The grid points: name -> knobs (family, width, depth, imgsz, heads, max_channels,
    export_imgsz), the product of ``model.families`` x ``widths`` x ``depths`` x ``imgsz`` x
    ``heads`` in config order.

    A depth of "stock" (the default) is each family's own "n" depth (:func:`model.stock_depth`:
    0.33 for YOLOv8, 0.50 for YOLO11 and YOLO26); a number is the depth multiple given to every
    family. ``imgsz`` is the training input size (``model.imgsz``, default ``[train.imgsz]``);
    ``export_imgsz`` is the size exported, timed and scored: ``export.imgsz`` when set, else
    the variant's own.
    """
    cfg = config["model"]
    base_imgsz = int(config.get("train", {}).get("imgsz", 640))
    export_imgsz = config.get("export", {}).get("imgsz")
    out: dict[str, dict[str, Any]] = {}
    for family in cfg.get("families") or [model.DEFAULT_FAMILY]:
        if family not in model.FAMILIES:
            raise ConfigError(f"model.families: unknown family {family!r}; expected some of {list(model.FAMILIES)}")
        for width in cfg["widths"]:
            for depth in cfg.get("depths") or ["stock"]:
                depth = model.stock_depth(family) if depth == "stock" else float(depth)
                for imgsz in cfg.get("imgsz") or [base_imgsz]:
                    for heads in cfg.get("heads") or [STOCK_HEADS]:
                        size = None if imgsz == base_imgsz else imgsz
                        name = variant_name(width, depth, size, heads, family)
                        if name in out:
                            raise ConfigError(f"model: {name} appears twice in the grid (duplicate values)")
                        out[name] = {
                            "family": family,
                            "width": float(width),
                            "depth": depth,
                            "imgsz": int(imgsz),
                            "heads": str(heads),
                            "max_channels": int(cfg.get("max_channels", 1024)),
                            "export_imgsz": int(export_imgsz or imgsz),
                        }
    return out


def distill_pairs(config: dict[str, Any], points: dict[str, dict[str, Any]]) -> dict[str, str]:
    """``train.distill``: student grid point -> teacher grid point ({} when distillation is off).

    The students are ``train.distill.students``, default every other grid point whose detection
    heads match the teacher's (ultralytics distils feature level by feature level). Raises
    ConfigError naming the key for a teacher or student outside the grid, a teacher among its
    students, or heads that differ.
    """
    spec = config.get("train", {}).get("distill")
    if not spec:
        return {}
    teacher = spec["teacher"]
    if teacher not in points:
        raise ConfigError(f"train.distill.teacher: {teacher!r} is not a grid point; the grid has {', '.join(points)}")
    heads = points[teacher]["heads"]
    students = spec.get("students") or [v for v in points if v != teacher and points[v]["heads"] == heads]
    for student in students:
        if student not in points:
            raise ConfigError(
                f"train.distill.students: {student!r} is not a grid point; the grid has {', '.join(points)}"
            )
        if student == teacher:
            raise ConfigError(f"train.distill.students: {student!r} is the teacher itself")
        if points[student]["heads"] != heads:
            raise ConfigError(
                f"train.distill.students: {student!r} has heads {points[student]['heads']}, the teacher "
                f"{teacher!r} {heads}: ultralytics distils level by level, so they must match"
            )
    if not students:
        raise ConfigError(f"train.distill: no grid point besides the teacher {teacher!r} has its heads ({heads})")
    return {s: teacher for s in students}


def variants(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every variant: the grid points (:func:`grid`), then each distilled student
    (:func:`distill_pairs`) as "<student>-kd" with its twin's knobs plus ``twin`` and
    ``distill`` ({"teacher", "weight"}). A distilled student is its own variant: trained,
    exported, timed and scored like any other."""
    out = grid(config)
    spec = config.get("train", {}).get("distill") or {}
    for student, teacher in distill_pairs(config, out).items():
        out[student + KD_SUFFIX] = {
            **out[student],
            "twin": student,
            "distill": {"teacher": teacher, "weight": float(spec.get("weight", 6.0))},
        }
    return out


def seeds(config: dict[str, Any]) -> list[int]:
    """Training seeds: ``train.seeds`` when given, else ``[train.seed]``. The first is the
    primary seed, whose model is exported and benchmarked."""
    train = config.get("train", {})
    return [int(s) for s in (train.get("seeds") or [train.get("seed", 0)])]


def run_name(variant: str, seed: int, primary: int) -> str:
    """Training run of ``variant`` at ``seed``: the variant's own name for the primary seed
    (its results folder does not move when seeds are added), else "<variant>-seed<seed>"."""
    return variant if seed == primary else f"{variant}-seed{seed}"


def training_runs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every training: run name -> {"variant", "seed", "primary"} (variants x seeds)."""
    all_seeds = seeds(config)
    return {
        run_name(v, s, all_seeds[0]): {"variant": v, "seed": s, "primary": s == all_seeds[0]}
        for v in variants(config)
        for s in all_seeds
    }


def train_settings(config: dict[str, Any], variant: dict[str, Any], seed: int) -> dict[str, Any]:
    """ultralytics training settings of one run: ``train`` with the run's seed and the variant's
    input size (``threads``, ``seeds`` and ``distill`` are the workflow's, not ultralytics').

    A distilled student's settings add ``distill``: its teacher's training record (the primary
    seed's: the teacher variant's model) and the loss weight; plain runs' settings do not
    mention distillation, so switching it on retrains none of them.
    """
    out = {k: v for k, v in config["train"].items() if k not in ("threads", "seeds", "distill")}
    out.update(seed=int(seed), imgsz=int(variant["imgsz"]))
    teacher = teacher_of(variant)
    if teacher:
        out["distill"] = {"teacher": teacher, "weight": variant["distill"]["weight"]}
    return canonical(out)


def teacher_of(variant: dict[str, Any]) -> str | None:
    """The training record a variant's runs wait for: for a distilled student (its knobs from
    :func:`variants`), the teacher variant's primary run; else None."""
    return layout.train_info(variant["distill"]["teacher"]) if variant.get("distill") else None


def bench_threads(config: dict[str, Any], cpu_count: int | None = None) -> list[int]:
    """Benchmark thread counts with "all" resolved to this machine's cores; sorted, unique."""
    cores = cpu_count or os.cpu_count() or 1
    out = {cores if t == "all" else int(t) for t in config["benchmark"]["threads"]}
    return sorted(out)


def bench_targets(config: dict[str, Any]) -> list[str]:
    """Benchmark targets of the configured export formats (:func:`yoloshrink.targets.targets_for`):
    the PyTorch checkpoint, then each format's targets (OpenVINO also asked for f32 and bf16)."""
    return targets_for(list(config["export"]["formats"]))


def control_targets(targets: list[str]) -> list[str]:
    """The A/A control's targets: per runtime, the first of ``targets`` it runs (the baseline
    timed against itself there checks the speed-up's method on that runtime)."""
    first: dict[str, str] = {}
    for t in targets:
        first.setdefault(TARGETS[t].runtime, t)
    return list(first.values())


def timing(config: dict[str, Any], *extra: str) -> dict[str, Any]:
    """The benchmark keys a timing job uses (:data:`TIMING_KEYS` and ``extra`` ones), key-sorted."""
    return canonical({k: config["benchmark"][k] for k in (*TIMING_KEYS, *extra)})


#: How "auto" times its candidates unless ``export.quantize.timing`` says otherwise: the
#: benchmark's method (:class:`yoloshrink.bench.timing.TimingPlan`) at amounts of its own, so
#: that re-timing the benchmark re-quantizes nothing.
QUANTIZE_TIMING = {
    "warmup": 5,
    "warmup_max": 100,
    "block": 5,
    "sessions": 2,
    "min_rounds": 10,
    "min_runs": 50,
    "min_seconds": 4.0,
    "max_runs": 2000,
}


def quantize_settings(config: dict[str, Any], fmt: str, cpu_count: int | None = None) -> dict[str, Any]:
    """What the quantize rule of INT8 format ``fmt`` uses (:func:`yoloshrink.quantize.select`):
    ``choose`` and its ``candidates`` and, for "auto", the ``threads`` the candidates are timed
    on (``export.quantize.threads``, else the smallest benchmark thread count), the accuracy
    ``tolerance`` (``benchmark.parity_tolerance``) and the ``timing`` (:data:`QUANTIZE_TIMING`
    updated with ``export.quantize.timing``)."""
    q = config["export"].get("quantize") or {}
    choose = (q.get("choose") or {}).get(fmt, "auto")
    try:
        out = quantize.resolve(fmt, choose, (q.get("candidates") or {}).get(fmt), "export.quantize")
    except quantize.QuantizeConfigError as exc:
        raise ConfigError(str(exc)) from None
    if choose == "auto":
        out["threads"] = int(q.get("threads") or bench_threads(config, cpu_count)[0])
        out["tolerance"] = config["benchmark"]["parity_tolerance"]
        out["timing"] = {**QUANTIZE_TIMING, **(q.get("timing") or {})}
    return canonical(out)


def dataset_yaml(config: dict[str, Any]) -> str:
    """The data.yaml the canonical dataset is made from, for the configured source.

    builtin: the generated set; folder: ``dataset.path``; zip and roboflow:
    ``resources/datasets/<name>/data.yaml``, the folder the source is unpacked to.
    """
    ds = config["dataset"]
    if ds["source"] == "builtin":
        return layout.BUILTIN_YAML
    if ds["source"] in ("zip", "roboflow"):
        from yoloshrink.datasets.sources import dataset_name

        return layout.source_dataset_yaml(dataset_name(ds))
    return ds["path"]


def check(config: dict[str, Any], base_dir: Path) -> None:
    """Checks across keys, after schema validation; raises ConfigError naming the key."""
    problems: list[str] = []
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
    export = config.get("export") or {}
    q = export.get("quantize") or {}
    int8 = [f for f in EXPORTS if EXPORTS[f].calibrated]
    named = []  # every INT8 format a setting names, checked whether or not it is exported
    for key in ("choose", "candidates"):
        for fmt in q.get(key) or {}:
            if fmt not in int8:
                hint = difflib.get_close_matches(str(fmt), int8, n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(f"export.quantize.{key}: {fmt!r} is not an INT8 format{also}; expected one of {int8}")
            named.append(fmt)
    for fmt in dict.fromkeys([*(f for f in export.get("formats", []) if EXPORTS[f].calibrated), *named]):
        settings = quantize_settings(config, fmt)
        if "timing" in settings:
            problems += TimingPlan.problems(settings["timing"], "export.quantize.timing")
    problems = TimingPlan.problems(config.get("benchmark") or {}, "benchmark") + problems
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(dict.fromkeys(problems)))
    variants(config)


def failed_trainings(runs: list[str], root: Path = Path(".")) -> dict[str, str]:
    """Training runs whose recorded training failed: run -> error (these are not retried by themselves)."""
    import json

    out = {}
    for v in runs:
        info = Path(root) / layout.train_info(v)
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
