"""Time a trained sweep where it will run: the light benchmark of a bundle on a deployment machine.

    python -m yoloshrink.hostbench bundle.tar --host pi5 --out hosts/

needs numpy and the runtimes (``requirements-host.txt``), neither torch nor ultralytics nor the
dataset. It checks the bundle (:func:`yoloshrink.bundle.open_bundle`), then for every model
target and thread count of the bundle: checks that the runtime's outputs on the bundle's inputs
match the training machine's within a tolerance (:func:`compare`; a broken runtime or a bad
copy gives a failed row with the reason, not a fast number) and times the network call with the
workflow's method (:mod:`yoloshrink.bench.timing`: pinned cores, warm-up until steady,
interleaved rounds in sessions that load the model afresh; p50 with its bootstrap interval,
:mod:`yoloshrink.bench.stats`). A runtime this host lacks gives failed rows naming it; the
others go on. It writes ``<out>/<host>/hostbench.csv``, ``environment.json`` (this machine) and
``bundle.json`` (what was timed), all at once: a failure leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink import layout, targets
from yoloshrink.bundle import BundleError, check_host, open_bundle
from yoloshrink.fsutil import atomic_write_json, fresh_tmp_dir, publish_dir

#: The module each runtime of :mod:`yoloshrink.targets` is imported as (a host checks that it is
#: installed before timing a target of that runtime).
RUNTIME_MODULES = {name: r.module for name, r in targets.RUNTIMES.items()}
#: Largest output difference from the training machine's that passes, per kind of precision:
#: (scores, box coordinates in pixels), compared at their 99th percentile over the outputs.
TOLERANCE = {"float": (1e-3, 0.5), "reduced": (0.05, 4.0)}


def compare(outs: np.ndarray, ref: np.ndarray, end2end: bool, exact: bool) -> tuple[float, float, str]:
    """(score difference, box difference, problem or "") of this host's outputs ``outs`` against
    the training machine's ``ref`` (same inputs, same shape). Differences are 99th percentiles of
    the absolute differences; ``exact``: both ran f32 (else bf16, f16 or int8 on either side,
    whose rounding differs between CPUs). An end-to-end head's rows are ranked by confidence, so
    there only the ranked confidences are compared."""
    if outs.shape != ref.shape:
        return float("nan"), float("nan"), f"output shape {outs.shape} differs from the training machine's {ref.shape}"
    if not np.isfinite(outs).all():
        return float("nan"), float("nan"), "outputs are not finite"
    score_tol, box_tol = TOLERANCE["float" if exact else "reduced"]
    if end2end:
        scores = np.abs(-np.sort(-outs[..., 4], axis=-1) - -np.sort(-ref[..., 4], axis=-1))
        boxes = np.zeros(1)
    else:
        scores, boxes = np.abs(outs[..., 4:, :] - ref[..., 4:, :]), np.abs(outs[..., :4, :] - ref[..., :4, :])
    s, b = float(np.percentile(scores, 99)), float(np.percentile(boxes, 99))
    problems = []
    if s > score_tol:
        problems.append(f"scores differ by {s:.3g} (99th percentile) > {score_tol:g}")
    if b > box_tol:
        problems.append(f"boxes differ by {b:.3g} px (99th percentile) > {box_tol:g}")
    return s, b, ("outputs differ from the training machine's: " + "; ".join(problems)) if problems else ""


def time_model(model: dict[str, Any], threads: int, root: Path, plan: Any, inputs: dict[str, str]) -> dict[str, Any]:
    """One row: check ``model``'s (a manifest entry) outputs against the reference, then time its
    network call on ``threads`` pinned cores with ``plan``. ``inputs``: the manifest's input
    files by image size."""
    from yoloshrink.bench.runners import make_runner
    from yoloshrink.bench.stats import summarize
    from yoloshrink.bench.timing import in_sessions, pin_cores
    from yoloshrink.targets import TARGETS

    spec = TARGETS[model["target"]]
    row: dict[str, Any] = {k: model[k] for k in ("variant", "target", "format", "imgsz")}
    row.update(threads=int(threads), runtime=spec.runtime, reference_precision=model.get("precision", ""))
    if model["status"] != "ok":
        return {**row, "status": "failed", "error": model["error"]}
    if importlib.util.find_spec(RUNTIME_MODULES[spec.runtime]) is None:
        return {**row, "status": "failed", "error": f"{spec.runtime} is not installed on this host"}
    try:
        if spec.runtime == "torch":  # torch's own threads too (a host with torch)
            from yoloshrink.bench.latency import set_threads

            cpus = set_threads(threads)
        else:
            cpus = pin_cores(threads)
        images = np.load(root / next(v for k, v in inputs.items() if int(k) == model["imgsz"]))
        runner = make_runner(model["target"], root / model["model"], threads)
        outs = np.stack([runner.to_numpy(runner.run(runner.prepare(lb))) for lb in images]).astype(np.float32)
        exact = runner.precision == "f32" and model.get("precision") == "f32"
        s, b, problem = compare(outs, np.load(root / model["reference"]), runner.end2end, exact)
        row.update(
            runtime_version=runner.runtime_version,
            precision=runner.precision,
            check_score_diff=s,
            check_box_diff=b,
            cpus=",".join(map(str, cpus)),
        )
        if problem:
            return {**row, "status": "failed", "error": problem}
        del runner

        def load() -> dict[str, Callable[[], Any]]:
            fresh = make_runner(model["target"], root / model["model"], threads)
            x = fresh.prepare(images[0])
            return {"net": lambda: fresh.run(x)}

        timed, warm = in_sessions(load, plan)
        stats = summarize(timed["net"])
        row.update(status="ok", error="", n_runs=stats["n"], **warm)
        row.update({k: stats[k] for k in layout.TIMING_COLUMNS if k in stats})
        return row
    except Exception as exc:
        return {**row, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}


def host_environment() -> dict[str, Any]:
    """This machine: :func:`yoloshrink.environment.collect_environment` (CPU, flags, cores,
    versions, the yoloshrink commit where it is a checkout) and the code digest."""
    from yoloshrink.bundle import code_digest
    from yoloshrink.environment import collect_environment

    return {**collect_environment(), "code_digest": code_digest()}


def check_threads(threads: list[int] | None, available: int) -> None:
    """BundleError naming every asked thread count below 1 or beyond this host's ``available``
    cores (``--threads``): nothing is timed or written then."""
    bad = [t for t in threads or [] if not 1 <= int(t) <= available]
    if bad:
        raise BundleError(
            f"--threads {' '.join(map(str, bad))}: this host may use {available} core(s); "
            f"time 1 to {available} thread(s) per row"
        )


def run_host(
    bundle: Path,
    host: str,
    out: Path,
    threads: list[int] | None = None,
    progress: Callable[[str], None] = print,
) -> Path:
    """Check and time ``bundle`` on this machine as ``host``; write ``<out>/<host>/`` (module
    docstring) and return it. BundleError for a bad host name, thread count, output folder or
    bundle, before any timing, and when no row succeeded: an earlier result of the host is
    then kept, and nothing is left behind. A row whose thread count the bundle names but this
    host cannot meet is a failed row."""
    from yoloshrink.bench.timing import TimingPlan, allowed_cores

    check_host(host)
    check_threads(threads, len(allowed_cores()))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BundleError(f"--out {out} is a file: name a folder to write {host}/ into")
    made = [p for p in (out, *out.parents) if not p.exists()]  # removed again if nothing is published
    out_dir = out / host
    tmp = fresh_tmp_dir(out_dir)
    try:
        manifest = open_bundle(Path(bundle), tmp / ".bundle")
        plan = TimingPlan.from_config(manifest["timing"])
        counts = [int(t) for t in (threads or manifest["threads"])]
        jobs = [(m, t) for m in manifest["models"] for t in counts]
        progress(f"{bundle}: {len(manifest['models'])} model targets x {len(counts)} thread count(s) on {host}")
        environment = {**host_environment(), "host": host}  # before any row pins this process
        rows = []
        for i, (model, t) in enumerate(jobs, 1):
            row = {"host": host, **time_model(model, t, tmp / ".bundle", plan, manifest["inputs"])}
            rows.append(row)
            what = f"p50 {row['p50_ms']:.2f} ms" if row["status"] == "ok" else f"failed: {row['error']}"
            progress(f"[{i}/{len(jobs)}] {model['variant']} {model['target']} {t} thread(s): {what}")
        if not any(r["status"] == "ok" for r in rows):
            kept = f"; {out_dir} keeps its earlier result" if out_dir.exists() else ""
            first = rows[0]["error"] if rows else "the bundle has no model"
            raise BundleError(f"{bundle}: no row succeeded on {host} (first: {first}){kept}")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=layout.HOST_COLUMNS)  # a field not in it raises
        writer.writeheader()
        writer.writerows(rows)
        (tmp / layout.HOST_CSV).write_text(buffer.getvalue())
        atomic_write_json(tmp / "environment.json", environment)
        keep = {k: v for k, v in manifest.items() if k != "files"}
        atomic_write_json(tmp / "bundle.json", {**keep, "threads_timed": counts})
        shutil.rmtree(tmp / ".bundle")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in made:  # the folders this call made, innermost first, if still empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    publish_dir(tmp, out_dir)
    return out_dir


def failed_rows(folder: Path) -> int:
    """How many rows of a host folder's CSV failed."""
    with open(folder / layout.HOST_CSV, newline="") as f:
        return sum(row["status"] != "ok" for row in csv.DictReader(f))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yoloshrink.hostbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="the bundle tar (snakemake bundle / make bundle)")
    parser.add_argument("--host", required=True, help="this machine's name in the report (letters, digits, . _ -)")
    parser.add_argument("--out", type=Path, default=Path("hosts"), help="folder to write <host>/ into (default hosts/)")
    parser.add_argument("--threads", type=int, nargs="+", help="thread counts to time (default: the bundle's)")
    args = parser.parse_args(argv)
    try:
        out = run_host(args.bundle, args.host, args.out, args.threads)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: copy it to results/hosts/{args.host}/ on the training machine")
    failed = failed_rows(out)
    if failed:  # written, but not every row: the exit status says so
        print(f"{failed} row(s) failed: see their error in {out / layout.HOST_CSV}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
