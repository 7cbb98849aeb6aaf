"""yoloshrink.layout: records carry their identity; an older version's records are upgraded once."""

from __future__ import annotations

import json

import pytest

from yoloshrink import layout


def test_paths_with_wildcards_and_values():
    assert layout.latency_json() == "results/benchmark/{variant}/{target}/latency_t{threads}.json"
    assert layout.latency_json("w0.25", "onnx", 1) == "results/benchmark/w0.25/onnx/latency_t1.json"
    assert layout.train_info("w0.25-seed1") == "results/train/w0.25-seed1/train_info.json"
    assert str(layout.best_weights(layout.train_info("w0.25"))) == "results/train/w0.25/weights/best.pt"


def test_a_record_without_its_identity_is_refused_and_named(tmp_path):
    with pytest.raises(layout.RecordError, match="a latency record must carry threads"):
        layout.write_record("latency", tmp_path / "l.json", {"variant": "w0.25", "target": "onnx", "status": "ok"})
    (tmp_path / "old.json").write_text(json.dumps({"status": "ok", "p50_ms": 3.0}))
    with pytest.raises(layout.RecordError, match=r"old.json: this latency record lacks variant, target, threads"):
        layout.read_record("latency", tmp_path / "old.json")


def test_upgrade_adds_the_identity_an_older_version_left_to_the_path(tmp_path):
    old = {
        "results/train/w0.25/train_info.json": {"status": "ok", "train_args": {"seed": 0}},
        "results/train/w0.25-seed1/train_info.json": {"status": "ok", "train_args": {"seed": 1}},
        "results/models/w0.25/summary.json": {"parameters": 3011238},
        "results/export/w0.25/onnx-int8/export.json": {"format": "onnx-int8", "status": "ok", "artefact": "m.onnx"},
        "results/benchmark/w0.25/openvino-f32/accuracy.json": {"target": "openvino-f32", "status": "ok"},
        "results/benchmark/w0.25/onnx/latency_t12.json": {"target": "onnx", "status": "ok", "threads": 12},
    }
    for rel, record in old.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(json.dumps(record))
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert len(layout.upgrade(tmp_path)) == 6
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == mtimes  # Snakemake sees nothing newer
    read = {
        rel: layout.read_record(kind, tmp_path / rel)
        for rel, kind in zip(old, ["train_info"] * 2 + ["summary", "export", "accuracy", "latency"], strict=True)
    }
    assert read["results/train/w0.25-seed1/train_info.json"] | {"run": "w0.25-seed1"} == {
        "run": "w0.25-seed1",
        "variant": "w0.25",
        "seed": 1,
        "status": "ok",
        "train_args": {"seed": 1},
    }
    assert read["results/train/w0.25/train_info.json"]["seed"] == 0
    assert read["results/export/w0.25/onnx-int8/export.json"]["variant"] == "w0.25"
    assert read["results/benchmark/w0.25/onnx/latency_t12.json"]["threads"] == 12
    assert layout.upgrade(tmp_path) == []  # once is enough
