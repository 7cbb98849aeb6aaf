"""Dataset card: what the canonical dataset holds, as JSON and one figure.

:func:`write_card` (the entry point for the workflow and the report) reads the canonical
``data.yaml``, counts images and boxes per split and class, boxes per image, the distribution
of box sizes (area relative to the image) and image sizes, and writes ``card.json`` and
``card.png``. :func:`card_markdown` renders the card as Markdown tables for a report.
"""

from __future__ import annotations

import itertools
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from yoloshrink.datasets.files import SPLITS, label_path, list_images
from yoloshrink.fsutil import atomic_path, atomic_write_json

#: relative box area histogram edges (log-spaced, 1e-5 .. 1)
AREA_EDGES = [10.0**e for e in (-5, -4.5, -4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0)]
_COCO_SMALL, _COCO_MEDIUM = 32**2, 96**2  # COCO's small/medium/large thresholds in px^2


def _quantiles(values: list[float], qs: tuple[float, ...] = (0.0, 0.1, 0.5, 0.9, 1.0)) -> dict[str, float]:
    """Nearest-rank quantiles of ``values`` as {"p0": .., "p50": ..}; empty for no values."""
    if not values:
        return {}
    s = sorted(values)
    return {f"p{round(q * 100)}": s[min(len(s) - 1, round(q * (len(s) - 1)))] for q in qs}


def _histogram(values: list[float], edges: list[float]) -> list[int]:
    counts = [0] * (len(edges) - 1)
    for v in values:
        for i in range(len(counts)):
            if v < edges[i + 1] or i == len(counts) - 1:
                if v >= edges[i] or i == 0:
                    counts[i] += 1
                break
    return counts


def _image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def split_card(images: list[str], names: dict[int, str]) -> dict[str, Any]:
    """Statistics of one split: images, boxes, per class, boxes per image, sizes."""
    per_class_boxes: Counter[int] = Counter()
    per_class_images: Counter[int] = Counter()
    per_image: list[int] = []
    areas: list[float] = []
    heights: list[float] = []
    size_counts: Counter[str] = Counter()
    coco: Counter[str] = Counter()
    for image in images:
        w, h = _image_size(image)
        size_counts[f"{w}x{h}"] += 1
        boxes = []
        lb = label_path(image)
        if os.path.isfile(lb):
            with open(lb, encoding="utf-8-sig") as f:
                boxes = [line.split() for line in f if line.strip()]
        per_image.append(len(boxes))
        per_class_images.update({int(float(b[0])) for b in boxes})
        for b in boxes:
            cls, bw, bh = int(float(b[0])), float(b[3]), float(b[4])
            per_class_boxes[cls] += 1
            areas.append(bw * bh)
            heights.append(bh * h)
            px = bw * w * bh * h
            coco["small" if px < _COCO_SMALL else "medium" if px < _COCO_MEDIUM else "large"] += 1
    return {
        "images": len(images),
        "boxes": sum(per_image),
        "background_images": sum(n == 0 for n in per_image),
        "per_class": {
            names[i]: {"boxes": per_class_boxes.get(i, 0), "images": per_class_images.get(i, 0)} for i in names
        },
        "boxes_per_image": {
            "mean": (sum(per_image) / len(per_image)) if per_image else 0.0,
            **_quantiles([float(n) for n in per_image]),
            "histogram": dict(sorted(Counter(per_image).items())),
        },
        "box_relative_area": {
            **_quantiles(areas),
            "edges": AREA_EDGES,
            "histogram": _histogram(areas, AREA_EDGES),
            "coco_size": {k: coco.get(k, 0) for k in ("small", "medium", "large")},
        },
        "box_height_px": {k: round(v, 1) for k, v in _quantiles(heights, (0.05, 0.5, 0.95)).items()},
        "image_sizes": dict(size_counts.most_common()),
    }


def dataset_card(data_yaml: Path) -> dict[str, Any]:
    """The card of a dataset given by its (canonical) ``data_yaml``."""
    data = yaml.safe_load(Path(data_yaml).read_text())
    names = {
        int(k): str(v)
        for k, v in (data["names"].items() if isinstance(data["names"], dict) else enumerate(data["names"]))
    }
    root = Path(data.get("path") or Path(data_yaml).parent)
    splits = {}
    for split in SPLITS:
        if data.get(split):
            entries = data[split] if isinstance(data[split], list) else [data[split]]
            splits[split] = split_card(list_images([str(root / e) for e in entries]), names)
    return {"data_yaml": str(Path(data_yaml).resolve()), "names": names, "splits": splits}


def plot_card(card: dict[str, Any], png: Path) -> None:
    """Four panels: boxes per class and split, boxes per image, relative box area, image sizes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = card["splits"]
    names = list(card["names"].values())
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    ax = axes[0][0]
    width = 0.8 / max(1, len(splits))
    for k, (split, s) in enumerate(splits.items()):
        xs = [i + k * width for i in range(len(names))]
        ax.bar(xs, [s["per_class"][n]["boxes"] for n in names], width, label=f"{split} ({s['images']} images)")
    ax.set_xticks([i + width * (len(splits) - 1) / 2 for i in range(len(names))], names, rotation=30, ha="right")
    ax.set_title("boxes per class")
    ax.legend(fontsize=8)
    ax = axes[0][1]
    for split, s in splits.items():
        hist = {int(k): v for k, v in s["boxes_per_image"]["histogram"].items()}
        total = max(1, s["images"])
        xs = sorted(hist)
        ax.plot(xs, [hist[x] / total for x in xs], marker="o", label=split)
    ax.set_title("boxes per image (share of images)")
    ax.set_xlabel("boxes in the image")
    ax.legend(fontsize=8)
    ax = axes[1][0]
    centers = [math.sqrt(a * b) for a, b in itertools.pairwise(AREA_EDGES)]
    for split, s in splits.items():
        hist = s["box_relative_area"]["histogram"]
        total = max(1, sum(hist))
        ax.plot(centers, [h / total for h in hist], marker="o", label=split)
    ax.set_xscale("log")
    ax.set_title("box area / image area (share of boxes)")
    ax.legend(fontsize=8)
    ax = axes[1][1]
    sizes: Counter[str] = Counter()
    for s in splits.values():
        sizes.update(s["image_sizes"])
    top = sizes.most_common(8)
    ax.set_title("image sizes (w x h, all splits)")
    if len(top) == 1:  # one bar says less than a sentence
        ax.axis("off")
        ax.text(0.5, 0.5, f"all {top[0][1]} images are {top[0][0]} px", ha="center", va="center", fontsize=12)
    else:
        ax.barh([k for k, _ in top][::-1], [v for _, v in top][::-1])
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def write_card(data_yaml: Path, card_json: Path, card_png: Path | None = None) -> dict[str, Any]:
    """Compute the card of ``data_yaml``; write it to ``card_json`` (and the figure to ``card_png``)."""
    card = dataset_card(data_yaml)
    if card_png is not None:
        plot_card(card, card_png)
    atomic_write_json(card_json, card)
    return card


def card_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown: one table of images and boxes per split and class, one of sizes."""
    names = list(card["names"].values())
    lines = [
        "| split | images | background | boxes | boxes/image | "
        + " | ".join(f"{n} boxes (images)" for n in names)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(names),
    ]
    for split, s in card["splits"].items():
        per = " | ".join(f"{s['per_class'][n]['boxes']} ({s['per_class'][n]['images']})" for n in names)
        lines.append(
            f"| {split} | {s['images']} | {s['background_images']} | {s['boxes']} | "
            f"{s['boxes_per_image']['mean']:.2f} | {per} |"
        )
    lines += [
        "",
        "| split | box area / image p10 | p50 | p90 | box height px p5 | p50 | p95 | COCO small / medium / large "
        "| image sizes |",
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for split, s in card["splits"].items():
        a = s["box_relative_area"]
        c = a["coco_size"]
        hp = s.get("box_height_px", {})
        sizes = ", ".join(f"{k} ({v})" for k, v in list(s["image_sizes"].items())[:3])
        lines.append(
            f"| {split} | {a.get('p10', 0):.4f} | {a.get('p50', 0):.4f} | {a.get('p90', 0):.4f} | "
            f"{hp.get('p5', 0):.1f} | {hp.get('p50', 0):.1f} | {hp.get('p95', 0):.1f} | "
            f"{c['small']} / {c['medium']} / {c['large']} | {sizes} |"
        )
    return "\n".join(lines) + "\n"
