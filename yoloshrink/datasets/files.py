"""What a YOLO dataset is made of: its splits, its image files and their label files.

The base module of :mod:`yoloshrink.datasets`: the others (sources, validation, the canonical
set, the card) import it, and it imports none of them. Image formats and label paths are
ultralytics' own (``IMG_FORMATS``, ``img2label_paths``), so a file counts here exactly when
ultralytics would read it.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

#: The splits of a data.yaml, in the order leakage is judged (a copy in a later split is the leak).
SPLITS = ("train", "val", "test")


class DatasetError(ValueError):
    """A dataset that cannot be used; the message names the file and the problem."""


def image_formats() -> frozenset[str]:
    """The image suffixes ultralytics reads (lower case, without the dot)."""
    from ultralytics.data.utils import IMG_FORMATS

    return frozenset(IMG_FORMATS)


def list_images(entry: str | Path | list[str]) -> list[str]:
    """Image files of one split entry (folders searched recursively, or .txt lists), sorted.

    Suffixes are compared in lower case, so .JPG and .Jpeg count. Raises DatasetError naming
    an entry that does not exist.
    """
    formats = image_formats()
    items = entry if isinstance(entry, list) else [entry]
    out: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            files = glob.glob(str(p / "**" / "*.*"), recursive=True)
        elif p.is_file():
            parent = str(p.parent) + os.sep
            lines = [x.strip() for x in p.read_text().splitlines() if x.strip()]
            files = [parent + x[2:] if x.startswith("./") else x for x in lines]
        else:
            raise DatasetError(f"{p}: split entry does not exist")
        out += [f for f in files if f.rpartition(".")[-1].lower() in formats]
    return sorted(set(out))


def label_path(image: str | Path) -> str:
    """ultralytics' label file of an image: the last /images/ becomes /labels/, suffix .txt."""
    from ultralytics.data.utils import img2label_paths

    return img2label_paths([str(image)])[0]


def val_images_dir(data_yaml: Path | str) -> Path:
    """The (first) validation image folder of a canonical data.yaml."""
    import yaml

    data = yaml.safe_load(Path(data_yaml).read_text())
    val = data["val"][0] if isinstance(data["val"], list) else data["val"]
    path = Path(val)
    return path if path.is_absolute() else Path(data["path"]) / path
