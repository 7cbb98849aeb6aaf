"""Datasets: the built-in generated set, and one canonical data.yaml for any source.

The canonical ``data.yaml`` has an absolute ``path`` and absolute split folders, so training
and benchmark jobs do not depend on the working directory or on ultralytics' datasets_dir.
Preparing it also builds ultralytics' ``labels.cache`` per split, once: parallel trainings then
only read the caches instead of racing to write them into the dataset folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from yoloshrink.fsutil import atomic_write_json, atomic_write_text

SPLITS = ("train", "val", "test")


class DatasetError(ValueError):
    """A dataset that cannot be used; the message names the file and the problem."""


def generate_builtin(data_yaml: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Generate the built-in set into the folder of ``data_yaml`` (replacing it whole).

    The set is generated in a sibling temporary folder and renamed into place, so a killed job
    leaves no half-written dataset and a smaller regenerated set leaves no stale images.
    """
    from yoloshrink.datasets.synthetic import generate_dataset

    target = Path(data_yaml).parent.resolve()
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    summary = generate_dataset(
        tmp,
        n_train=int(settings["train"]),
        n_val=int(settings["val"]),
        seed=int(settings["seed"]),
        image_size=tuple(settings["image_size"]),
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    data = yaml.safe_load((target / "data.yaml").read_text())
    data["path"] = str(target)
    atomic_write_text(target / "data.yaml", yaml.safe_dump(data, sort_keys=False))
    return summary


def _resolve_split(value: str | list[str], root: Path, yaml_dir: Path) -> list[Path]:
    """Absolute folders of one split entry (a string or a list), as ultralytics would find them."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        p = Path(item)
        if not p.is_absolute():
            candidates = [root / p, yaml_dir / p]
            p = next((c.resolve() for c in candidates if c.exists()), (root / p).resolve())
        out.append(p)
    return out


def load_source_yaml(path: Path) -> dict[str, Any]:
    """Read a source data.yaml into canonical form: absolute ``path`` and split folders, names.

    Accepts ultralytics' form (``path`` + relative splits), Roboflow's (splits like
    ``../train/images`` relative to the yaml, ``valid`` as the val folder) and lists of folders.
    Raises DatasetError naming the file and key when something is missing.
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
        for folder in folders:
            if not folder.is_dir():
                raise DatasetError(f"{path}: {split} folder {folder} does not exist")
        out[split] = [str(f) for f in folders] if len(folders) > 1 else str(folders[0])
    out["names"] = names
    out["nc"] = len(names)
    return out


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


def prepare_dataset(source_yaml: Path, data_yaml: Path, summary_json: Path) -> dict[str, Any]:
    """Write the canonical ``data_yaml`` and a ``summary_json`` of counts for ``source_yaml``."""
    data = load_source_yaml(source_yaml)
    stats = build_label_caches(data)
    for split in ("train", "val"):
        if stats[split]["images"] == 0:
            raise DatasetError(f"{source_yaml}: the {split} split holds no images")
    atomic_write_json(summary_json, {"source": str(Path(source_yaml).resolve()), "splits": stats})
    atomic_write_text(data_yaml, yaml.safe_dump(data, sort_keys=False))
    return data
