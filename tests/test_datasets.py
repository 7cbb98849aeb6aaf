"""Dataset sources, validation, card and safety, on tiny crafted exports (seconds in all).

The Roboflow path runs the real ``roboflow`` client against tests/roboflow_server.py on
127.0.0.1: the client reads ``API_URL`` from the environment when it is first imported, so the
module fixture sets it before anything imports ``roboflow``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from roboflow_server import FakeRoboflow

from yoloshrink.datasets import builtin, card, sources, validate
from yoloshrink.datasets import canonical as ydata
from yoloshrink.datasets.files import DatasetError, label_path, list_images

REPO = Path(__file__).resolve().parent.parent
FAKE_KEY = "rfFakeKey-do-not-leak-7Qz9xK2"
NAMES = ["CT", "T"]


# ---------------------------------------------------------------------------------------------
# Crafting exports
# ---------------------------------------------------------------------------------------------


def image_bytes(seed: int, fmt: str = "JPEG", size: tuple[int, int] = (48, 32)) -> bytes:
    """A small random image, distinct per seed."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def roboflow_files(test_split: bool = False, with_yaml_test: bool = True) -> dict[str, bytes]:
    """A Roboflow-layout YOLOv8 export: train/valid[/test] with images/labels, mixed extensions."""
    files: dict[str, bytes] = {}
    exts = [("a.jpg", "JPEG"), ("b.JPG", "JPEG"), ("c.jpeg", "JPEG"), ("d.png", "PNG")]
    seed = 0
    splits = ["train", "valid"] + (["test"] if test_split else [])
    for split in splits:
        for name, fmt in exts:
            seed += 1
            stem = f"{split}_{name.rsplit('.', 1)[0]}"
            files[f"{split}/images/{stem}.{name.rsplit('.', 1)[1]}"] = image_bytes(seed, fmt)
            files[f"{split}/labels/{stem}.txt"] = f"{seed % 2} 0.5 0.5 0.25 0.5\n1 0.2 0.3 0.1 0.1\n".encode()
    # a background image (no label file) in train: allowed, counted
    files["train/images/train_bg.jpg"] = image_bytes(999)
    data = {
        "train": "../train/images",
        "val": "../valid/images",
        **({"test": "../test/images"} if with_yaml_test else {}),
        "nc": 2,
        "names": NAMES,
        "roboflow": {"workspace": "test-ws", "project": "csgo", "version": 3, "license": "CC BY 4.0"},
    }
    files["data.yaml"] = yaml.safe_dump(data).encode()
    files["README.roboflow.txt"] = b"exported from roboflow"
    return files


def make_zip(path: Path, files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    """Write ``files`` (and symlink entries ``name -> target``) into the zip at ``path``."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    return root / "data.yaml"


def all_bytes_under(*roots: Path) -> list[tuple[Path, bytes]]:
    out = []
    for root in roots:
        for p in Path(root).rglob("*"):
            if p.is_file() and not p.is_symlink():
                out.append((p, p.read_bytes()))
    return out


# ---------------------------------------------------------------------------------------------
# Zip source: normalise, missing test split, mixed extensions
# ---------------------------------------------------------------------------------------------


def test_zip_roboflow_layout_without_test_split(tmp_path):
    z = make_zip(tmp_path / "csgo.zip", roboflow_files(test_split=False, with_yaml_test=True))
    target = tmp_path / "resources/datasets/csgo/data.yaml"
    sources.unpack_zip(z, target, sha256=sources.file_sha256(z))
    data = yaml.safe_load(target.read_text())
    assert data["path"] == str(target.parent.resolve())
    assert data["train"] == "train/images" and data["val"] == "valid/images"
    assert "test" not in data  # listed by Roboflow's yaml, absent from the export
    assert data["names"] == {0: "CT", 1: "T"} and data["nc"] == 2
    assert data["roboflow"]["version"] == 3
    prov = json.loads((target.parent / "source.json").read_text())
    assert prov["kind"] == "zip" and prov["sha256"] == sources.file_sha256(z)
    assert not list(target.parent.parent.glob(".csgo.tmp*"))
    loaded = ydata.load_source_yaml(target)
    assert len(list_images(loaded["train"])) == 5  # .jpg .JPG .jpeg .png + background


def test_zip_with_test_split_and_top_folder(tmp_path):
    files = {f"export/{k}": v for k, v in roboflow_files(test_split=True).items()}
    z = make_zip(tmp_path / "x.zip", files)
    target = tmp_path / "ds/x/data.yaml"
    sources.unpack_zip(z, target)
    data = yaml.safe_load(target.read_text())
    assert data["test"] == "test/images"
    assert (target.parent / "test/images/test_b.JPG").is_file()


def test_zip_changed_content_changes_sha(tmp_path):
    z = make_zip(tmp_path / "d.zip", roboflow_files())
    cache = tmp_path / "cache.json"
    h1 = sources.cached_sha256(z, cache)
    os.utime(z, (time.time() + 100, time.time() + 100))  # touched, same content
    assert sources.cached_sha256(z, cache) == h1
    files = roboflow_files()
    files["train/labels/train_a.txt"] = b"0 0.5 0.5 0.2 0.2\n"
    make_zip(z, files)
    assert sources.cached_sha256(z, cache) != h1
    with pytest.raises(DatasetError, match="content changed"):
        sources.unpack_zip(z, tmp_path / "out/d/data.yaml", sha256=h1)


def test_folder_source_mixed_extensions_end_to_end(tmp_path):
    src = write_folder(tmp_path / "src", roboflow_files(test_split=True))
    before = {p: b for p, b in all_bytes_under(tmp_path / "src")}
    out = tmp_path / "results/dataset"
    report = validate.validate_dataset(src, out / "validation.json", out / "excluded.csv", "strict")
    assert report["issues"] == []
    assert report["splits"]["train"]["background"] == 1 and report["splits"]["train"]["images"] == 5
    canonical = ydata.prepare_dataset(src, out / "data.yaml", out / "summary.json", out / "validation.json")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["splits"]["train"]["images"] == 5 and summary["splits"]["val"]["images"] == 4
    assert summary["splits"]["test"]["images"] == 4
    assert Path(canonical["train"]).is_dir() and (out / "canonical/train/labels.cache").is_file()
    # the source is never modified: same files, same bytes, no caches
    assert {p: b for p, b in all_bytes_under(tmp_path / "src")} == before
    c = card.write_card(out / "data.yaml", out / "card.json", out / "card.png")
    assert c["splits"]["train"]["images"] == 5 and c["splits"]["train"]["background_images"] == 1
    assert c["splits"]["train"]["boxes"] == 8
    assert c["splits"]["train"]["image_sizes"] == {"48x32": 5}
    assert sum(c["splits"]["val"]["box_relative_area"]["histogram"]) == 8
    assert (out / "card.png").stat().st_size > 1000
    assert "| train | 5 | 1 | 8 |" in card.card_markdown(c)
    # box heights in pixels: four boxes 0.5 x 32 px high and four 0.1 x 32 px (nearest rank)
    assert c["splits"]["train"]["box_height_px"] == {"p5": 3.2, "p50": 16.0, "p95": 16.0}
    assert "| 3.2 | 16.0 | 16.0 |" in card.card_markdown(c)


# ---------------------------------------------------------------------------------------------
# Validation: each defect, strict and lenient
# ---------------------------------------------------------------------------------------------

DEFECTS = {
    "truncated": ("train/images/train_a.jpg", lambda f: f["train/images/train_a.jpg"][:-40], "truncated image"),
    "unreadable": ("train/images/train_c.jpeg", lambda f: b"not an image at all", "unreadable image"),
    "fields": ("train/labels/train_b.txt", lambda f: b"0 0.5 0.5 0.2\n", "4 fields, expected 5"),
    "class": ("valid/labels/valid_a.txt", lambda f: b"7 0.5 0.5 0.2 0.2\n", "class 7 not in names"),
    "coords": ("train/labels/train_d.txt", lambda f: b"0 1.5 0.5 0.2 0.2\n", "outside [0, 1]"),
    "zero": ("train/labels/train_a.txt", lambda f: b"1 0.5 0.5 0.0 0.2\n", "zero-size box"),
    "segment": ("train/labels/train_b.txt", lambda f: b"0 0.1 0.1 0.5 0.1 0.5 0.5\n", "segment (polygon)"),
    "orphan": ("train/labels/ghost.txt", lambda f: b"0 0.5 0.5 0.2 0.2\n", "label file without an image"),
    "leak": ("valid/images/valid_b.JPG", lambda f: f["train/images/train_b.JPG"], "leakage"),
}
#: the image each defect leaves out (None: nothing to leave out)
EXCLUDED = {
    "truncated": "train/images/train_a.jpg",
    "unreadable": "train/images/train_c.jpeg",
    "fields": "train/images/train_b.JPG",
    "class": "valid/images/valid_a.jpg",
    "coords": "train/images/train_d.png",
    "zero": "train/images/train_a.jpg",
    "segment": "train/images/train_b.JPG",
    "orphan": None,
    "leak": "valid/images/valid_b.JPG",
}


def defective_export(tmp_path: Path, defect: str) -> Path:
    """A Roboflow zip with one defect, unpacked into resources/datasets/<defect>/."""
    files = roboflow_files()
    name, make, _ = DEFECTS[defect]
    files[name] = make(files)
    z = make_zip(tmp_path / f"{defect}.zip", files)
    target = tmp_path / f"resources/datasets/{defect}/data.yaml"
    sources.unpack_zip(z, target)
    return target


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_strict_names_the_offending_file(tmp_path, defect):
    src = defective_export(tmp_path, defect)
    out = tmp_path / "results/dataset"
    name, _, reason = DEFECTS[defect]
    with pytest.raises(DatasetError) as err:
        validate.validate_dataset(src, out / "validation.json", out / "excluded.csv", "strict")
    msg = str(err.value)
    assert Path(name).name in msg and reason in msg and "dataset.validation: lenient" in msg
    assert not (out / "validation.json").exists()  # the job output is not created
    assert (out / "validation.failed.json").is_file()


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_lenient_leaves_the_image_out(tmp_path, defect):
    src = defective_export(tmp_path, defect)
    before = all_bytes_under(src.parent)
    out = tmp_path / "results/dataset"
    report = validate.validate_dataset(src, out / "validation.json", out / "excluded.csv", "lenient")
    _, _, reason = DEFECTS[defect]
    rows = (out / "excluded.csv").read_text()
    assert reason in rows
    bad = EXCLUDED[defect]
    if bad:
        bad_path = str(src.parent.resolve() / bad)
        assert report["excluded"] == [bad_path]
    canonical = ydata.prepare_dataset(src, out / "data.yaml", out / "summary.json", out / "validation.json")
    linked = {os.path.realpath(p) for s in ("train", "val") for p in list_images(canonical[s])}
    assert len(linked) == 9 - (1 if bad else 0)
    if bad:
        assert bad_path not in linked
    assert json.loads((out / "summary.json").read_text())["excluded_images"] == (1 if bad else 0)
    assert all_bytes_under(src.parent) == before  # source untouched


def test_builtin_passes_strict(tmp_path):
    target = tmp_path / "builtin/data.yaml"
    builtin.generate_builtin(target, {"train": 6, "val": 3, "seed": 0, "image_size": [64, 48]})
    out = tmp_path / "results"
    report = validate.validate_dataset(target, out / "v.json", out / "x.csv", "strict")
    assert report["issues"] == [] and report["splits"]["train"]["images"] == 6


# ---------------------------------------------------------------------------------------------
# Zip safety
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "symlinks", "message"),
    [
        ({"../evil.txt": b"x"}, None, "zip-slip"),
        ({"train/../../evil.txt": b"x"}, None, "zip-slip"),
        ({"/etc/evil.txt": b"x"}, None, "absolute path"),
        ({}, {"train/images/link.jpg": "/etc/passwd"}, "symbolic link"),
    ],
)
def test_unsafe_zip_refused(tmp_path, extra, symlinks, message):
    files = {**roboflow_files(), **extra}
    z = make_zip(tmp_path / "bad.zip", files, symlinks)
    target = tmp_path / "resources/datasets/bad/data.yaml"
    with pytest.raises(DatasetError, match=message):
        sources.unpack_zip(z, target)
    assert not target.parent.exists()
    assert not (tmp_path / "evil.txt").exists()
    assert not list((tmp_path / "resources/datasets").glob(".bad.tmp*"))


def test_zip_size_limit(tmp_path):
    files = {**roboflow_files(), "train/images/huge.png": b"\0" * 3_000_000}  # compresses to little
    z = make_zip(tmp_path / "bomb.zip", files)
    with zipfile.ZipFile(z, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pad.bin", b"\0" * 2_000_000)
    target = tmp_path / "resources/datasets/bomb/data.yaml"
    with pytest.raises(DatasetError, match=r"exceeds the limit of 1\.0 MB.*max_unpacked_mb"):
        sources.unpack_zip(z, target, max_unpacked_mb=1)
    assert not target.parent.exists()


# ---------------------------------------------------------------------------------------------
# Roboflow through the real client
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rf_server():
    if "roboflow" in sys.modules and not os.environ.get("API_URL", "").startswith("http://127.0.0.1"):
        pytest.skip("roboflow was imported before API_URL could point at the local server")
    server = FakeRoboflow(api_key=FAKE_KEY).start()
    old = os.environ.get("API_URL")
    os.environ["API_URL"] = server.url
    server.zips[("test-ws", "csgo", 3)] = make_zip_bytes(roboflow_files(test_split=False))
    yield server
    server.stop()
    if old is None:
        os.environ.pop("API_URL", None)
    else:
        os.environ["API_URL"] = old


def make_zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


@pytest.fixture
def rf_key(monkeypatch):
    monkeypatch.setenv("ROBOFLOW_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ROBOFLOW_CONFIG_DIR", "/nonexistent/roboflow.json")
    return FAKE_KEY


def test_roboflow_download_validate_prepare_no_key_on_disk(tmp_path, rf_server, rf_key, capfd):
    target = tmp_path / "resources/datasets/test-ws-csgo-v3-yolov8/data.yaml"
    sources.fetch_roboflow("test-ws", "csgo", 3, "yolov8", target)
    data = yaml.safe_load(target.read_text())
    assert data["train"] == "train/images" and "test" not in data
    prov = json.loads((target.parent / "source.json").read_text())
    assert prov == {**prov, "kind": "roboflow", "workspace": "test-ws", "project": "csgo", "version": 3}
    assert not (target.parent / "roboflow.zip").exists()
    out = tmp_path / "results/dataset"
    validate.validate_dataset(target, out / "validation.json", out / "excluded.csv", "strict")
    ydata.prepare_dataset(target, out / "data.yaml", out / "summary.json", out / "validation.json")
    card.write_card(out / "data.yaml", out / "card.json", out / "card.png")
    for path, content in all_bytes_under(tmp_path):
        assert FAKE_KEY.encode() not in content, f"API key written to {path}"
    captured = capfd.readouterr()
    assert FAKE_KEY not in captured.out + captured.err
    assert any(r.startswith("GET /download/") for r in rf_server.requests)


@pytest.mark.parametrize(
    ("args", "key", "message"),
    [
        (("other-ws", "csgo", 3), FAKE_KEY, "workspace 'other-ws'.*dataset.roboflow.workspace"),
        (("test-ws", "nope", 3), FAKE_KEY, "project 'nope'.*dataset.roboflow.project"),
        (("test-ws", "csgo", 9), FAKE_KEY, "version 9.*dataset.roboflow.version"),
        (("test-ws", "csgo", 3), "rfWrongKey-123abc", "API key.*ROBOFLOW_API_KEY"),
        (("test-ws", "drop", 1), FAKE_KEY, "network error.*Check the network"),
        (("test-ws", "csgo", 3), "", "ROBOFLOW_API_KEY is not set"),
    ],
)
def test_roboflow_errors_are_clear_and_leave_nothing(tmp_path, rf_server, monkeypatch, args, key, message):
    monkeypatch.setenv("ROBOFLOW_API_KEY", key)
    target = tmp_path / "resources/datasets/x/data.yaml"
    with pytest.raises(DatasetError, match=message) as err:
        sources.fetch_roboflow(*args, "yolov8", target)
    assert not target.exists() and not target.parent.exists()
    # nothing left behind: no file anywhere, no folder but resources/datasets (no hidden temp folder)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")} <= {"resources", "resources/datasets"}
    assert FAKE_KEY not in str(err.value) and (not key or key not in str(err.value))


# ---------------------------------------------------------------------------------------------
# The rules: zip caching by content (a dry run in a copy of the workflow)
# ---------------------------------------------------------------------------------------------


def _workdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "config", "envs"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, path / name)
        else:
            shutil.copy2(src, path / name)
    return path


def _snakemake(workdir: Path, *args: str) -> str:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "--cores", "1", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_rules_zip_reruns_on_content_not_mtime(tmp_path):
    wd = _workdir(tmp_path / "wd")
    z = make_zip(tmp_path / "csgo.zip", roboflow_files())
    cfg = ["--config", f'dataset={{"source": "zip", "path": "{z}", "validation": "lenient"}}']
    _snakemake(wd, "results/dataset/validation.json", *cfg)
    assert (wd / "resources/datasets/csgo/data.yaml").is_file()
    later = time.time() + 60
    os.utime(z, (later, later))  # same content, newer mtime
    assert "Nothing to be done" in _snakemake(wd, "-n", "results/dataset/validation.json", *cfg)
    files = roboflow_files()
    files["train/labels/train_a.txt"] = b"0 0.5 0.5 0.2 0.2\n"
    make_zip(z, files)
    dry = _snakemake(wd, "-n", "results/dataset/validation.json", *cfg)
    assert "unpack_zip" in dry and "validate_dataset" in dry


# ---------------------------------------------------------------------------------------------
# Config: where each source lands, and cross-key checks
# ---------------------------------------------------------------------------------------------


def test_dataset_yaml_and_check_per_source(tmp_path):
    from yoloshrink import workflowcfg

    z = make_zip(tmp_path / "csgo.v5i.yolov8.zip", roboflow_files())
    cfg = {"dataset": {"source": "zip", "path": str(z)}, "model": {"widths": [0.25]}}
    assert workflowcfg.dataset_yaml(cfg) == "resources/datasets/csgo.v5i.yolov8/data.yaml"
    workflowcfg.check(cfg, base_dir=REPO)
    cfg["dataset"]["path"] = str(tmp_path / "missing.zip")
    with pytest.raises(workflowcfg.ConfigError, match=r"dataset.path: .*missing.zip.*zip export"):
        workflowcfg.check(cfg, base_dir=REPO)
    rf = {"source": "roboflow", "roboflow": {"workspace": "ws", "project": "csgo", "version": 5, "format": "yolov8"}}
    cfg = {"dataset": rf, "model": {"widths": [0.25]}}
    assert workflowcfg.dataset_yaml(cfg) == "resources/datasets/ws-csgo-v5-yolov8/data.yaml"
    workflowcfg.check(cfg, base_dir=REPO)
    cfg["dataset"] = {**rf, "name": "builtin"}
    with pytest.raises(workflowcfg.ConfigError, match="reserved"):
        workflowcfg.check(cfg, base_dir=REPO)


# ---------------------------------------------------------------------------------------------
# What a hostile user still got: nc against names, the excluded list, errors naming the zip
# ---------------------------------------------------------------------------------------------


def with_nc(files: dict[str, bytes], nc: int) -> dict[str, bytes]:
    data = yaml.safe_load(files["data.yaml"])
    data["nc"] = nc
    return {**files, "data.yaml": yaml.safe_dump(data).encode()}


@pytest.mark.parametrize("source", ["folder", "zip"])
def test_nc_disagreeing_with_names_stops_strict_naming_file_and_both_values(tmp_path, source):
    files = with_nc(roboflow_files(), 3)
    if source == "folder":
        src = write_folder(tmp_path / "src", files)
    else:
        src = tmp_path / "resources/datasets/x/data.yaml"
        sources.unpack_zip(make_zip(tmp_path / "x.zip", files), src)
    out = tmp_path / "results/dataset"
    with pytest.raises(DatasetError) as err:
        validate.validate_dataset(src, out / "validation.json", out / "excluded.csv", "strict")
    assert f"{src.resolve()}: nc is 3 but names lists 2 classes (CT, T)" in str(err.value)
    report = validate.validate_dataset(src, out / "validation.json", out / "excluded.csv", "lenient")
    (warning,) = report["warnings"]
    assert "nc is 3 but names lists 2 classes" in warning
    assert json.loads((out / "validation.json").read_text())["warnings"] == [warning]
    canonical = ydata.prepare_dataset(src, out / "data.yaml", out / "summary.json", out / "validation.json")
    assert canonical["nc"] == 2 and yaml.safe_load((out / "data.yaml").read_text())["nc"] == 2


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_excluded_csv_lists_every_file_left_out_with_its_reason(tmp_path, defect):
    src = defective_export(tmp_path, defect)
    out = tmp_path / "results/dataset"
    validate.validate_dataset(src, out / "validation.json", out / "excluded.csv", "lenient")
    canonical = ydata.prepare_dataset(src, out / "data.yaml", out / "summary.json", out / "validation.json")
    root = src.parent.resolve()
    kept = set()
    for split in ("train", "val"):
        for image in list_images(canonical[split]):
            kept.add(os.path.realpath(image))
            if Path(label_path(image)).is_file():  # a copy: the source label of the linked image
                kept.add(label_path(os.path.realpath(image)))
    source_files = {str(p) for p in root.rglob("*") if p.is_file() and p.parent.name in ("images", "labels")}
    left_out = source_files - kept
    rows = list(csv.DictReader(io.StringIO((out / "excluded.csv").read_text())))
    listed = {r["file"] for r in rows if r["excluded"] == "True"}
    assert left_out and listed == left_out, (left_out, rows)
    assert all(r["excluded"] == "True" and r["reason"] for r in rows)


def test_error_messages_name_the_zip_not_a_temporary_folder(tmp_path):
    target = tmp_path / "resources/datasets/d/data.yaml"
    no_yaml = {k: v for k, v in roboflow_files().items() if k != "data.yaml"}
    outside = roboflow_files()
    outside["data.yaml"] = yaml.safe_dump(
        {"train": "../train/images", "val": "../../elsewhere", "names": NAMES}
    ).encode()
    cases = {
        "empty.zip": ({}, "no data.yaml found in the archive"),
        "no-yaml.zip": (no_yaml, "no data.yaml found in the archive"),
        "missing-outside.zip": (outside, "data.yaml: val folder"),
        "outside.zip": (outside, "lies outside the extracted dataset"),
    }
    for name, (files, message) in cases.items():
        if name == "outside.zip":  # ../../elsewhere from the archive's folder now exists
            os.makedirs(tmp_path / "resources/datasets/elsewhere")
        z = make_zip(tmp_path / name, files)
        with pytest.raises(DatasetError) as err:
            sources.unpack_zip(z, target)
        text = str(err.value)
        assert text.startswith(str(z)) and message in text, text
        assert ".tmp-" not in text and "/export" not in text, text
        assert not target.parent.exists() and not list(target.parent.parent.glob(".*"))


def test_zip_entry_larger_than_declared_is_our_error_naming_the_zip(tmp_path):
    z = tmp_path / "lying.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in roboflow_files().items():
            zf.writestr(name, content)
        zf.writestr("train/images/big.png", b"\1" * 5000)
    raw = bytearray(z.read_bytes())
    name = b"train/images/big.png"
    local = raw.rindex(b"PK\x03\x04", 0, raw.index(name))
    struct.pack_into("<I", raw, local + 22, 100)  # local header: uncompressed size 5000 -> 100
    central = raw.rindex(b"PK\x01\x02", 0, raw.rindex(name))
    struct.pack_into("<I", raw, central + 24, 100)  # central directory: the same
    z.write_bytes(bytes(raw))
    target = tmp_path / "resources/datasets/lying/data.yaml"
    with pytest.raises(DatasetError) as err:
        sources.unpack_zip(z, target)
    text = str(err.value)
    assert text.startswith(f"{z}: entry 'train/images/big.png' is damaged or holds more or less than its declared")
    assert not target.parent.exists()
