"""The on-disk layout: every path the rules and the code use, and the records written there.

The rules spell no path themselves: they call these functions, with Snakemake wildcards as the
default arguments (``latency_json()`` is ``results/benchmark/{variant}/{target}/latency_t{threads}.json``)
and real values in ``expand`` or in the code (``latency_json("w0.25", "onnx", 1)``).

A **record** is a JSON file one job writes and others read. Each kind has identity fields that
say what it is about (its variant, training run, export format, target, thread count), so no
reader recovers them from where the file lies: :func:`write_record` refuses a record without
them and :func:`read_record` names the file of one that lacks them (written by a version of the
workflow before this layout; ``python -m yoloshrink.layout upgrade`` adds them once).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from pathlib import Path
from typing import Any

from yoloshrink.fsutil import atomic_write_json, read_json

RESULTS = "results"
RESOURCES = "resources"

# ---------------------------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------------------------

SOURCE_DATASETS = f"{RESOURCES}/datasets"  #: where a source is generated, unpacked or downloaded
BUILTIN_YAML = f"{SOURCE_DATASETS}/builtin/data.yaml"
ZIP_SHA256_CACHE = f"{SOURCE_DATASETS}/.sha256-cache.json"
DATASET = f"{RESULTS}/dataset"
DATA_YAML = f"{DATASET}/data.yaml"  #: the canonical data.yaml every training and benchmark reads
DATASET_SUMMARY = f"{DATASET}/summary.json"
CANONICAL_DIR = f"{DATASET}/canonical"
VALIDATION_JSON = f"{DATASET}/validation.json"
EXCLUDED_CSV = f"{DATASET}/excluded.csv"
CALIBRATION_DIR = f"{DATASET}/calibration"
CARD_JSON = f"{DATASET}/card.json"
CARD_PNG = f"{DATASET}/card.png"


def source_dataset_yaml(name: str) -> str:
    """The data.yaml of a zip or Roboflow source unpacked under its name."""
    return f"{SOURCE_DATASETS}/{name}/data.yaml"


# ---------------------------------------------------------------------------------------------
# Models, trainings, exports, benchmark, report
# ---------------------------------------------------------------------------------------------

TRAIN_INFO = "train_info.json"  #: a training run's record, in its run folder
BEST_WEIGHTS = "weights/best.pt"  #: the checkpoint exported and benchmarked, in a run folder
RESULTS_CSV = "results.csv"  #: ultralytics' per-epoch metrics, in a run folder
EXPORT_RECORD = "export.json"  #: an export's record, in its export folder
PARTIAL = ".partial"  #: where an unfinished training lives, beside the finished runs


def model_yaml(variant: str = "{variant}") -> str:
    return f"{RESULTS}/models/{variant}/model.yaml"


def model_summary(variant: str = "{variant}") -> str:
    return f"{RESULTS}/models/{variant}/summary.json"


def train_dir(run: str = "{run}") -> str:
    return f"{RESULTS}/train/{run}"


def train_info(run: str = "{run}") -> str:
    return f"{train_dir(run)}/{TRAIN_INFO}"


#: The deployment bundle (yoloshrink.bundle) and the hosts' results (yoloshrink.hostbench).
BUNDLE_TAR = f"{RESULTS}/bundle/yoloshrink-bundle.tar"
HOSTS_DIR = f"{RESULTS}/hosts"
HOST_CSV = "hostbench.csv"  #: a host's rows (yoloshrink.hostbench), in its folder


def host_dir(host: str = "{host}") -> str:
    return f"{HOSTS_DIR}/{host}"


def host_csv(host: str = "{host}") -> str:
    return f"{host_dir(host)}/{HOST_CSV}"


def export_dir(variant: str = "{variant}", fmt: str = "{fmt}") -> str:
    return f"{RESULTS}/export/{variant}/{fmt}"


def accuracy_json(variant: str = "{variant}", target: str = "{target}") -> str:
    return f"{RESULTS}/benchmark/{variant}/{target}/accuracy.json"


def latency_json(variant: str = "{variant}", target: str = "{target}", threads: int | str = "{threads}") -> str:
    return f"{RESULTS}/benchmark/{variant}/{target}/latency_t{threads}.json"


def speedup_json(variant: str = "{variant}", target: str = "{target}", threads: int | str = "{threads}") -> str:
    return f"{RESULTS}/benchmark/{variant}/{target}/speedup_t{threads}.json"


def control_json(variant: str = "{variant}", target: str = "{target}", threads: int | str = "{threads}") -> str:
    """The A/A control: the baseline ``variant`` timed against itself by the speed-up's method."""
    return f"{RESULTS}/benchmark/{variant}/{target}/control_t{threads}.json"


def crosscheck_csv(variant: str = "{variant}") -> str:
    return f"{RESULTS}/benchmark/{variant}/ultralytics_benchmark.csv"


PEAK_JSON = f"{RESULTS}/benchmark/peak.json"
ENVIRONMENT_JSON = f"{RESULTS}/benchmark/environment.json"
BENCHMARK_CSV = f"{RESULTS}/benchmark.csv"
REPORT_DIR = f"{RESULTS}/report"
REPORT_README = f"{REPORT_DIR}/README.md"
#: The README rendered as one self-contained HTML page: the HTML report's "Summary"
REPORT_SUMMARY_HTML = f"{REPORT_DIR}/summary.html"
#: The README's answer, conclusions and budget answers as an HTML fragment: the HTML report's
#: front page shows it (workflow/report/workflow.rst reads it beside summary.html)
REPORT_FRONT_HTML = f"{REPORT_DIR}/front.html"


def report_figure(name: str) -> str:
    return f"{REPORT_DIR}/{name}.png"


def best_weights(info: Path | str) -> Path:
    """The checkpoint of the run whose ``train_info.json`` is ``info``."""
    return Path(info).parent / BEST_WEIGHTS


# ---------------------------------------------------------------------------------------------
# The CSVs: results/benchmark.csv and each host's hostbench.csv (README "The benchmark CSV")
# ---------------------------------------------------------------------------------------------

#: A row's target, its status and the runtime that ran it: both CSVs.
ROW_COLUMNS = [
    "target",
    "format",
    "threads",
    "status",
    "error",
    "runtime",
    "runtime_version",
    "precision",
]

#: One network-call timing (yoloshrink.bench.stats, cpus pinned): both CSVs.
TIMING_COLUMNS = [
    "cpus",
    "sessions",
    "warmup_calls",
    "warmup_settled",
    "rounds",
    "n_runs",
    "p50_ms",
    "p50_ci_low_ms",
    "p50_ci_high_ms",
    "round_cv",
    "p90_ms",
    "p99_ms",
    "mean_ms",
    "sd_ms",
    "min_ms",
]

#: The benchmark table, one row per (variant, target, threads) (yoloshrink.table).
BENCHMARK_COLUMNS = [
    "variant",
    "family",
    "distilled_from",
    "width",
    "depth",
    "heads",
    *ROW_COLUMNS,
    "end2end",
    "imgsz",
    "parameters",
    "gflops",
    "size_mb",
    "map50_95",
    "map50",
    "val_precision",
    "val_recall",
    "map50_95_delta",
    "parity_ok",
    *TIMING_COLUMNS,
    "e2e_p50_ms",
    "e2e_p50_ci_low_ms",
    "e2e_p50_ci_high_ms",
    "e2e_p90_ms",
    "e2e_mean_ms",
    "pre_p50_ms",
    "infer_p50_ms",
    "post_p50_ms",
    "pre_mean_ms",
    "infer_mean_ms",
    "post_mean_ms",
    "e2e_overhead",
    "dominant_stage",
    "input_path",
    "post_path",
    "int8_setting",
    "int8_tried",
    "gflops_per_s",
    "peak_gflops",
    "fraction_of_peak",
    "theoretical_gflops",
    "fraction_of_theoretical",
    "speedup",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_verdict",
    "speedup_rounds",
    "pair_p50_ms",
    "pair_p50_ci_low_ms",
    "pair_p50_ci_high_ms",
    "pair_baseline_p50_ms",
    "pair_baseline_p50_ci_low_ms",
    "pair_baseline_p50_ci_high_ms",
    "pair_slowdown",
    "baseline_pair_slowdown",
    "pair_interference",
    "between_jobs_sd",
    "between_jobs_df",
    "p50_jobs_ci_low_ms",
    "p50_jobs_ci_high_ms",
    "e2e_p50_jobs_ci_low_ms",
    "e2e_p50_jobs_ci_high_ms",
    "control_target",
    "control_speedup",
    "control_ci_low",
    "control_ci_high",
    "control_passed",
    "aliases",
    "environment",
]


def job_p50s(rows: list[dict[str, Any]], baseline: str) -> dict[str, list[float]]:
    """Each model's network p50 from every job of the run that timed it, in the benchmark rows of
    one target and thread count: ``baseline`` in its own row (``p50_ms``) and in every other
    row's pair (``pair_baseline_p50_ms``); each other variant in its row and its pair
    (``pair_p50_ms``). Missing figures left out."""
    pairs = [r.get("pair_baseline_p50_ms") for r in rows if r["variant"] != baseline]
    out = {}
    for r in rows:
        p50s = [r.get("p50_ms"), *(pairs if r["variant"] == baseline else [r.get("pair_p50_ms")])]
        out[r["variant"]] = [float(x) for x in p50s if isinstance(x, (int, float)) and x == x]
    return out


#: A host's rows (yoloshrink.hostbench): the host, the row, its output check against the
#: training machine's (at the reference's precision), its timing.
HOST_COLUMNS = [
    "host",
    "variant",
    *ROW_COLUMNS,
    "reference_precision",
    "imgsz",
    "check_score_diff",
    "check_box_diff",
    *TIMING_COLUMNS,
]


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

#: Identity fields each kind of record carries.
IDENTITY: dict[str, tuple[str, ...]] = {
    "train_info": ("run", "variant", "seed", "status"),
    "summary": ("variant",),
    "export": ("variant", "format", "status"),
    "accuracy": ("variant", "target", "status"),
    "latency": ("variant", "target", "threads", "status"),
    "speedup": ("variant", "baseline", "target", "threads", "status"),
    "control": ("variant", "baseline", "target", "threads", "status"),
}


class RecordError(ValueError):
    """A record without the fields that say what it is about; the message names the file."""


def write_record(kind: str, path: Path | str, record: dict[str, Any]) -> dict[str, Any]:
    """Write ``record`` (a ``kind`` record) to ``path`` atomically; refuse one missing its identity."""
    missing = [k for k in IDENTITY[kind] if k not in record]
    if missing:
        raise RecordError(f"{path}: a {kind} record must carry {', '.join(missing)}")
    atomic_write_json(Path(path), record)
    return record


def read_record(kind: str, path: Path | str) -> dict[str, Any]:
    """Read a ``kind`` record; RecordError naming the file when it lacks its identity fields."""
    record = read_json(Path(path))
    missing = [k for k in IDENTITY[kind] if k not in record]
    if missing:
        raise RecordError(
            f"{path}: this {kind} record lacks {', '.join(missing)}: it was written by an older version of the "
            f"workflow; run `python -m yoloshrink.layout upgrade` once (see README, 'Results of an older version')"
        )
    return record


def weights_of(info: Path | str) -> Path:
    """``best.pt`` of a finished training; RuntimeError with the training's error if it failed."""
    record = read_record("train_info", info)
    if record["status"] != "ok":
        raise RuntimeError(f"training failed: {record.get('error', 'unknown error')}")
    return best_weights(info)


def export_artefact(export_dir: Path | str) -> Path:
    """The model file or folder an export produced; RuntimeError with the export's (or its
    training's) error when it failed."""
    record = read_record("export", Path(export_dir) / EXPORT_RECORD)
    if record["status"] != "ok":
        raise RuntimeError(f"export failed: {record.get('error', 'unknown error')}")
    return Path(export_dir) / record["artefact"]


def failure(exc: BaseException, **fields: Any) -> dict[str, Any]:
    """A ``failed`` record: ``fields`` (its identity), the error message and a short traceback."""
    import traceback

    return {
        **fields,
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}".strip(),
        "traceback": traceback.format_exc(limit=5),
    }


def read_results_csv(path: Path | str) -> list[dict[str, float]]:
    """Rows of ultralytics' ``results.csv`` with stripped column names and float values."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k.strip(): float(v) for k, v in row.items() if v not in (None, "")} for row in rows]


# ---------------------------------------------------------------------------------------------
# Upgrading the records of an older version (the one place a path is read for what it means)
# ---------------------------------------------------------------------------------------------

_SEED_RUN = re.compile(r"^(?P<variant>.+)-seed(?P<seed>\d+)$")


def _upgrades(root: Path) -> list[tuple[str, Path, dict[str, Any]]]:
    """(kind, file, identity fields implied by its place) for every record under ``root``."""
    out: list[tuple[str, Path, dict[str, Any]]] = []
    for info in sorted(root.glob(f"{RESULTS}/train/*/{TRAIN_INFO}")):
        run = info.parent.name
        m = _SEED_RUN.match(run)
        variant = m["variant"] if m else run
        fields: dict[str, Any] = {"run": run, "variant": variant, "status": "ok"}
        if m:
            fields["seed"] = int(m["seed"])
        out.append(("train_info", info, fields))
    for summary in sorted(root.glob(f"{RESULTS}/models/*/summary.json")):
        # before model families, every variant was a YOLOv8 (no end-to-end head)
        out.append(("summary", summary, {"variant": summary.parent.name, "family": "yolov8", "end2end": False}))
    for record in sorted(root.glob(f"{RESULTS}/export/*/*/{EXPORT_RECORD}")):
        out.append(("export", record, {"variant": record.parent.parent.name, "format": record.parent.name}))
    for acc in sorted(root.glob(f"{RESULTS}/benchmark/*/*/accuracy.json")):
        out.append(("accuracy", acc, {"variant": acc.parent.parent.name, "target": acc.parent.name}))
    for lat in sorted(root.glob(f"{RESULTS}/benchmark/*/*/latency_t*.json")):
        threads = int(lat.stem.removeprefix("latency_t"))
        out.append(("latency", lat, {"variant": lat.parent.parent.name, "target": lat.parent.name, "threads": threads}))
    return out


def upgrade(root: Path = Path(".")) -> list[Path]:
    """Add the identity fields to every record under ``root`` written by an older version (their
    place in this layout says what they are about); return the files changed. A train_info
    without ``seed`` gets the seed its ultralytics arguments recorded.

    Each record, and the folder holding it, keeps its modification time, so that Snakemake
    (which compares them) finds nothing newer than before and reruns nothing because of it.
    """
    changed = []
    for kind, path, fields in _upgrades(Path(root)):
        record = read_json(path)
        if kind == "train_info" and "seed" not in fields:
            fields["seed"] = int((record.get("train_args") or {}).get("seed", 0))
        added = {k: v for k, v in fields.items() if k not in record}
        if added:
            times = [(p, p.stat().st_atime_ns, p.stat().st_mtime_ns) for p in (path, path.parent)]
            write_record(kind, path, {**added, **record})
            for p, atime, mtime in times:
                os.utime(p, ns=(atime, mtime))
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m yoloshrink.layout upgrade [ROOT]``: upgrade an older version's records."""
    ap = argparse.ArgumentParser(prog="python -m yoloshrink.layout", description=main.__doc__)
    ap.add_argument("command", choices=["upgrade"])
    ap.add_argument("root", nargs="?", default=".", type=Path, help="the workflow's folder (holding results/)")
    args = ap.parse_args(argv)
    changed = upgrade(args.root)
    print(f"{len(changed)} record(s) upgraded under {args.root / RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
