"""Dataset validation: every image decoded, every label line checked, leakage between splits.

:func:`validate` reads a dataset (the dict of :func:`yoloshrink.datasets.canonical.load_source_yaml`) and
returns a JSON-able report. Problems that make an image unusable (its file, or its label file)
are *issues* and exclude the image; images without a label file are backgrounds (allowed,
counted); label files without an image are issues of their own (nothing to exclude). The same
image content in two splits is leakage: the copy in the later split (train < val < test) is the
issue. :func:`apply_policy` then stops (``strict``) or lets the run go on without the excluded
images (``lenient``). The source is only read, never modified.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from yoloshrink.datasets.canonical import load_source_yaml, nc_problem
from yoloshrink.datasets.files import SPLITS, DatasetError, label_path, list_images
from yoloshrink.fsutil import atomic_write_json, atomic_write_text

MIN_IMAGE_SIDE = 10  # ultralytics refuses images with a side under 10 px
_EPS = 1e-6


@dataclass(frozen=True)
class Issue:
    """One offending file: its split, path and the reason, e.g. "line 3: class 7 not in names".

    ``excluded``: the file is left out of the canonical set (under ``lenient``; under ``strict``
    nothing is built, and it would be).
    """

    split: str
    file: str
    reason: str
    excluded: bool = True


def check_image(data: bytes) -> tuple[tuple[int, int] | None, str | None]:
    """(width, height) of an encoded image and None, or None and why it cannot be used."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or "").lower()
            im.load()
            size = im.size
    except Exception as exc:
        kind = "truncated" if "truncated" in str(exc) else "unreadable"
        return None, f"{kind} image ({type(exc).__name__}: {exc})"
    if fmt in {"jpeg", "jpg", "mpo"} and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None, "truncated image (JPEG without its end-of-image marker)"
    if min(size) < MIN_IMAGE_SIDE:
        return None, f"image too small ({size[0]}x{size[1]} px)"
    return size, None


def check_label_text(text: str, nc: int) -> tuple[list[list[float]], list[str]]:
    """Parse YOLO detection label text; return the boxes (cls, x, y, w, h) and the problems."""
    boxes: list[list[float]] = []
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5:
            if len(fields) >= 7 and len(fields) % 2 == 1:
                problems.append(f"line {n}: segment (polygon) label, expected a box 'class x y w h'")
            else:
                problems.append(f"line {n}: {len(fields)} fields, expected 5 (class x y w h)")
            continue
        try:
            values = [float(v) for v in fields]
        except ValueError:
            problems.append(f"line {n}: not a number in {line.strip()!r}")
            continue
        cls, x, y, w, h = values
        if cls != int(cls) or not 0 <= cls < nc:
            problems.append(f"line {n}: class {fields[0]} not in names (0..{nc - 1})")
            continue
        if any(v < -_EPS or v > 1 + _EPS for v in (x, y, w, h)):
            problems.append(f"line {n}: coordinates outside [0, 1]: {' '.join(fields[1:])}")
            continue
        if w <= _EPS or h <= _EPS:
            problems.append(f"line {n}: zero-size box: {' '.join(fields[1:])}")
            continue
        boxes.append(values)
    return boxes, problems


def _read_label(path: str, nc: int) -> tuple[list[list[float]], list[str]]:
    try:
        with open(path, encoding="utf-8-sig") as f:
            return check_label_text(f.read(), nc)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"unreadable label file ({exc})"]


def _orphan_labels(images: list[str]) -> list[str]:
    """Label files in the label folders of ``images`` that belong to no image."""
    wanted = {label_path(i) for i in images}
    folders = {os.path.dirname(p) for p in wanted}
    orphans = []
    for folder in sorted(folders):
        if os.path.isdir(folder):
            orphans += [p for p in glob.glob(os.path.join(folder, "*.txt")) if p not in wanted]
    return sorted(orphans)


def validate(data: dict[str, Any], data_yaml: Path | str = "data.yaml") -> dict[str, Any]:
    """Check every image and label of a dataset; return the report (see the module docstring).

    Report keys: ``splits`` (per split: images, usable, background, boxes, excluded,
    orphan_labels), ``issues`` (list of {split, file, reason, excluded}: every problem, and
    every file left out of the canonical set with the reason), ``excluded`` (image paths left
    out by the lenient policy), ``leaks`` (images whose content also appears in an earlier split),
    ``warnings`` (problems of the dataset as a whole, e.g. ``nc`` disagreeing with ``names`` in
    ``data_yaml``: strict stops on them, lenient carries them into the report).
    """
    nc = len(data["names"])
    warnings = [w for w in [nc_problem(data, Path(data_yaml))] if w]
    issues: list[Issue] = []
    excluded: set[str] = set()
    seen: dict[str, tuple[str, str]] = {}  # content hash -> (split, image)
    splits: dict[str, dict[str, int]] = {}
    leaks = 0
    for split in SPLITS:
        if split not in data:
            continue
        images = list_images(data[split])
        stats = {"images": len(images), "usable": 0, "background": 0, "boxes": 0, "excluded": 0, "orphan_labels": 0}
        for image in images:
            try:
                raw = Path(image).read_bytes()
            except OSError as exc:
                raw, problems = b"", [f"unreadable image ({exc})"]
            else:
                _, err = check_image(raw)
                problems = [err] if err else []
            lb = label_path(image)
            boxes: list[list[float]] = []
            has_label = os.path.isfile(lb)
            label_problems: list[str] = []
            if has_label:
                boxes, label_problems = _read_label(lb, nc)
                issues += [Issue(split, lb, p) for p in label_problems]
            digest = hashlib.sha256(raw).hexdigest() if raw else None
            if digest and digest in seen and seen[digest][0] != split:
                problems.append(f"same image as {seen[digest][1]} in split {seen[digest][0]} (leakage)")
                leaks += 1
            elif digest:
                seen.setdefault(digest, (split, image))
            issues += [Issue(split, image, p) for p in problems]
            if label_problems:  # the image goes with its label file
                issues.append(Issue(split, image, f"left out with its label file {lb}: {label_problems[0]}"))
            elif problems and has_label:  # and a good label file goes with its image
                issues.append(Issue(split, lb, f"left out with its image {image}: {problems[0]}"))
            if problems or label_problems:
                excluded.add(image)
                stats["excluded"] += 1
                continue
            stats["usable"] += 1
            stats["boxes"] += len(boxes)
            stats["background"] += not boxes
        orphans = _orphan_labels(images)
        stats["orphan_labels"] = len(orphans)
        issues += [Issue(split, p, "label file without an image") for p in orphans]
        splits[split] = stats
    return {
        "splits": splits,
        "issues": [asdict(i) for i in issues],
        "excluded": sorted(excluded),
        "leaks": leaks,
        "warnings": warnings,
    }


def apply_policy(report: dict[str, Any], policy: str, limit: int = 30) -> None:
    """Raise DatasetError listing the offending files under ``strict``; do nothing under ``lenient``."""
    if policy not in ("strict", "lenient"):
        raise ValueError(f"dataset.validation: unknown policy {policy!r}")
    problems = [*report.get("warnings", []), *(f"{i['file']}: {i['reason']}" for i in report["issues"])]
    if policy == "lenient" or not problems:
        return
    lines = [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more (see the validation log)")
    raise DatasetError(
        f"dataset validation failed (dataset.validation: strict), {len(problems)} problem(s):\n"
        + "\n".join(lines)
        + "\nFix the files, or set dataset.validation: lenient to leave them out (and go on with a warning)."
    )


def write_report(report: dict[str, Any], policy: str, json_path: Path, csv_path: Path) -> None:
    """Write the report as JSON and the issues as CSV (split, file, reason), atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["split", "file", "reason", "excluded"])
    for i in report["issues"]:
        writer.writerow([i["split"], i["file"], i["reason"], i["excluded"]])
    atomic_write_text(Path(csv_path), buf.getvalue())
    atomic_write_json(Path(json_path), {"policy": policy, **report})


def validate_dataset(source_yaml: Path, json_path: Path, csv_path: Path, policy: str) -> dict[str, Any]:
    """Validate the dataset of ``source_yaml``, write the report, then apply ``policy``.

    Under ``strict`` with problems the report is still written, to a ``.failed`` sibling, for
    reading; the job output is not created, so Snakemake stops here.
    """
    report = validate(load_source_yaml(source_yaml), source_yaml)
    for split in ("train", "val"):
        if split in report["splits"] and report["splits"][split]["images"] == 0:
            raise DatasetError(f"{source_yaml}: the {split} split holds no images")
    for warning in report["warnings"]:
        print(f"WARNING: {warning}")
    if policy == "strict" and (report["issues"] or report["warnings"]):
        json_path, csv_path = Path(json_path), Path(csv_path)
        write_report(report, policy, json_path.with_suffix(".failed.json"), csv_path.with_suffix(".failed.csv"))
    else:
        write_report(report, policy, json_path, csv_path)
        for stale in (Path(json_path).with_suffix(".failed.json"), Path(csv_path).with_suffix(".failed.csv")):
            stale.unlink(missing_ok=True)
    apply_policy(report, policy)
    return report
