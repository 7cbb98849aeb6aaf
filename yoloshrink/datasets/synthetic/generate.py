"""Writing a YOLO-format dataset (images, labels, data.yaml) and the command-line interface."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import cv2
import numpy as np

from yoloshrink.datasets.synthetic.common import CLASS_NAMES, Box
from yoloshrink.datasets.synthetic.render import render_scene
from yoloshrink.fsutil import atomic_write_text

# The first line of the package docstring, the CLI's description.
_DESCRIPTION = 'Deterministic synthetic stand-in for the Roboflow "CSGO AIMBOT" dataset (classes CT and T).'

_SPLIT_IDS: Mapping[str, int] = MappingProxyType({"train": 0, "val": 1, "test": 2})


def _format_labels(boxes: list[Box]) -> str:
    """YOLO label text: one "cls xc yc w h" line per box, six decimals."""
    return "".join(f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n" for c, x, y, w, h in boxes)


def _clear_split(split_dir: Path) -> None:
    """Remove images, labels and an ultralytics label cache left by an earlier run."""
    for sub, ext in (("images", ".jpg"), ("labels", ".txt")):
        folder = split_dir / sub
        if folder.is_dir():
            for p in folder.iterdir():
                if p.suffix == ext and p.stem.isdigit() and len(p.stem) == 6:
                    p.unlink()
    for cache in split_dir.glob("*.cache"):
        cache.unlink()


def _write_data_yaml(out_dir: Path, splits: list[str]) -> None:
    """Write data.yaml atomically (see :func:`yoloshrink.fsutil.atomic_write_text`)."""
    lines = [f"path: {json.dumps(str(out_dir))}"]
    lines += [f"{s}: {s}/images" for s in splits]
    lines += ["names:"] + [f"  {i}: {n}" for i, n in enumerate(CLASS_NAMES)]
    lines += [f"nc: {len(CLASS_NAMES)}"]
    atomic_write_text(out_dir / "data.yaml", "\n".join(lines) + "\n")


def _write_split(out_dir: Path, split: str, n: int, seed: int, size: tuple[int, int]) -> dict:
    """Render and write one split; returns its summary."""
    split_dir = out_dir / split
    _clear_split(split_dir)
    img_dir, lbl_dir = split_dir / "images", split_dir / "labels"
    img_dir.mkdir(parents=True, exist_ok=True)
    lbl_dir.mkdir(parents=True, exist_ok=True)
    per_class = dict.fromkeys(CLASS_NAMES, 0)
    n_boxes = 0
    for i in range(n):
        rng = np.random.default_rng([seed, _SPLIT_IDS[split], i])
        img, boxes = render_scene(rng, size[0], size[1])
        quality = int(rng.integers(70, 96))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {split} image {i}")
        (img_dir / f"{i:06d}.jpg").write_bytes(buf.tobytes())
        (lbl_dir / f"{i:06d}.txt").write_text(_format_labels(boxes), encoding="utf-8")
        n_boxes += len(boxes)
        for b in boxes:
            per_class[CLASS_NAMES[b[0]]] += 1
    return {"images": n, "boxes": n_boxes, "per_class": per_class}


def generate_dataset(
    out_dir: Path,
    n_train: int,
    n_val: int,
    seed: int = 0,
    image_size: tuple[int, int] = (320, 240),
    n_test: int = 0,
) -> dict:
    """Write a YOLO-format dataset: out_dir/{train,val[,test]}/{images,labels}/NNNNNN.jpg|.txt
    and, last and atomically, out_dir/data.yaml (absolute ``path``, split folders, names, nc).

    Returns {"splits": {split: {"images", "boxes", "per_class": {"CT", "T"}}}, "seed",
    "image_size": [w, h]}. Same arguments give byte-identical files.
    """
    if n_train < 0 or n_val < 0 or n_test < 0:
        raise ValueError("split sizes must be >= 0")
    width, height = int(image_size[0]), int(image_size[1])
    if width < 32 or height < 32:
        raise ValueError(f"image_size must be at least 32x32, got {image_size}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "data.yaml").unlink(missing_ok=True)
    splits = [("train", n_train), ("val", n_val)] + ([("test", n_test)] if n_test > 0 else [])
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        summary = {s: _write_split(out_dir, s, n, seed, (width, height)) for s, n in splits}
    finally:
        cv2.setNumThreads(threads)
    _write_data_yaml(out_dir, [s for s, _ in splits])
    return {"splits": summary, "seed": seed, "image_size": [width, height]}


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m yoloshrink.datasets.synthetic OUT --train N --val M --seed S``."""
    ap = argparse.ArgumentParser(prog="python -m yoloshrink.datasets.synthetic", description=_DESCRIPTION)
    ap.add_argument("out", type=Path, help="output folder")
    ap.add_argument("--train", type=int, default=400)
    ap.add_argument("--val", type=int, default=100)
    ap.add_argument("--test", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, nargs=2, default=(320, 240), metavar=("W", "H"))
    args = ap.parse_args(argv)
    summary = generate_dataset(args.out, args.train, args.val, args.seed, tuple(args.size), args.test)
    print(json.dumps(summary, indent=2))
    return 0
