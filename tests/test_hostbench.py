"""The deployment bundle and the light host benchmark: a bundle round trip, and each bad input
(truncated, tampered, another commit, a bad host name, a broken or missing runtime) a clear
error or a failed row, with nothing half-written (unit tests on the small detector of
conftest.py; tests/test_workflow.py runs it in a fresh venv without torch)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from yoloshrink import bundle, hostbench, layout

TIMING = {"warmup": 1, "warmup_max": 4, "block": 2, "sessions": 2, "min_rounds": 2, "min_runs": 2, "min_seconds": 0}


@pytest.fixture(scope="module")
def made(detector, tmp_path_factory):
    """A bundle of the detector's four exports (and its manifest)."""
    root = tmp_path_factory.mktemp("bundle")
    summary = root / "summary.json"
    summary.write_text(json.dumps({"variant": "w0.125", "parameters": 1, "gflops_640": 1.0}))
    exports = [Path(detector[f]).parent for f in ("torchscript", "onnx", "openvino", "ncnn")]
    targets = ["torchscript", "onnx", "openvino", "openvino-f32", "ncnn"]
    out = root / "yoloshrink-bundle.tar"
    manifest = bundle.build_bundle(
        out, exports, [summary], Path(detector["images"][0]).parent, {"w0.125": 96}, targets, TIMING, [1]
    )
    return out, manifest


def rebuilt(src: Path, dest: Path, edit) -> Path:
    """``src``'s bundle unpacked, changed by ``edit(folder)`` and packed again as ``dest``."""
    work = dest.with_suffix(".d")
    with tarfile.open(src) as tar:
        tar.extractall(work, filter="data")
    edit(work)
    with tarfile.open(dest, "w") as tar:
        for p in sorted(work.iterdir()):
            tar.add(p, arcname=p.name)
    shutil.rmtree(work)
    return dest


def rechecksum(folder: Path) -> None:
    """Make the manifest agree with the files again (a bundle that is internally consistent)."""
    manifest = json.loads((folder / bundle.MANIFEST).read_text())
    manifest["files"] = {
        p.relative_to(folder).as_posix(): bundle.sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != bundle.MANIFEST
    }
    (folder / bundle.MANIFEST).write_text(json.dumps(manifest))


def test_bundle_holds_every_model_its_references_inputs_and_checksums(made, detector, tmp_path):
    out, manifest = made
    assert [m["target"] for m in manifest["models"]] == ["torchscript", "onnx", "openvino", "openvino-f32", "ncnn"]
    assert all(m["status"] == "ok" for m in manifest["models"])
    assert manifest["timing"] == TIMING and manifest["threads"] == [1]
    assert manifest["code_digest"] == bundle.code_digest()
    opened = bundle.open_bundle(out, tmp_path / "x")
    assert opened == manifest
    inputs = np.load(tmp_path / "x" / manifest["inputs"]["96"])
    n = min(bundle.N_INPUTS, len(detector["images"]))  # the fixture has 6 val images
    assert inputs.shape == (n, 96, 96, 3) and inputs.dtype == np.uint8
    for m in manifest["models"]:
        ref = np.load(tmp_path / "x" / m["reference"])
        assert ref.shape == (n, 1, 6, 189) and np.isfinite(ref).all()
    assert (tmp_path / "x" / "summaries" / "w0.125.json").exists()
    assert "pytorch" not in {m["target"] for m in manifest["models"]}  # a host needs no torch checkpoint


def rows_of(folder: Path) -> list[dict]:
    with open(folder / layout.HOST_CSV, newline="") as f:
        return list(csv.DictReader(f))


def test_host_times_and_checks_every_target_and_writes_one_folder(made, tmp_path, restore_threads):
    out, _ = made
    lines = []
    folder = hostbench.run_host(out, "box-1", tmp_path / "hosts", progress=lines.append)
    assert sorted(p.name for p in folder.iterdir()) == ["bundle.json", "environment.json", layout.HOST_CSV]
    rows = rows_of(folder)
    assert [r["target"] for r in rows] == ["torchscript", "onnx", "openvino", "openvino-f32", "ncnn"]
    for r in rows:
        assert r["status"] == "ok", r
        assert r["host"] == "box-1" and r["threads"] == "1" and r["cpus"] == "0"
        assert 0 < float(r["p50_ci_low_ms"]) <= float(r["p50_ms"]) <= float(r["p50_ci_high_ms"])
        assert float(r["check_score_diff"]) <= 1e-3 or r["precision"] != "f32"
    assert len(lines) == 1 + len(rows) and lines[1].startswith("[1/5] w0.125 torchscript 1 thread(s): p50")
    env = json.loads((folder / "environment.json").read_text())
    assert env["host"] == "box-1" and env["cpu_model"] and env["code_digest"] == bundle.code_digest()
    assert not list((tmp_path / "hosts").glob(".*")), "a temporary folder was left behind"


def test_a_missing_runtime_and_a_broken_one_give_failed_rows_and_the_others_go_on(made, tmp_path, monkeypatch):
    out, _ = made

    def break_onnx(folder: Path) -> None:  # the reference of onnx no longer matches what onnx computes
        ref = folder / "reference" / "w0.125" / "onnx.npy"
        np.save(ref, np.load(ref) + 0.5)
        rechecksum(folder)

    broken = rebuilt(out, tmp_path / "broken.tar", break_onnx)
    monkeypatch.setitem(hostbench.RUNTIME_MODULES, "ncnn", "ncnn_not_installed_here")
    rows = {r["target"]: r for r in rows_of(hostbench.run_host(broken, "box", tmp_path / "hosts", progress=print))}
    assert rows["ncnn"]["status"] == "failed" and rows["ncnn"]["error"] == "ncnn is not installed on this host"
    assert rows["onnx"]["status"] == "failed" and "outputs differ from the training machine's" in rows["onnx"]["error"]
    assert rows["onnx"]["p50_ms"] == ""  # no fast number for a broken runtime
    assert {rows[t]["status"] for t in ("torchscript", "openvino", "openvino-f32")} == {"ok"}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", "not a readable bundle (truncated or not a tar)"),
        ("tamper", "differ from their checksum (tampered?)"),
        ("extra", "not in the manifest (tampered?)"),
        ("missing", "missing (truncated?)"),
        ("commit", "whose timing code differs from this yoloshrink's: install the bundle's commit"),
        ("version", "bundle format 99, this yoloshrink reads 1"),
    ],
)
def test_a_bad_bundle_is_a_clear_error_and_writes_nothing(made, tmp_path, damage, message):
    out, _ = made
    hosts = tmp_path / "hosts"
    earlier = hosts / "box"
    earlier.mkdir(parents=True)
    (earlier / "keep.txt").write_text("an earlier result")
    bad = tmp_path / "bad.tar"
    if damage == "truncate":
        bad.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    else:

        def edit(folder: Path) -> None:
            model = next((folder / "models" / "w0.125" / "onnx").glob("*.onnx"))
            manifest = json.loads((folder / bundle.MANIFEST).read_text())
            if damage == "tamper":
                model.write_bytes(model.read_bytes()[:-1] + b"\0")
            elif damage == "extra":
                (folder / "models" / "extra.bin").write_bytes(b"x")
            elif damage == "missing":
                model.unlink()
            elif damage == "commit":  # a consistent bundle made by other timing code
                manifest.update(code_digest="0" * 64, workflow_commit="abc1234")
            elif damage == "version":
                manifest["format_version"] = 99
            (folder / bundle.MANIFEST).write_text(json.dumps(manifest))

        rebuilt(out, bad, edit)
    with pytest.raises(bundle.BundleError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        hostbench.run_host(bad, "box", hosts, progress=print)
    assert [p.name for p in hosts.iterdir()] == ["box"] and (earlier / "keep.txt").exists()


@pytest.mark.parametrize("name", ["../pi5", "a/b", "", ".hidden", "pi 5", "x" * 65])
def test_a_host_name_with_path_characters_is_refused_before_anything_is_written(made, tmp_path, name):
    with pytest.raises(bundle.BundleError, match="is not a plain name"):
        hostbench.run_host(made[0], name, tmp_path / "hosts", progress=print)
    assert not (tmp_path / "hosts").exists() and not (tmp_path / "pi5").exists()


def test_the_command_line_says_what_is_wrong(made, tmp_path, capsys):
    assert hostbench.main([str(tmp_path / "none.tar"), "--host", "pi5", "--out", str(tmp_path)]) == 2
    assert "no such bundle" in capsys.readouterr().err


def test_a_host_times_each_thread_count_on_its_own_cores(made, tmp_path, restore_threads):
    """After a 1-thread row the 2-thread rows run on two cores again (pinning widens as well as
    narrows), each row records its cores; a thread count the bundle names beyond this host's
    cores is a failed row that says so."""
    from yoloshrink.bench.timing import allowed_cores

    cores = allowed_cores()
    if len(cores) < 2:
        pytest.skip("needs a machine with at least 2 cores")

    def onnx_only(threads: list[int]):  # one model keeps the test short; the files stay checksummed
        return edit_manifest(lambda m: m.update(models=[onnx_entry(m)], threads=threads))

    both = rebuilt(made[0], tmp_path / "both.tar", onnx_only([1, 2]))
    rows = rows_of(hostbench.run_host(both, "box", tmp_path / "hosts", progress=print))
    assert [(r["threads"], r["cpus"]) for r in rows] == [("1", str(cores[0])), ("2", f"{cores[0]},{cores[1]}")]
    env = json.loads((tmp_path / "hosts/box/environment.json").read_text())
    assert env["affinity_cores"] == len(cores)  # the host's cores, not those of the last row timed
    assert all(r["status"] == "ok" for r in rows), rows
    wide = rebuilt(made[0], tmp_path / "wide.tar", onnx_only([1, len(cores) + 1]))
    one, beyond = rows_of(hostbench.run_host(wide, "box", tmp_path / "hosts", progress=print))
    assert one["status"] == "ok" and beyond["status"] == "failed" and "this process may use" in beyond["error"]


@pytest.mark.parametrize("threads", ["0", "-1", "99"])
def test_thread_counts_beyond_the_host_are_refused_by_name(made, tmp_path, capsys, threads):
    hosts = tmp_path / "hosts"
    assert hostbench.main([str(made[0]), "--host", "pi5", "--out", str(hosts), "--threads", "1", threads]) == 2
    assert f"--threads {threads}: this host may use" in capsys.readouterr().err
    assert not hosts.exists()


def edit_manifest(change):
    def edit(folder: Path) -> None:
        manifest = json.loads((folder / bundle.MANIFEST).read_text())
        change(manifest)
        (folder / bundle.MANIFEST).write_text(json.dumps(manifest))

    return edit


def onnx_entry(manifest: dict) -> dict:
    return next(m for m in manifest["models"] if m["target"] == "onnx")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: onnx_entry(m).update(model="/etc/passwd"),
            "models[1].model '/etc/passwd' is not a checksummed file",
        ),
        (lambda m: onnx_entry(m).update(model="../../x.onnx"), "is not a checksummed file of the bundle"),
        (lambda m: onnx_entry(m).update(reference="/etc/passwd"), "reference '/etc/passwd' is not a checksummed file"),
        (lambda m: m["inputs"].update({"96": "/etc/passwd"}), "inputs[96] '/etc/passwd' is not a checksummed file"),
        (lambda m: onnx_entry(m).update(variant="w0.25"), "is not a onnx model of w0.25"),  # w0.125 under w0.25's name
        (lambda m: onnx_entry(m).pop("variant"), "models[1] lacks variant"),
        (lambda m: onnx_entry(m).update(target="openvino"), "target 'openvino' is not a target of format 'onnx'"),
        (lambda m: m["timing"].update(min_runs=9, max_runs=3), "timing.min_runs: 9 is more than timing.max_runs (3)"),
        (lambda m: m["timing"].update(block=0), "timing.block: 0 is not a whole number of at least 1"),
        (lambda m: m.update(threads=[0]), "threads: [0] must be a list of whole numbers of at least 1"),
        (lambda m: m.update(threads="2"), "threads: '2' must be a list"),
    ],
)
def test_a_hostile_manifest_is_a_clear_error_that_writes_nothing(made, tmp_path, change, message):
    hosts = tmp_path / "hosts"
    earlier = hosts / "box"
    earlier.mkdir(parents=True)
    (earlier / "keep.txt").write_text("an earlier result")
    bad = rebuilt(made[0], tmp_path / "bad.tar", edit_manifest(change))
    with pytest.raises(bundle.BundleError, match=re.escape(message)):
        hostbench.run_host(bad, "box", hosts, progress=print)
    assert [p.name for p in hosts.iterdir()] == ["box"] and (earlier / "keep.txt").exists()


def test_a_result_replaces_the_earlier_only_if_a_row_succeeded_and_the_exit_status_says_if_all_did(
    made, tmp_path, monkeypatch, capsys
):
    hosts = tmp_path / "hosts"
    earlier = hosts / "box"
    earlier.mkdir(parents=True)
    (earlier / "keep.txt").write_text("an earlier result")
    for runtime in ("onnxruntime", "openvino", "ncnn", "torch"):  # nothing can run: every row fails
        monkeypatch.setitem(hostbench.RUNTIME_MODULES, runtime, f"{runtime}_not_installed_here")
    args = [str(made[0]), "--host", "box", "--out", str(hosts)]
    assert hostbench.main(args) == 2
    assert "no row succeeded on box" in capsys.readouterr().err and (earlier / "keep.txt").exists()
    monkeypatch.setitem(hostbench.RUNTIME_MODULES, "onnxruntime", "onnxruntime")  # one runtime runs
    assert hostbench.main(args) == 1  # written, but not every row succeeded
    assert "row(s) failed" in capsys.readouterr().err
    assert {r["status"] for r in rows_of(earlier)} == {"ok", "failed"} and not (earlier / "keep.txt").exists()


def test_unpacking_is_capped_and_a_refused_bundle_leaves_no_folder(made, tmp_path, monkeypatch):
    bomb = tmp_path / "zeros.tar.gz"  # 64 MiB of zeros, a few KB compressed
    with tarfile.open(bomb, "w:gz") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 64 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    assert bomb.stat().st_size < 1 << 20
    monkeypatch.setattr(bundle, "MAX_UNPACKED_BYTES", 16 << 20)
    hosts = tmp_path / "new" / "hosts"
    with pytest.raises(bundle.BundleError, match="unpacks to more than 16 MiB"):
        hostbench.run_host(bomb, "box", hosts, progress=print)
    assert not (tmp_path / "new").exists()  # the folders it made are gone again


def test_out_naming_a_file_is_an_error_not_a_traceback(made, tmp_path, capsys):
    file = tmp_path / "hosts"
    file.write_text("not a folder")
    assert hostbench.main([str(made[0]), "--host", "box", "--out", str(file)]) == 2
    assert "is a file: name a folder" in capsys.readouterr().err
