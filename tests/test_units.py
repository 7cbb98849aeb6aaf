"""Unit tests of the package's small functions, on known inputs."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from yoloshrink import fsutil, model, offline, workflowcfg
from yoloshrink.bench import roofline, runners


def test_letterbox_and_preprocess_shape():
    img = np.full((120, 160, 3), 200, np.uint8)
    x = runners.preprocess(img, 64)
    assert x.shape == (1, 3, 64, 64) and x.dtype == np.float32
    assert x.max() <= 1.0
    # 160x120 -> 64x48, padded 8 rows top and bottom with grey 114
    assert x[0, 0, 0, 0] == pytest.approx(114 / 255)
    assert x[0, 0, 32, 32] == pytest.approx(200 / 255)


def test_variant_yaml_replaces_scales_and_caps_channels():
    cfg = model.variant_yaml(0.125, 0.33, 512, nc=2)
    assert "scales" not in cfg
    assert cfg["width_multiple"] == 0.125 and cfg["depth_multiple"] == 0.33
    assert cfg["max_channels"] == 512 and cfg["nc"] == 2
    channels = [layer[3][0] for layer in cfg["backbone"] if layer[2] in ("Conv", "C2f", "SPPF")]
    assert max(channels) == 512


@pytest.mark.parametrize(("width", "params", "gflops"), [(0.25, 3_011_238, 8.2), (0.125, 912_830, 2.8)])
def test_summary_matches_original_experiment(tmp_path, width, params, gflops):
    path = tmp_path / "model.yaml"
    model.write_variant_yaml(path, model.variant_yaml(width, 0.33, 1024, nc=2))
    s = model.summarize(path, imgsz=320)
    assert s["parameters"] == params
    assert round(s["gflops_640"], 1) == gflops
    assert s["gflops_imgsz"] == pytest.approx(s["gflops_640"] / 4, rel=0.02)


def test_variant_yaml_rejects_bad_width():
    with pytest.raises(ValueError, match="width"):
        model.variant_yaml(0, 0.33, 1024, 2)


def test_variants_and_threads():
    cfg = {"model": {"widths": [0.25, 0.125]}, "benchmark": {"threads": [1, "all", 2]}}
    assert list(workflowcfg.variants(cfg)) == ["w0.25", "w0.125"]
    assert workflowcfg.bench_threads(cfg, cpu_count=2) == [1, 2]
    assert workflowcfg.bench_threads(cfg, cpu_count=8) == [1, 2, 8]


def test_variant_grid_names_spell_out_only_non_stock_knobs():
    cfg = {
        "model": {"widths": [0.25, 0.125], "depths": [0.33, 0.67], "imgsz": [192, 320], "heads": ["P3-P5", "P3-P4"]},
        "train": {"imgsz": 192},
        "export": {"imgsz": None},
    }
    grid = workflowcfg.variants(cfg)
    assert len(grid) == 16 and list(grid)[:4] == ["w0.25", "w0.25-p34", "w0.25-320px", "w0.25-320px-p34"]
    assert "w0.125-d0.67-320px-p34" in grid
    knobs = grid["w0.125-d0.67-320px-p34"]
    assert knobs == {
        "family": "yolov8",
        "width": 0.125,
        "depth": 0.67,
        "imgsz": 320,
        "heads": "P3-P4",
        "max_channels": 1024,
        "export_imgsz": 320,
    }
    cfg["export"]["imgsz"] = 640  # one export size for all: the names (and trainings) do not change
    assert list(workflowcfg.variants(cfg)) == list(grid)
    assert {k["export_imgsz"] for k in workflowcfg.variants(cfg).values()} == {640}


# ultralytics 8.4.190's DetectionModel and get_flops at nc=2, 640 px, each family's stock "n" depth
FAMILY_SIZES = [
    ("yolov8", 0.25, 3_011_238, 8.19),
    ("yolov8", 0.125, 912_830, 2.83),
    ("yolo11", 0.25, 2_590_230, 6.50),
    ("yolo11", 0.125, 810_550, 2.43),
    ("yolo26", 0.25, 2_504_580, 5.89),
    ("yolo26", 0.125, 677_780, 1.74),
]


@pytest.mark.parametrize(("family", "width", "params", "gflops"), FAMILY_SIZES)
def test_family_summaries_reproduce_ultralytics_figures(tmp_path, family, width, params, gflops):
    path = tmp_path / "model.yaml"
    depth = model.stock_depth(family)
    model.write_variant_yaml(path, model.variant_yaml(width, depth, 1024, nc=2, family=family))
    s = model.summarize(path, imgsz=640)
    assert s["parameters"] == params
    assert round(s["gflops_640"], 2) == gflops
    assert s["end2end"] is (family == "yolo26")  # YOLO26: one-to-one head, no NMS
    assert model.head_args(s["end2end"]) == ({"nms": False} if family == "yolo26" else {})


def test_families_are_a_grid_axis_with_each_familys_own_stock_depth():
    cfg = {"model": {"families": ["yolov8", "yolo11", "yolo26"], "widths": [0.25, 0.125]}, "train": {"imgsz": 192}}
    grid = workflowcfg.variants(cfg)
    assert list(grid) == ["w0.25", "w0.125", "yolo11-w0.25", "yolo11-w0.125", "yolo26-w0.25", "yolo26-w0.125"]
    assert [k["depth"] for k in grid.values()] == [0.33, 0.33, 0.5, 0.5, 0.5, 0.5]
    assert all(model.family_of(v) == k["family"] for v, k in grid.items())
    cfg["model"]["depths"] = ["stock", 0.33]  # a number is that multiple for every family
    with pytest.raises(workflowcfg.ConfigError, match=r"w0\.25 appears twice"):  # YOLOv8's stock is 0.33
        workflowcfg.variants(cfg)
    cfg["model"]["families"] = ["yolo26"]
    names = list(workflowcfg.variants(cfg))
    assert names == ["yolo26-w0.25", "yolo26-w0.25-d0.33", "yolo26-w0.125", "yolo26-w0.125-d0.33"]
    with pytest.raises(workflowcfg.ConfigError, match=r"model\.families: unknown family 'yolo5'"):
        workflowcfg.variants({"model": {"families": ["yolo5"], "widths": [0.25]}})


def test_p3_p4_heads_work_for_every_family(tmp_path):
    for family in model.FAMILIES:
        path = tmp_path / f"{family}.yaml"
        model.write_variant_yaml(
            path, model.variant_yaml(0.125, model.stock_depth(family), 1024, 2, heads="P3-P4", family=family)
        )
        assert model.summarize(path, imgsz=64)["heads"] == "P3-P4"


def test_distillation_adds_students_that_wait_for_the_teacher_and_leaves_plain_runs_alone():
    base = {
        "model": {"families": ["yolov8", "yolo26"], "widths": [0.25, 0.125]},
        "train": {"imgsz": 64, "seeds": [0, 1]},
    }
    plain = workflowcfg.variants(base)
    cfg = {**base, "train": {**base["train"], "distill": {"teacher": "w0.25", "weight": 2.0}}}
    grid = workflowcfg.variants(cfg)
    kd = ["w0.125-kd", "yolo26-w0.25-kd", "yolo26-w0.125-kd"]
    assert list(grid) == [*plain, *kd]
    assert grid["w0.125-kd"] == {**plain["w0.125"], "twin": "w0.125", "distill": {"teacher": "w0.25", "weight": 2.0}}
    # plain runs' settings do not change (nothing retrains); students name the teacher's record
    for r in workflowcfg.training_runs(base).values():
        assert workflowcfg.train_settings(cfg, grid[r["variant"]], r["seed"]) == workflowcfg.train_settings(
            base, plain[r["variant"]], r["seed"]
        )
        assert workflowcfg.teacher_of(grid[r["variant"]]) is None
    settings = workflowcfg.train_settings(cfg, grid["w0.125-kd"], 1)
    assert settings["distill"] == {"teacher": "results/train/w0.25/train_info.json", "weight": 2.0}
    student = workflowcfg.training_runs(cfg)["yolo26-w0.125-kd-seed1"]["variant"]
    assert workflowcfg.teacher_of(grid[student]) == "results/train/w0.25/train_info.json"
    only = {**cfg, "train": {**cfg["train"], "distill": {"teacher": "yolo26-w0.25", "students": ["yolo26-w0.125"]}}}
    assert [v for v in workflowcfg.variants(only) if v.endswith("-kd")] == ["yolo26-w0.125-kd"]
    assert workflowcfg.variants(only)["yolo26-w0.125-kd"]["distill"]["weight"] == 6.0  # ultralytics' default dis


@pytest.mark.parametrize(
    ("distill", "message"),
    [
        ({"teacher": "w0.5"}, "train.distill.teacher: 'w0.5' is not a grid point"),
        ({"teacher": "w0.25", "students": ["w0.1"]}, "train.distill.students: 'w0.1' is not a grid point"),
        ({"teacher": "w0.25", "students": ["w0.25"]}, "'w0.25' is the teacher itself"),
        ({"teacher": "w0.25", "students": ["w0.125-p34"]}, "has heads P3-P4, the teacher 'w0.25' P3-P5"),
    ],
)
def test_bad_distillation_settings_name_the_key(distill, message):
    cfg = {"model": {"widths": [0.25, 0.125], "heads": ["P3-P5", "P3-P4"]}, "train": {"imgsz": 64, "distill": distill}}
    with pytest.raises(workflowcfg.ConfigError, match=re.escape(message)):
        workflowcfg.variants(cfg)
    cfg["train"]["distill"] = {"teacher": "w0.25"}  # default students: the teacher's heads only
    assert [v for v in workflowcfg.variants(cfg) if v.endswith("-kd")] == ["w0.125-kd"]


def test_seeds_make_runs_and_the_first_seed_keeps_the_variant_name():
    cfg = {"model": {"widths": [0.25]}, "train": {"seed": 0, "seeds": [3, 1], "imgsz": 192, "threads": 2}}
    runs = workflowcfg.training_runs(cfg)
    assert runs == {
        "w0.25": {"variant": "w0.25", "seed": 3, "primary": True},
        "w0.25-seed1": {"variant": "w0.25", "seed": 1, "primary": False},
    }
    settings = workflowcfg.train_settings(cfg, workflowcfg.variants(cfg)["w0.25"], 1)
    assert settings == {"imgsz": 192, "seed": 1}  # threads and seeds are the workflow's keys
    assert list(workflowcfg.training_runs({**cfg, "train": {"seed": 5}})) == ["w0.25"]


def test_p3_p4_heads_drop_the_stride_32_branch(tmp_path):
    cfg = model.variant_yaml(0.125, 0.33, 1024, nc=2, heads="P3-P4")
    assert cfg["head"][-1][:3] == [[15, 18], 1, "Detect"] and len(cfg["head"]) == 10
    path = tmp_path / "model.yaml"
    model.write_variant_yaml(path, cfg)
    s = model.summarize(path, imgsz=640)
    assert s["heads"] == "P3-P4" and s["parameters"] == 590_908  # vs 912,830 with P5
    assert round(s["gflops_640"], 2) == 2.57  # vs 2.83
    with pytest.raises(ValueError, match="heads"):
        model.variant_yaml(0.125, 0.33, 1024, nc=2, heads="P2-P5")


def test_calibration_set_samples_train_images_only_and_writes_no_source(tmp_path):
    from yoloshrink.datasets.canonical import calibration_set

    src = tmp_path / "src"
    for split, n in (("train", 30), ("val", 5)):
        (src / split / "images").mkdir(parents=True)
        (src / split / "labels").mkdir(parents=True)
        for i in range(n):
            (src / split / "images" / f"{split}{i:02d}.jpg").write_bytes(b"x")
            if i % 2 == 0:  # odd images are backgrounds (no label file)
                (src / split / "labels" / f"{split}{i:02d}.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (src / "data.yaml").write_text(f"path: {src}\ntrain: train/images\nval: val/images\nnames: {{0: CT, 1: T}}\n")
    before = sorted(p for p in src.rglob("*"))
    out = tmp_path / "calib"
    content = calibration_set(src / "data.yaml", out, n_images=8)
    images = sorted((out / "images").iterdir())
    assert len(images) == 8 and all(p.resolve().parent == src / "train" / "images" for p in images)
    labels = {p.stem for p in (out / "labels").iterdir()}
    assert labels == {p.stem for p in images if int(p.stem[-2:]) % 2 == 0}
    assert content["train"] == content["val"] == "images" and content["path"] == str(out.resolve())
    assert calibration_set(src / "data.yaml", out, n_images=8) == content  # deterministic
    assert sorted((out / "images").iterdir()) == images
    assert calibration_set(src / "data.yaml", out, n_images=100)["n_images"] == 30
    assert sorted(p for p in src.rglob("*")) == before and not (tmp_path / ".calib.tmp").exists()


def test_int8_formats_are_calibrated_exports_of_their_runtime():
    from yoloshrink.targets import EXPORTS, TARGETS

    assert EXPORTS["onnx-int8"].calibrated and EXPORTS["openvino-int8"].calibrated
    assert not EXPORTS["onnx"].calibrated
    assert EXPORTS["onnx-int8"].ultralytics_format == "onnx" and TARGETS["pytorch"].format == "pytorch"
    assert TARGETS["openvino-bf16"].format == "openvino" and TARGETS["openvino-bf16"].precision == "bf16"
    assert TARGETS["onnx-int8"].calibrated and not TARGETS["openvino-f32"].calibrated
    cfg = {"export": {"formats": ["onnx", "openvino", "onnx-int8"]}}
    assert workflowcfg.bench_targets(cfg) == [
        "pytorch",
        "onnx",
        "openvino",
        "openvino-f32",
        "openvino-bf16",
        "onnx-int8",
    ]


def test_int8_peak_is_measured_with_onnxruntime():
    assert roofline.int8_peak(1, size=256, repeats=2) > 1  # GOP/s of MatMulInteger, u8 x s8


def test_folder_source_requires_existing_yaml(tmp_path):
    cfg = {"dataset": {"source": "folder", "path": str(tmp_path / "nope.yaml")}, "model": {"widths": [0.25]}}
    with pytest.raises(workflowcfg.ConfigError, match=r"dataset.path: .*nope.yaml"):
        workflowcfg.check(cfg, tmp_path)


def test_offline_env_and_config_dir(tmp_path):
    env = offline.offline_env(tmp_path)
    assert env["YOLO_OFFLINE"] == "1" and env["YOLO_AUTOINSTALL"] == "False"
    assert env["ORT_DISABLE_TELEMETRY"] == "1"
    udir = offline.prepare_config_dir(tmp_path)
    settings = json.loads((udir / "settings.json").read_text())
    assert settings["sync"] is False and settings["tensorboard"] is True
    assert (udir / "Arial.ttf").stat().st_size > 100_000


def test_ultralytics_accepts_settings_without_migration():
    from ultralytics.utils import SETTINGS

    assert SETTINGS["sync"] is False and SETTINGS["tensorboard"] is True
    assert Path(SETTINGS.file).parent.parent == Path(offline.offline_env()["YOLO_CONFIG_DIR"])


def test_move_into_replaces_and_orders(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "weights").mkdir(parents=True)
    (src / "weights" / "best.pt").write_text("new")
    (src / "a.txt").write_text("a")
    (dst / "weights").mkdir(parents=True)
    (dst / "weights" / "old.pt").write_text("old")
    fsutil.move_into(src, dst, last=("weights",))
    assert (dst / "weights" / "best.pt").read_text() == "new"
    assert not (dst / "weights" / "old.pt").exists()
    assert not src.exists()


def test_atomic_write_json_roundtrip(tmp_path):
    p = tmp_path / "x" / "r.json"
    fsutil.atomic_write_json(p, {"a": 1.5, "nan": math.nan})
    assert fsutil.read_json(p)["a"] == 1.5
    assert [f.name for f in p.parent.iterdir()] == ["r.json"]


def test_schema_defaults_and_rejections():
    from snakemake.utils import validate

    schema = str(Path(__file__).parent.parent / "workflow/schemas/config.schema.yaml")
    cfg = yaml.safe_load((Path(__file__).parent.parent / "config/config.yaml").read_text())
    validate(cfg, schema, set_default=True)
    bad = json.loads(json.dumps(cfg))
    bad["model"]["widths"] = [0.25, -1]
    with pytest.raises(Exception, match="-1"):
        validate(bad, schema)
    bad = json.loads(json.dumps(cfg))
    bad["export"]["formats"] = ["onnx", "tflite"]
    with pytest.raises(Exception, match="tflite"):
        validate(bad, schema)


SCHEMA = Path(__file__).parent.parent / "workflow/schemas/config.schema.yaml"


def _default_config() -> dict:
    return yaml.safe_load((Path(__file__).parent.parent / "config/config.yaml").read_text())


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["model"].update(widths=[0.25, 0.0]), "model.widths.1: 0.0 is invalid"),
        (lambda c: c["model"].update(widths=[0.25, 1.6]), "model.widths.1: 1.6 is invalid"),
        (lambda c: c["model"].update(widths=[0.25, 0.25]), "model.widths: [0.25, 0.25] holds duplicates"),
        (lambda c: c["model"].update(widths=[]), "model.widths: [] is invalid"),
        (lambda c: c["model"].update(depths=[0]), "model.depths.0: 0 is invalid"),
        (lambda c: c["model"].update(depths=[0.33, 0.33]), "model.depths: [0.33, 0.33] holds duplicates"),
        (lambda c: c["model"].update(imgsz=[100]), "model.imgsz.0: 100 is invalid"),
        (lambda c: c["model"].update(heads=["P2-P5"]), "model.heads.0: 'P2-P5' is invalid"),
        (lambda c: c["model"].update(depth_multiple=0.33), "model.depth_multiple: unknown key"),
        (lambda c: c["train"].update(seeds=[0, 0]), "train.seeds: [0, 0] holds duplicates"),
        (lambda c: c["train"].update(seeds=[-1]), "train.seeds.0: -1 is invalid"),
        (lambda c: c["export"].update(calibration_images=0), "export.calibration_images: 0 is invalid"),
        (lambda c: c["export"].update(formats=["ncnn-int8"]), "export.formats.0: 'ncnn-int8' is invalid"),
        (lambda c: c["model"].update(widht=[0.5]), "model.widht: unknown key; did you mean 'widths'?"),
        (lambda c: c["train"].update(imgsz=100), "train.imgsz: 100 is invalid: 100 is not a multiple of 32"),
        (lambda c: c["train"].update(epochs=0), "train.epochs: 0 is invalid"),
        (lambda c: c["train"].update(epoch=3), "train.epoch: unknown key; did you mean 'epochs'?"),
        (lambda c: c["train"].update(optimizer="adam"), "train.optimizer: 'adam' is invalid"),
        (lambda c: c["train"].update(cache="yes"), "train.cache: 'yes' is invalid"),
        (lambda c: c["export"].update(formats=["onnx", "tflite"]), "export.formats.1: 'tflite' is invalid"),
        (lambda c: c["export"].update(imgsz=650), "export.imgsz: 650 is invalid"),
        (
            lambda c: c["benchmark"].update(threads=[0]),
            'benchmark.threads.0: 0 is invalid: expected a positive integer or "all"',
        ),
        (
            lambda c: c["benchmark"].update(threads=["many"]),
            "benchmark.threads.0: 'many' is invalid: expected a positive integer or \"all\"",
        ),
        (lambda c: c["benchmark"].update(min_runs=0), "benchmark.min_runs: 0 is invalid"),
        (lambda c: c["dataset"].update(source="s3"), "dataset.source: 's3' is invalid"),
        (lambda c: c.update(bench={}), "bench: unknown key; did you mean 'benchmark'?"),
        (lambda c: c["report"].update(budgets_ms=[]), "report.budgets_ms: [] is invalid"),
        (lambda c: c["benchmark"].update(hosts={"pi5": ""}), "benchmark.hosts.pi5: '' is invalid"),
    ],
)
def test_every_schema_rule_names_key_and_value(edit, expected):
    cfg = _default_config()
    edit(cfg)
    with pytest.raises(workflowcfg.ConfigError) as err:
        workflowcfg.validate_config(cfg, SCHEMA)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c["benchmark"].update(min_runs=50, max_runs=20),
            "benchmark.min_runs: 50 is more than benchmark.max_runs (20)",
        ),
        (
            lambda c: c["benchmark"].update(warmup=30, warmup_max=10),
            "benchmark.warmup: 30 is more than benchmark.warmup_max (10)",
        ),
        # settings of an INT8 format are checked whether or not the format is exported
        (lambda c: c["export"].update(quantize={"choose": {"openvino-int8": "perfromance"}}), "perfromance"),
        (
            lambda c: c["export"].update(quantize={"candidates": {"onnx-int8": {"mine": {"quant_format": "QXX"}}}}),
            "QXX",
        ),
        (
            lambda c: c["export"].update(
                quantize={"timing": {"min_runs": 9, "max_runs": 3}, "choose": {"onnx-int8": "auto"}}
            ),
            "export.quantize.timing.min_runs: 9 is more than export.quantize.timing.max_runs (3)",
        ),
    ],
)
def test_cross_key_checks_name_the_keys(edit, expected):
    cfg = _default_config()
    assert "onnx-int8" not in cfg["export"]["formats"]  # the INT8 settings name a format not exported
    edit(cfg)
    workflowcfg.validate_config(cfg, SCHEMA)  # the schema alone lets these through
    with pytest.raises(workflowcfg.ConfigError) as err:
        workflowcfg.check(cfg, Path("."))
    assert expected in str(err.value)


def test_a_bad_site_variable_is_printed_before_snakemake_prints_its_usage():
    import io

    from yoloshrink import slurmsite

    err = io.StringIO()
    with pytest.raises(slurmsite.SiteError):
        slurmsite.Site.from_environ({"YOLOSHRINK_SLURM_TRAIN_MEM_MB": "16G"}, stderr=err)
    assert err.getvalue().startswith("error in the SLURM site settings (profiles/slurm): YOLOSHRINK_SLURM_TRAIN_MEM_MB")


def test_default_and_shipped_configs_are_valid():
    workflowcfg.validate_config(_default_config(), SCHEMA)
    csgo = yaml.safe_load((Path(__file__).parent.parent / "config/csgo.yaml").read_text())
    workflowcfg.validate_config(csgo, SCHEMA)
    edge = yaml.safe_load((Path(__file__).parent.parent / "config/edge640.yaml").read_text())
    merged = _default_config()
    for section, values in edge.items():
        merged[section] = {**merged[section], **values}
    workflowcfg.validate_config(merged, SCHEMA)
    assert list(workflowcfg.variants(merged)) == ["w0.125"]
    assert workflowcfg.variants(merged)["w0.125"]["export_imgsz"] == 640


def test_canonical_params_ignore_key_order():
    a = workflowcfg.canonical({"b": 1, "a": {"d": [1, {"y": 2, "x": 1}], "c": 3}})
    b = workflowcfg.canonical({"a": {"c": 3, "d": [1, {"x": 1, "y": 2}]}, "b": 1})
    assert repr(a) == repr(b) == "{'a': {'c': 3, 'd': [1, {'x': 1, 'y': 2}]}, 'b': 1}"


def test_environment_id_names_the_environment_not_the_day():
    """Issue 18: two records of the same machine and software, written at different times (a
    SLURM and a local run), share their id; a change of machine, version or commit does not."""
    from yoloshrink import environment

    record = environment.collect_environment()
    later = {**record, "date": "2031-01-01T00:00:00+00:00", "reported_mhz": (record.get("reported_mhz") or 0) + 1}
    assert environment.environment_id(later) == environment.environment_id(record)
    for key, value in [("host", "other"), ("cpu_model", "other"), ("workflow_commit", "abc")]:
        assert environment.environment_id({**record, key: value}) != environment.environment_id(record), key
    other = {**record, "packages": {**record["packages"], "onnxruntime": "0.0"}}
    assert environment.environment_id(other) != environment.environment_id(record)


def test_the_table_refuses_a_speedup_timed_against_another_baseline(tmp_path):
    """The baseline is the workflow's one decision (BASELINE, a param of the table rule): a pair
    record timed against another variant (left from an earlier config) names itself."""
    from yoloshrink import layout, table

    summaries = []
    for v in ("w0.25", "w0.125"):
        summaries.append(tmp_path / f"{v}.json")
        layout.write_record("summary", summaries[-1], {"variant": v, "parameters": 1, "gflops_640": 1.0})
    stale = tmp_path / "speedup_t1.json"
    layout.write_record(
        "speedup", stale, {"variant": "w0.125", "baseline": "w0.5", "target": "onnx", "threads": 1, "status": "ok"}
    )
    args = dict(accuracy=[], latency=[], trainings=[], exports=[], summaries=summaries, controls=[])
    missing = tmp_path / "not-read.json"  # the check comes before the machine's records are read
    with pytest.raises(ValueError, match=re.escape(f"{stale}: timed against 'w0.5', but the baseline is 'w0.25'")):
        table.build_table(speedups=[stale], peak=missing, environment=missing, parity_tolerance=0.01, imgsz=64, **args)
    with pytest.raises(ValueError, match=re.escape("but the baseline is 'w0.125'")):
        table.build_table(
            speedups=[stale],
            peak=missing,
            environment=missing,
            parity_tolerance=0.01,
            imgsz=64,
            baseline="w0.125",
            **args,
        )


def test_the_table_counts_gflops_at_the_size_that_ran():
    """Issue 26: YOLO26's FLOPs at 192 px are not its 640 px count scaled by area (0.530);
    ultralytics counts 0.5204, and the roof fractions divide by it."""
    from yoloshrink.table import gflops_at

    summary = {"gflops_640": 5.8943, "imgsz": 192, "gflops_imgsz": 0.5204}
    assert gflops_at(summary, 192) == 0.5204
    assert gflops_at(summary, 320) == pytest.approx(5.8943 * 0.25)  # another size: scaled
    assert gflops_at({"gflops_640": 8.0}, 192) == pytest.approx(0.72)  # an older summary
