"""The built-in synthetic CSGO-like dataset: layout, label format, statistics, determinism."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from yoloshrink.datasets.synthetic import CLASS_NAMES, generate_dataset, render_scene

N_TRAIN, N_VAL = 12, 6
SIZE = (320, 240)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "data"
    summary = generate_dataset(out, N_TRAIN, N_VAL, seed=3, image_size=SIZE)
    return out, summary


def read_labels(root: Path) -> list[tuple[int, float, float, float, float]]:
    rows = []
    for path in sorted(root.glob("*/labels/*.txt")):
        for line in path.read_text().splitlines():
            fields = line.split()
            assert len(fields) == 5, f"{path}: {line!r}"
            assert all(len(f.split(".")[1]) == 6 for f in fields[1:]), line
            rows.append((int(fields[0]), *map(float, fields[1:])))
    return rows


def test_layout_and_counts(dataset: tuple[Path, dict]) -> None:
    root, summary = dataset
    for split, n in (("train", N_TRAIN), ("val", N_VAL)):
        images = sorted(p.name for p in (root / split / "images").iterdir())
        labels = sorted(p.name for p in (root / split / "labels").iterdir())
        assert images == [f"{i:06d}.jpg" for i in range(n)]
        assert labels == [f"{i:06d}.txt" for i in range(n)]
        s = summary["splits"][split]
        assert s["images"] == n
        assert s["boxes"] == sum(s["per_class"].values())
        n_lines = sum(len(p.read_text().splitlines()) for p in (root / split / "labels").iterdir())
        assert s["boxes"] == n_lines
    assert not (root / "test").exists()
    assert summary["seed"] == 3 and summary["image_size"] == list(SIZE)
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_data_yaml(dataset: tuple[Path, dict]) -> None:
    root, _ = dataset
    data = yaml.safe_load((root / "data.yaml").read_text())
    assert data["path"] == str(root.resolve())
    assert data["train"] == "train/images" and data["val"] == "val/images"
    assert "test" not in data
    assert data["names"] == {0: "CT", 1: "T"} == dict(enumerate(CLASS_NAMES))
    assert data["nc"] == 2


def test_labels_valid_and_plausible(dataset: tuple[Path, dict]) -> None:
    root, _ = dataset
    rows = read_labels(root)
    assert rows, "no boxes at all"
    classes = {r[0] for r in rows}
    assert classes == {0, 1}, "both classes must occur"
    eps = 1e-6
    for _, xc, yc, w, h in rows:
        assert 0 < w <= 1 and 0 < h <= 1
        assert xc - w / 2 >= -eps and xc + w / 2 <= 1 + eps
        assert yc - h / 2 >= -eps and yc + h / 2 <= 1 + eps
    heights_px = np.array([r[4] for r in rows]) * SIZE[1]
    assert 10 <= float(np.median(heights_px)) <= 60
    assert heights_px.min() >= 4


def test_images_decode_at_size(dataset: tuple[Path, dict]) -> None:
    root, _ = dataset
    img = cv2.imread(str(root / "train" / "images" / "000000.jpg"))
    assert img is not None and img.shape == (SIZE[1], SIZE[0], 3)


def test_deterministic_and_seed_dependent(dataset: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = dataset
    # Same seed, a different val count: train must not change (per-image generators).
    again = tmp_path / "again"
    generate_dataset(again, N_TRAIN, 2, seed=3, image_size=SIZE)
    for split, n in (("train", N_TRAIN), ("val", 2)):
        for i in range(n):
            for sub, ext in (("labels", "txt"), ("images", "jpg")):
                a = (root / split / sub / f"{i:06d}.{ext}").read_bytes()
                b = (again / split / sub / f"{i:06d}.{ext}").read_bytes()
                assert a == b, f"{split}/{sub}/{i:06d}.{ext} differs"
    other = tmp_path / "other"
    generate_dataset(other, 3, 1, seed=4, image_size=SIZE)
    for i in range(3):
        a = (root / "train" / "images" / f"{i:06d}.jpg").read_bytes()
        b = (other / "train" / "images" / f"{i:06d}.jpg").read_bytes()
        assert a != b


def test_regenerate_replaces_and_test_split(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate_dataset(out, 4, 2, seed=0, image_size=SIZE)
    summary = generate_dataset(out, 2, 1, seed=0, image_size=SIZE, n_test=2)
    assert len(list((out / "train" / "images").iterdir())) == 2
    assert len(list((out / "train" / "labels").iterdir())) == 2
    assert summary["splits"]["test"]["images"] == 2
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["test"] == "test/images"


def test_render_scene_array_and_boxes() -> None:
    img, boxes = render_scene(np.random.default_rng(7), 200, 150)
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (150, 200, 3)
    for cls, xc, yc, w, h in boxes:
        assert cls in (0, 1)
        assert 0 < w <= 1 and 0 < h <= 1 and 0 <= xc <= 1 and 0 <= yc <= 1
    img2, boxes2 = render_scene(np.random.default_rng(7), 200, 150)
    assert np.array_equal(img, img2) and boxes == boxes2
