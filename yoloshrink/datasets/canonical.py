"""The canonical dataset: one data.yaml with absolute paths over the usable images of any source.

The canonical ``data.yaml`` has an absolute ``path`` and absolute split folders, so training
and benchmark jobs do not depend on the working directory or on ultralytics' datasets_dir.
Preparing it also builds ultralytics' ``labels.cache`` per split, once: parallel trainings then
only read the caches instead of racing to write them into the dataset folder. The INT8
calibration set is a sample of its train images.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from yoloshrink.datasets.files import SPLITS, DatasetError, label_path, list_images
from yoloshrink.fsutil import atomic_write_json, atomic_write_text, fresh_tmp_dir, publish_dir


def _resolve_split(value: str | list[str], root: Path, yaml_dir: Path) -> list[Path]:
    """Absolute folders of one split entry (a string or a list), as ultralytics would find them."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        p = Path(item)
        if not p.is_absolute():
            candidates = [root / p, yaml_dir / p]
            if str(item).startswith("../"):  # Roboflow: "../train/images" next to data.yaml
                candidates += [root / str(item)[3:], yaml_dir / str(item)[3:]]
            p = next((c.resolve() for c in candidates if c.exists()), (root / p).resolve())
        out.append(p)
    return out


def load_source_yaml(path: Path) -> dict[str, Any]:
    """Read a source data.yaml into canonical form: absolute ``path`` and split folders, names.

    Accepts ultralytics' form (``path`` + relative splits), Roboflow's (splits like
    ``../train/images`` relative to the yaml, ``valid`` as the val folder) and lists of folders.
    A ``test`` entry whose folder does not exist is dropped (Roboflow lists one even when the
    export has no test split). Raises DatasetError naming the file and key when something is
    missing.
    """
    path = Path(path).resolve()
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read data.yaml: {exc}") from exc
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: expected a mapping, got {type(raw).__name__}")
    root = Path(raw.get("path") or path.parent)
    if not root.is_absolute():
        root = (path.parent / root).resolve()
    names = raw.get("names")
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise DatasetError(f"{path}: key 'names' must list the class names")
    names = {int(k): str(v) for k, v in names.items()}
    out: dict[str, Any] = {"path": str(root)}
    for split in SPLITS:
        if raw.get(split) in (None, ""):
            if split in ("train", "val"):
                raise DatasetError(f"{path}: key '{split}' is missing")
            continue
        folders = _resolve_split(raw[split], root, path.parent)
        if split == "test" and not any(f.exists() for f in folders):
            continue
        for folder in folders:
            if not folder.exists():
                raise DatasetError(f"{path}: {split} folder {folder} does not exist")
        out[split] = [str(f) for f in folders] if len(folders) > 1 else str(folders[0])
    out["names"] = names
    out["nc"] = len(names)
    if raw.get("nc") is not None and raw["nc"] != len(names):
        # kept for validation: strict stops on it, lenient carries it as a warning
        out["nc_declared"] = raw["nc"]
    return out


def nc_problem(data: dict[str, Any], data_yaml: Path) -> str | None:
    """The disagreement between a data.yaml's ``nc`` and its ``names`` (from
    :func:`load_source_yaml`), naming the file and both values; None when they agree."""
    if "nc_declared" not in data:
        return None
    return (
        f"{data_yaml}: nc is {data['nc_declared']!r} but names lists {data['nc']} classes "
        f"({', '.join(data['names'].values())}); the workflow uses the {data['nc']} names"
    )


def build_label_caches(data: dict[str, Any], imgsz: int = 640) -> dict[str, dict[str, Any]]:
    """Build ultralytics' label cache of every split; return images, boxes and per-class counts."""
    import numpy as np
    from ultralytics.data.dataset import YOLODataset

    stats: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        if split not in data:
            continue
        ds = YOLODataset(img_path=data[split], imgsz=imgsz, data=data, task="detect", augment=False)
        classes = np.concatenate([lb["cls"].reshape(-1) for lb in ds.labels]) if ds.labels else np.zeros(0)
        stats[split] = {
            "images": len(ds.labels),
            "boxes": int(classes.size),
            "background_images": int(sum(len(lb["cls"]) == 0 for lb in ds.labels)),
            "per_class": {name: int((classes == i).sum()) for i, name in data["names"].items()},
        }
    return stats


def build_canonical(data: dict[str, Any], excluded: set[str], dest: Path) -> dict[str, Any]:
    """Link the usable images of every split into ``dest/<split>/images`` (symlinks to the source)
    and copy their label files to ``dest/<split>/labels``; return the data dict pointing there.

    The source is never written: ultralytics' label caches land in ``dest``, and images left out
    by validation (``excluded``) are simply not linked. Built in a sibling folder, renamed last.
    """
    dest = Path(dest).resolve()
    tmp = fresh_tmp_dir(dest)
    out: dict[str, Any] = {"path": str(dest)}
    for split in SPLITS:
        if split not in data:
            continue
        entries = data[split] if isinstance(data[split], list) else [data[split]]
        for n, entry in enumerate(entries):
            base = Path(entry) if Path(entry).is_dir() else None
            for image in list_images(entry):
                if image in excluded:
                    continue
                rel = Path(image).relative_to(base) if base else Path(Path(image).name)
                if len(entries) > 1:
                    rel = Path(str(n)) / rel
                link = tmp / split / "images" / rel
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(Path(image).resolve(), link)
                label = Path(label_path(image))
                if label.is_file():
                    target = (tmp / split / "labels" / rel).with_suffix(".txt")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(label, target)
        (tmp / split / "images").mkdir(parents=True, exist_ok=True)
        out[split] = str(dest / split / "images")
    out["names"] = data["names"]
    out["nc"] = data["nc"]
    publish_dir(tmp, dest)
    return out


def prepare_dataset(
    source_yaml: Path,
    data_yaml: Path,
    summary_json: Path,
    validation_json: Path | None = None,
    canonical_dir: Path | None = None,
) -> dict[str, Any]:
    """Write the canonical ``data_yaml`` and a ``summary_json`` of counts for ``source_yaml``.

    The canonical splits live in ``canonical_dir`` (default: ``<data_yaml folder>/canonical``):
    symlinks to the source images minus those the validation report (``validation_json``)
    excludes, and copies of their labels. ultralytics' label caches are built there, once.
    """
    data = load_source_yaml(source_yaml)
    excluded: set[str] = set()
    validation: dict[str, Any] = {}
    if validation_json is not None:
        validation = json.loads(Path(validation_json).read_text())
        excluded = set(validation.get("excluded", []))
    canonical_dir = Path(canonical_dir) if canonical_dir else Path(data_yaml).parent / "canonical"
    canonical = build_canonical(data, excluded, canonical_dir)
    stats = build_label_caches(canonical)
    for split in ("train", "val"):
        if stats[split]["images"] == 0:
            raise DatasetError(f"{source_yaml}: the {split} split holds no usable images")
    summary = {
        "source": str(Path(source_yaml).resolve()),
        "source_path": data["path"],
        "splits": stats,
        "excluded_images": len(excluded),
        "validation_policy": validation.get("policy"),
    }
    atomic_write_json(summary_json, summary)
    atomic_write_text(data_yaml, yaml.safe_dump(canonical, sort_keys=False))
    return canonical


def calibration_set(data_yaml: Path, out_dir: Path, n_images: int, seed: int = 0) -> dict[str, Any]:
    """A calibration dataset for INT8 exports: ``n_images`` train images (a seeded sample, in
    name order) with their labels, in ``out_dir/images`` and ``out_dir/labels``, described by
    ``out_dir/data.yaml`` (both splits point at it).

    Calibrating on train images keeps the val split, which scores the INT8 models, unseen. The
    images are links and the labels copies, so ultralytics' ``labels.cache`` for this subset
    lands in ``out_dir``: neither the source dataset nor the canonical train split's cache is
    written. Built in a temporary folder renamed at the end. Returns the yaml's content.
    """
    import random

    data = yaml.safe_load(Path(data_yaml).read_text())
    root = Path(data.get("path") or Path(data_yaml).parent)
    train = _resolve_split(data["train"], root, Path(data_yaml).parent)
    images = [Path(p) for p in list_images([str(f) for f in train])]
    if not images:
        raise ValueError(f"{data_yaml}: no train images to calibrate on")
    chosen = sorted(random.Random(seed).sample(images, min(n_images, len(images))))
    out_dir = Path(out_dir).resolve()
    tmp = fresh_tmp_dir(out_dir)
    (tmp / "images").mkdir()
    (tmp / "labels").mkdir()
    for image in chosen:
        label = label_path(image)
        os.symlink(image.resolve(), tmp / "images" / image.name)
        if Path(label).exists():  # an image without a label file is a background image
            shutil.copyfile(label, tmp / "labels" / Path(label).name)
    content = {
        "path": str(out_dir),
        "train": "images",
        "val": "images",
        "names": data["names"],
        "nc": data.get("nc", len(data["names"])),
        "n_images": len(chosen),
        "seed": seed,
    }
    atomic_write_text(tmp / "data.yaml", yaml.safe_dump(content, sort_keys=False))
    publish_dir(tmp, out_dir)
    return content
