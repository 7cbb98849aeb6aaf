"""Training a variant with ultralytics, from its yaml (from scratch), with the settings on record.

ultralytics on a CPU runs torch on ``OMP_NUM_THREADS`` threads (it sets 1 when unset) and forces
``workers=0``; the thread count here comes from the caller (the rule's ``threads``) and is set
both before training and again when the trainer starts. ``optimizer: auto`` is resolved by the
trainer after it wrote ``args.yaml``; what it chose is read off the built optimizer and kept in
``train_info.json`` beside ultralytics' own files.
"""

from __future__ import annotations

import csv
import platform
import shutil
import time
from pathlib import Path
from typing import Any

from yoloshrink.fsutil import atomic_write_json, move_into

#: Training settings taken from config and passed to ultralytics' ``train()`` as they are.
TRAIN_KEYS = (
    "epochs",
    "patience",
    "imgsz",
    "batch",
    "nbs",
    "seed",
    "deterministic",
    "optimizer",
    "lr0",
    "device",
    "workers",
    "cache",
    "warmup_epochs",
    "close_mosaic",
    "amp",
    "plots",
)


def train_arguments(settings: dict[str, Any]) -> dict[str, Any]:
    """Select ultralytics ``train()`` arguments from a config section.

    Known keys are passed when present (``None`` means "ultralytics' default"); ``extra``
    (a mapping) adds any other ultralytics argument.
    """
    args = {k: settings[k] for k in TRAIN_KEYS if settings.get(k) is not None}
    args.update(settings.get("extra") or {})
    return args


def read_results_csv(path: Path) -> list[dict[str, float]]:
    """Rows of ultralytics' ``results.csv`` with stripped column names and float values."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k.strip(): float(v) for k, v in row.items() if v not in (None, "")} for row in rows]


def train_variant(
    model_yaml: Path,
    data_yaml: Path,
    run_dir: Path,
    settings: dict[str, Any],
    threads: int,
) -> dict[str, Any]:
    """Train ``model_yaml`` on ``data_yaml`` and leave ultralytics' run folder at ``run_dir``.

    Training happens in ``<run_dir parent>/.partial/<name>``; only a finished run is moved into
    ``run_dir`` (``weights/`` and ``train_info.json`` last), so an interrupted job never leaves a
    run that looks complete. Returns the ``train_info.json`` content.
    """
    import torch
    from ultralytics import YOLO
    from ultralytics import __version__ as ul_version

    run_dir = Path(run_dir).resolve()
    partial_root = run_dir.parent / ".partial"
    partial = partial_root / run_dir.name
    if partial.exists():
        shutil.rmtree(partial)
    torch.set_num_threads(threads)
    args = train_arguments(settings)
    info: dict[str, Any] = {"torch_threads": threads}

    def set_threads(trainer: Any) -> None:
        torch.set_num_threads(threads)

    def record_optimizer(trainer: Any) -> None:
        opt = trainer.optimizer
        group = opt.param_groups[0]
        info["optimizer_resolved"] = type(opt).__name__
        info["lr0_resolved"] = float(group.get("initial_lr", group["lr"]))
        betas = group.get("betas")
        info["momentum_resolved"] = float(group["momentum"] if "momentum" in group else betas[0])
        info["warmup_bias_lr_resolved"] = float(trainer.args.warmup_bias_lr)
        info["torch_threads_at_start"] = torch.get_num_threads()
        info["train_images"] = len(trainer.train_loader.dataset)

    def record_end(trainer: Any) -> None:
        info["best_epoch"] = int(trainer.stopper.best_epoch)
        info["best_fitness"] = float(trainer.stopper.best_fitness or 0.0)
        info["early_stop"] = bool(trainer.stopper.possible_stop) or (trainer.epoch + 1 < trainer.epochs)
        info["final_metrics"] = {k: float(v) for k, v in (trainer.metrics or {}).items()}

    model = YOLO(str(model_yaml), task="detect")
    model.add_callback("on_pretrain_routine_start", set_threads)
    model.add_callback("on_train_start", set_threads)
    model.add_callback("on_train_start", record_optimizer)
    model.add_callback("on_train_end", record_end)
    t0 = time.perf_counter()
    model.train(
        data=str(data_yaml),
        project=str(partial_root),
        name=run_dir.name,
        exist_ok=True,
        verbose=True,
        **args,
    )
    wall = time.perf_counter() - t0
    rows = read_results_csv(partial / "results.csv")
    epochs_run = len(rows)
    info.update(
        {
            "train_args": args,
            "epochs_run": epochs_run,
            "wall_seconds": round(wall, 2),
            "train_seconds": round(rows[-1].get("time", wall), 2) if rows else None,
            "images_per_second": round(
                info.get("train_images", 0) * epochs_run / max(rows[-1].get("time", wall), 1e-9), 2
            )
            if rows
            else None,
            "ultralytics": ul_version,
            "torch": torch.__version__,
            "python": platform.python_version(),
        }
    )
    atomic_write_json(partial / "train_info.json", info)
    move_into(partial, run_dir, last=("weights", "train_info.json"))
    return info
