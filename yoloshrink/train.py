"""Training a variant with ultralytics, from its yaml (from scratch), with the settings on record.

ultralytics on a CPU runs torch on ``OMP_NUM_THREADS`` threads (it sets 1 when unset) and forces
``workers=0``; the thread count here comes from the caller (the rule's ``threads``) and is set
both before training and again when the trainer starts. ``optimizer: auto`` is resolved by the
trainer after it wrote ``args.yaml``; what it chose is read off the built optimizer and kept in
``train_info.json`` beside ultralytics' own files.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import time
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from yoloshrink import layout
from yoloshrink.fsutil import atomic_write_json, move_into, read_json

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


def train_arguments(settings: dict[str, Any], model_cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """Select ultralytics ``train()`` arguments from a config section.

    Known keys are passed when present (``None`` means "ultralytics' default"); ``extra``
    (a mapping) adds any other ultralytics argument. A model yaml (``model_cfg``) with an
    end-to-end head adds :func:`yoloshrink.model.head_args` (validation during training, and so
    the choice of best.pt, runs the head as it is deployed). ``distill`` ({"teacher": a
    train_info.json, "weight"}) becomes ultralytics' ``distill_model`` (the teacher's best.pt)
    and ``dis``; a teacher whose training failed raises RuntimeError saying so.
    """
    from yoloshrink.model import head_args, is_end2end

    args = {k: settings[k] for k in TRAIN_KEYS if settings.get(k) is not None}
    args.update(head_args(is_end2end(model_cfg or {})))
    distill = settings.get("distill")
    if distill:
        try:
            teacher = layout.weights_of(Path(distill["teacher"]))
        except RuntimeError as exc:
            raise RuntimeError(f"the teacher's training failed, so there is nothing to distil from: {exc}") from exc
        args.update(distill_model=str(Path(teacher).resolve()), dis=float(distill["weight"]))
    args.update(settings.get("extra") or {})
    return args


def fingerprint(model_yaml: Path, data_yaml: Path, args: dict[str, Any]) -> str:
    """Hash of everything that defines a training: model yaml, data.yaml, arguments and, for a
    distilled student, the teacher's checkpoint (its bytes: a retrained teacher is another run)."""
    h = hashlib.sha256()
    h.update(Path(model_yaml).read_bytes())
    h.update(Path(data_yaml).read_bytes())
    h.update(json.dumps(args, sort_keys=True, default=str).encode())
    if args.get("distill_model"):
        h.update(Path(args["distill_model"]).read_bytes())
    return h.hexdigest()


class Resumable(NamedTuple):
    """What an interrupted run left: its ``checkpoint`` (``weights/last.pt``), the first epoch
    still to train (1-based; beyond the configured epochs when every epoch ran) and whether only
    the wrap-up (the final validation) is left."""

    checkpoint: Path
    next_epoch: int
    wrapup_only: bool = False


def resumable_checkpoint(partial: Path, print_: Any = print) -> Resumable | None:
    """What an interrupted run of the same training left in ``partial`` (the caller checks that
    its ``fingerprint.json`` matches: same model, data and arguments), None when nothing usable.

    A ``last.pt`` with its optimizer state resumes at the epoch after the one it saved (which
    may lie beyond the configured epochs: every epoch ran and only the wrap-up was cut off). A
    stripped ``last.pt`` (``epoch`` -1, no optimizer) beside a ``best.pt`` means the training
    loop had ended: ultralytics strips both in its final evaluation, before validating, so a
    job killed during that validation (minutes on a real dataset) leaves exactly this, and only
    the wrap-up is left, not the training.
    """
    last = partial / "weights" / "last.pt"
    if not last.exists():
        return None
    try:
        import torch

        ckpt = torch.load(last, map_location="cpu", weights_only=False)
    except Exception as exc:
        print_(f"cannot resume from {last}: {type(exc).__name__}: {exc}")
        return None
    if ckpt.get("epoch", -1) < 0 or ckpt.get("optimizer") is None:
        results = partial / layout.RESULTS_CSV
        if (partial / "weights" / "best.pt").exists() and results.exists():
            epochs = len(layout.read_results_csv(results))
            print_(f"{last} was stripped by the final evaluation after epoch {epochs}: only the wrap-up is left")
            return Resumable(last, epochs + 1, wrapup_only=True)
        return None
    return Resumable(last, int(ckpt["epoch"]) + 2)  # ckpt["epoch"] is the 0-based last finished epoch


def train_variant(
    model_yaml: Path,
    data_yaml: Path,
    run_dir: Path,
    settings: dict[str, Any],
    threads: int,
    *,
    run: str,
    variant: str,
    callbacks: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """Train ``model_yaml`` on ``data_yaml`` and leave ultralytics' run folder at ``run_dir``.

    Training happens in ``<run_dir parent>/.partial/<name>``; only a finished run is moved into
    ``run_dir`` (``weights/`` and ``train_info.json`` last), so an interrupted job never leaves a
    run that looks complete. A job killed mid-way (SIGTERM at a SLURM time limit, preemption,
    Ctrl-C) leaves ``.partial/<name>`` with ultralytics' ``last.pt``; the next run of the same
    training (same model, data and arguments: ``fingerprint.json``) resumes from it with
    ultralytics' ``resume=True`` instead of starting over. ``callbacks`` adds ultralytics
    callbacks (event -> functions). ``run`` and ``variant`` (with the settings' seed) are the
    record's identity. Returns the ``train_info.json`` content.
    """
    import torch
    from ultralytics import YOLO

    run_dir = Path(run_dir).resolve()
    partial_root = run_dir.parent / layout.PARTIAL
    partial = partial_root / run_dir.name
    torch.set_num_threads(threads)
    args = train_arguments(settings, yaml.safe_load(Path(model_yaml).read_text()))
    info: dict[str, Any] = {**identity(run, variant, settings), "status": "ok"}
    info.update(torch_threads=threads, resumed_from_epoch=None)
    if args.get("distill_model"):
        info["distill"] = {
            **distill_fields(settings),
            "teacher_sha256": hashlib.sha256(Path(args["distill_model"]).read_bytes()).hexdigest(),
        }
    print_ = print
    fp = fingerprint(model_yaml, data_yaml, args)
    fp_file = partial / "fingerprint.json"
    same = fp_file.exists() and read_json(fp_file).get("fingerprint") == fp
    resumable = resumable_checkpoint(partial, print_) if same else None
    resume_from = resumable.checkpoint if resumable else None
    if resume_from is None:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        atomic_write_json(fp_file, {"fingerprint": fp})

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
        atomic_write_json(partial / START_RECORD, {k: v for k, v in info.items() if k in START_KEYS})

    def record_end(trainer: Any) -> None:
        info["best_epoch"] = int(trainer.stopper.best_epoch)
        info["best_fitness"] = float(trainer.stopper.best_fitness or 0.0)
        info["early_stop"] = bool(trainer.stopper.possible_stop) or (trainer.epoch + 1 < trainer.epochs)
        info["final_metrics"] = {k: float(v) for k, v in (trainer.metrics or {}).items()}

    if resumable is not None and (resumable.wrapup_only or resumable.next_epoch > int(args.get("epochs", 100))):
        # ultralytics refuses to resume a run whose epochs all ran (or that stopped early and
        # stripped its checkpoints); only its wrap-up is left
        print_(f"the training loop of {partial} ended; only the final validation was cut off: finishing it")
        info.update(finish_wrapup(partial, data_yaml, args))
        info["resumed_from_epoch"] = resumable.next_epoch
        return _publish(partial, run_dir, info, args, wall=0.0)
    if resumable is not None:
        info["resumed_from_epoch"] = resumable.next_epoch
        print_(f"resuming interrupted training from {resume_from} at epoch {resumable.next_epoch}")
        model = YOLO(str(resume_from), task="detect")
    else:
        model = YOLO(str(model_yaml), task="detect")
    model.add_callback("on_pretrain_routine_start", set_threads)
    model.add_callback("on_train_start", set_threads)
    model.add_callback("on_train_start", record_optimizer)
    model.add_callback("on_train_end", record_end)
    for event, fns in (callbacks or {}).items():
        for fn in fns:
            model.add_callback(event, fn)
    t0 = time.perf_counter()
    if resume_from is not None:
        model.train(resume=True, data=str(data_yaml))
    else:
        model.train(
            data=str(data_yaml),
            project=str(partial_root),
            name=run_dir.name,
            exist_ok=True,
            verbose=True,
            **args,
        )
    return _publish(partial, run_dir, info, args, wall=time.perf_counter() - t0)


def _publish(partial: Path, run_dir: Path, info: dict[str, Any], args: dict[str, Any], wall: float):
    """Complete ``info`` from the run's files and move the finished run into ``run_dir``."""
    import torch
    from ultralytics import __version__ as ul_version

    rows = layout.read_results_csv(partial / layout.RESULTS_CSV)
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
    (partial / "fingerprint.json").unlink(missing_ok=True)
    layout.write_record("train_info", partial / layout.TRAIN_INFO, info)
    move_into(partial, run_dir, last=("weights", layout.TRAIN_INFO))
    return info


#: What ``on_train_start`` learns (the resolved optimizer, the image count), kept in the partial
#: run so that finishing an interrupted run's wrap-up can report it too.
START_RECORD = "train_start.json"
START_KEYS = (
    "optimizer_resolved",
    "lr0_resolved",
    "momentum_resolved",
    "warmup_bias_lr_resolved",
    "torch_threads_at_start",
    "train_images",
)


def _best_checkpoint(weights: Path) -> dict[str, Any]:
    """``weights/best.pt``, loaded. ultralytics writes last.pt, then the same bytes to best.pt when
    that epoch is the best: a job killed between the two writes (or during the second) leaves
    best.pt missing or cut short, and it is then restored from last.pt. Raises RuntimeError when
    best.pt is unusable and the last epoch was not the best (its checkpoint is lost)."""
    import torch

    try:
        return torch.load(weights / "best.pt", map_location="cpu", weights_only=False)
    except Exception as exc:  # missing, or cut short mid-write
        last = torch.load(weights / "last.pt", map_location="cpu", weights_only=False)
        fitness = (last.get("train_metrics") or {}).get("fitness")
        if fitness is None or fitness != last.get("best_fitness"):
            raise RuntimeError(
                f"{weights / 'best.pt'} is unusable ({type(exc).__name__}: {exc}) and the last epoch was not "
                "the best, so the best checkpoint is lost: train again from scratch"
            ) from exc
        shutil.copyfile(weights / "last.pt", weights / "best.pt")
        print(f"{weights / 'best.pt'} was missing or cut short: restored from last.pt (the last epoch was the best)")
        return last


def _best_from_results(partial: Path, epochs: int) -> dict[str, Any]:
    """The best epoch and fitness as ultralytics' stopper chose them (the last epoch of the
    highest mAP50-95, its detection fitness) from the run's ``results.csv``, and whether it
    stopped early (fewer rows than ``epochs``)."""
    rows = layout.read_results_csv(partial / layout.RESULTS_CSV)
    fitness = [r.get("metrics/mAP50-95(B)", 0.0) for r in rows]
    best = max(range(len(rows)), key=lambda i: (fitness[i], i))
    return {"best_epoch": best + 1, "best_fitness": float(fitness[best]), "early_stop": len(rows) < epochs}


def finish_wrapup(partial: Path, data_yaml: Path, args: dict[str, Any]) -> dict[str, Any]:
    """Do what ultralytics' ``final_eval`` does for a run killed after its last epoch was saved.

    Validates ``best.pt`` on the val split with the training's size and device (and, as
    ultralytics' final validation, twice its batch), then strips the optimizer from ``last.pt``
    and ``best.pt`` as ultralytics does. Returns the ``train_info.json`` fields the trainer
    callbacks would have recorded (the val losses, which the validator does not return, are
    not among them).
    """
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import strip_optimizer

    weights = partial / "weights"
    best_ckpt = _best_checkpoint(weights)
    out: dict[str, Any] = {
        "best_epoch": int(best_ckpt.get("epoch", -1)) + 1,
        "best_fitness": float(best_ckpt.get("best_fitness") or 0.0),
        "early_stop": False,
        "wrapup_finished_after_interruption": True,
    }
    if best_ckpt.get("epoch", -1) < 0:  # stripped by ultralytics' final evaluation: results.csv says
        out.update(_best_from_results(partial, int(args.get("epochs", 100))))
    del best_ckpt
    start = partial / START_RECORD
    if start.exists():
        out.update(read_json(start))
    # validate before stripping: a job killed during validation still leaves a resumable last.pt
    metrics = YOLO(str(weights / "best.pt"), task="detect").val(
        data=str(data_yaml),
        imgsz=args.get("imgsz", 640),
        batch=2 * int(args.get("batch", 16)),  # ultralytics' final validation uses twice the batch
        device=args.get("device"),
        plots=False,
        project=str(partial),
        name="final_val",
        exist_ok=True,
    )
    out["final_metrics"] = {k: float(v) for k, v in metrics.results_dict.items() if k != "fitness"}
    last = strip_optimizer(weights / "last.pt")
    strip_optimizer(weights / "best.pt", updates={"train_results": last.get("train_results")})
    return out


def distill_fields(settings: dict[str, Any]) -> dict[str, Any]:
    """A distilled student's record of its teacher: the teacher's variant and run, the loss
    weight ({} for a plain run)."""
    distill = settings.get("distill")
    if not distill:
        return {}
    teacher = layout.read_record("train_info", Path(distill["teacher"]))
    return {"teacher": teacher["variant"], "teacher_run": teacher["run"], "weight": float(distill["weight"])}


def identity(run: str, variant: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The identity fields of a training's record: its run, variant and seed."""
    return {"run": run, "variant": variant, "seed": int(settings.get("seed") or 0)}


def train_job(
    model_yaml: Path,
    data_yaml: Path,
    info_json: Path,
    settings: dict[str, Any],
    threads: int,
    run: str,
    variant: str,
) -> dict[str, Any]:
    """The train rule: train into ``info_json``'s folder; a failure becomes a ``failed`` record.

    ``KeyboardInterrupt``/``SystemExit`` (a job being stopped) are not failures of the
    training and propagate, leaving the interrupted run resumable.
    """
    try:
        return train_variant(model_yaml, data_yaml, Path(info_json).parent, settings, threads, run=run, variant=variant)
    except Exception as exc:
        try:
            args = train_arguments(settings, yaml.safe_load(Path(model_yaml).read_text()))
        except Exception:  # the arguments themselves failed (a failed teacher): keep the settings
            args = dict(settings)
        info = layout.failure(exc, **identity(run, variant, settings), train_args=args)
        if settings.get("distill"):
            info["distill"] = distill_fields(settings)
        print(info["traceback"])
        return layout.write_record("train_info", info_json, info)
