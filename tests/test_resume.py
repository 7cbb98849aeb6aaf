"""A training killed mid-way (SIGTERM, as SLURM sends at a time limit) resumes, not restarts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from yoloshrink import layout, model, train
from yoloshrink.datasets import canonical
from yoloshrink.datasets.synthetic import generate_dataset

#: Real trainings (40 s on 2 cores): in `make test`, not in `make test-fast`'s development loop.
pytestmark = pytest.mark.training

SETTINGS = {
    "epochs": 3,
    "imgsz": 64,
    "batch": 8,
    "nbs": 8,
    "workers": 0,
    "seed": 0,
    "warmup_epochs": 0,
    "close_mosaic": 0,
    "plots": False,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("resume")
    generate_dataset(root / "ds", n_train=16, n_val=8, seed=1, image_size=(160, 120))
    data_yaml = root / "data.yaml"
    canonical.prepare_dataset(root / "ds" / "data.yaml", data_yaml, root / "summary.json")
    model_yaml = root / "model.yaml"
    model.write_variant_yaml(model_yaml, model.variant_yaml(0.125, 0.33, 1024, nc=2))
    return {"root": root, "data": data_yaml, "model": model_yaml}


def sigterm_after_first_save(setup: dict[str, Path], run_dir: Path, settings: dict) -> None:
    """Train in a subprocess that SIGTERMs itself right after ultralytics saved last.pt."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from yoloshrink import offline
        offline.apply()
        from yoloshrink.train import train_variant
        kill = lambda trainer: os.kill(os.getpid(), signal.SIGTERM)  # right after last.pt is saved
        train_variant({str(setup["model"])!r}, {str(setup["data"])!r}, {str(run_dir)!r},
                      {settings!r}, threads=1, run="w0.125", variant="w0.125",
                      callbacks={{"on_model_save": [kill]}})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -15, proc.stderr[-3000:]  # killed by SIGTERM


def test_sigterm_after_first_epoch_then_rerun_resumes_at_epoch_2(setup):
    run_dir = setup["root"] / "train" / "w0.125"
    sigterm_after_first_save(setup, run_dir, SETTINGS)
    partial = run_dir.parent / ".partial" / run_dir.name
    assert (partial / "weights" / "last.pt").exists()
    assert not run_dir.exists(), "an interrupted training must not look complete"
    rows = layout.read_results_csv(partial / "results.csv")
    assert len(rows) == 1

    info = train.train_variant(
        setup["model"], setup["data"], run_dir, SETTINGS, threads=1, run="w0.125", variant="w0.125"
    )
    assert info["resumed_from_epoch"] == 2
    rows = layout.read_results_csv(run_dir / "results.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert (run_dir / "weights" / "best.pt").stat().st_size > 100_000
    assert info["epochs_run"] == 3 and info["optimizer_resolved"] == "AdamW"
    assert not partial.exists()


def test_changed_settings_start_over(setup):
    run_dir = setup["root"] / "train2" / "w0.125"
    partial = run_dir.parent / ".partial" / run_dir.name
    (partial / "weights").mkdir(parents=True)
    (partial / "fingerprint.json").write_text('{"fingerprint": "something else"}')
    (partial / "weights" / "last.pt").write_bytes(b"not a checkpoint")
    info = train.train_variant(
        setup["model"], setup["data"], run_dir, {**SETTINGS, "epochs": 1}, threads=1, run="w0.125", variant="w0.125"
    )
    assert info["resumed_from_epoch"] is None and info["epochs_run"] == 1


def test_sigterm_after_the_last_epoch_finishes_the_wrapup_without_training(setup):
    """Killed after the last epoch's save, before the final validation (ultralytics itself
    refuses to resume such a run: "training to 1 epochs is finished, nothing to resume")."""
    run_dir = setup["root"] / "train3" / "w0.125"
    settings = {**SETTINGS, "epochs": 1}
    sigterm_after_first_save(setup, run_dir, settings)
    assert not run_dir.exists()
    info = train.train_variant(
        setup["model"], setup["data"], run_dir, settings, threads=1, run="w0.125", variant="w0.125"
    )
    assert info["status"] == "ok" and info["wrapup_finished_after_interruption"]
    assert info["epochs_run"] == 1 and info["best_epoch"] == 1 and info["optimizer_resolved"] == "AdamW"
    assert "metrics/mAP50-95(B)" in info["final_metrics"]
    import torch

    for name in ("best.pt", "last.pt"):
        ckpt = torch.load(run_dir / "weights" / name, map_location="cpu", weights_only=False)
        assert ckpt["optimizer"] is None and ckpt["epoch"] == -1  # stripped as ultralytics does


def test_killed_during_ultralytics_final_validation_finishes_the_wrapup_without_training(setup):
    """Issue 29: ultralytics' final evaluation strips last.pt and best.pt, then validates; a job
    killed during that validation (minutes on a real dataset) left a last.pt without optimizer,
    which was refused, and the rerun trained from epoch 1. Now only the wrap-up is redone: each
    epoch appears once in results.csv."""
    run_dir = setup["root"] / "train5" / "w0.125"
    settings = {**SETTINGS, "epochs": 1}
    last = run_dir.parent / ".partial" / run_dir.name / "weights" / "last.pt"
    script = textwrap.dedent(
        f"""
        import os, signal, torch
        from yoloshrink import offline
        offline.apply()
        from yoloshrink.train import train_variant

        def kill_in_final_validation(validator):  # the final one: last.pt is stripped by then
            if not os.path.exists({str(last)!r}):  # the first epoch's validation: nothing saved yet
                return
            if torch.load({str(last)!r}, map_location="cpu", weights_only=False).get("optimizer") is None:
                os.kill(os.getpid(), signal.SIGTERM)

        train_variant({str(setup["model"])!r}, {str(setup["data"])!r}, {str(run_dir)!r},
                      {settings!r}, threads=1, run="w0.125", variant="w0.125",
                      callbacks={{"on_val_start": [kill_in_final_validation]}})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -15, proc.stderr[-3000:]  # killed in the final validation
    assert last.exists() and not run_dir.exists()
    info = train.train_variant(
        setup["model"], setup["data"], run_dir, settings, threads=1, run="w0.125", variant="w0.125"
    )
    assert info["status"] == "ok" and info["wrapup_finished_after_interruption"]
    assert info["resumed_from_epoch"] == 2 and info["epochs_run"] == 1
    assert [int(r["epoch"]) for r in layout.read_results_csv(run_dir / "results.csv")] == [1]  # trained once
    assert info["best_epoch"] == 1 and not info["early_stop"]
    assert "metrics/mAP50-95(B)" in info["final_metrics"]


@pytest.mark.parametrize("damage", ["missing", "cut short"])
def test_killed_between_last_and_best_save_restores_best_from_last(setup, damage):
    """ultralytics writes last.pt, then the same bytes to best.pt: a kill in between (or during
    the second write) left the wrap-up failing on best.pt before; the rerun now finishes."""
    run_dir = setup["root"] / f"train4-{damage.replace(' ', '-')}" / "w0.125"
    settings = {**SETTINGS, "epochs": 1}
    sigterm_after_first_save(setup, run_dir, settings)
    best = run_dir.parent / ".partial" / run_dir.name / "weights" / "best.pt"
    if damage == "missing":
        best.unlink()
    else:
        best.write_bytes(best.read_bytes()[:1000])
    info = train.train_variant(
        setup["model"], setup["data"], run_dir, settings, threads=1, run="w0.125", variant="w0.125"
    )
    assert info["status"] == "ok" and info["wrapup_finished_after_interruption"] and info["best_epoch"] == 1
    assert (run_dir / "weights" / "best.pt").stat().st_size > 100_000


def test_a_killed_distilled_student_resumes_with_its_teacher_and_restarts_for_a_new_teacher(setup):
    teacher_dir = setup["root"] / "train_kd" / "w0.25"
    train.train_variant(
        setup["model"], setup["data"], teacher_dir, {**SETTINGS, "epochs": 1}, threads=1, run="w0.25", variant="w0.25"
    )
    settings = {**SETTINGS, "distill": {"teacher": str(teacher_dir / layout.TRAIN_INFO), "weight": 2.0}}
    run_dir = setup["root"] / "train_kd" / "w0.125-kd"
    sigterm_after_first_save(setup, run_dir, settings)
    partial = run_dir.parent / ".partial" / run_dir.name
    assert len(layout.read_results_csv(partial / "results.csv")) == 1
    info = train.train_variant(
        setup["model"], setup["data"], run_dir, settings, threads=1, run="w0.125-kd", variant="w0.125-kd"
    )
    assert info["resumed_from_epoch"] == 2 and info["epochs_run"] == 3
    assert info["distill"]["teacher"] == "w0.25" and info["train_args"]["dis"] == 2.0
    import torch

    student = torch.load(run_dir / "weights" / "best.pt", weights_only=False)["model"]
    assert type(student).__name__ == "DetectionModel"  # the plain student: no teacher, no projector
    assert not [k for k in student.state_dict() if "teacher" in k or "projector" in k]

    # killed again, then the teacher is retrained: the student starts over, not resumed
    run_dir2 = setup["root"] / "train_kd" / "w0.125-kd2"
    sigterm_after_first_save(setup, run_dir2, settings)
    ckpt = torch.load(teacher_dir / "weights" / "best.pt", weights_only=False)
    torch.save({**ckpt, "date": "retrained"}, teacher_dir / "weights" / "best.pt")  # other bytes, same path
    info = train.train_variant(
        setup["model"], setup["data"], run_dir2, settings, threads=1, run="w0.125-kd", variant="w0.125-kd"
    )
    assert info["resumed_from_epoch"] is None and info["epochs_run"] == 3
