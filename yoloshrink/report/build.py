"""The report rule: read the benchmark table and the records, compute, draw, and write README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from yoloshrink import layout
from yoloshrink.fsutil import atomic_write_text, read_json
from yoloshrink.report import analysis, answer, figures, int8, levers, pairs, text
from yoloshrink.report import hosts as hosts_module
from yoloshrink.report.markdown import front_fragment, html_page, markdown_table
from yoloshrink.report.seeds import seed_sd, seed_spread, seed_stats, seeds_summary

#: The benchmark table's columns shown in the report (those present).
BENCH_COLUMNS = [
    "variant",
    "target",
    "threads",
    "status",
    "precision",
    "imgsz",
    "size_mb",
    "map50_95",
    "map50",
    "map50_95_delta",
    "p50_ms",
    "p50_ci_low_ms",
    "p50_ci_high_ms",
    "round_cv",
    "p90_ms",
    "n_runs",
    "gflops_per_s",
    "speedup",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_verdict",
]


def read_runs(
    infos: list[Path], runs: dict[str, dict[str, Any]] | None
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, Path]]:
    """(runs, run -> its train_info record, run -> its folder) of the training records ``infos``.

    ``runs`` (run -> {"variant", "seed", "primary"}) says which seed of a variant is its primary;
    without it the records say: each names its own run, variant and seed, and a variant's primary
    run is the one named after it (the workflow's layout), else its only or first one.
    """
    records = {Path(p): layout.read_record("train_info", p) for p in infos if Path(p).exists()}
    run_info = {r["run"]: r for r in records.values()}
    run_dirs = {r["run"]: p.parent for p, r in records.items()}
    if runs is None:
        named = {r["variant"] for r in records.values() if r["run"] == r["variant"]}
        runs, seen = {}, set()
        for r in records.values():
            v = r["variant"]
            primary = r["run"] == v if v in named else v not in seen
            seen.add(v)
            runs[r["run"]] = {"variant": v, "seed": r.get("seed"), "primary": primary}
    return dict(runs), run_info, run_dirs


def build_report(
    csv: Path,
    variants: list[str],
    infos: list[Path],
    summaries: list[Path],
    out_dir: Path,
    val_images: list[Path] | None = None,
    imgsz: int | dict[str, int] = 640,
    reference: Path | None = None,
    environment: Path | None = None,
    card: Path | None = None,
    excluded: Path | None = None,
    budgets_ms: list[float] | None = None,
    runs: dict[str, dict[str, Any]] | None = None,
    peak: Path | None = None,
    validation: Path | None = None,
    budget_basis: str = "frame",
    int8_exports: list[Path] | None = None,
    hosts: list[Path] | None = None,
    dataset_source: str | None = None,
    baseline: str | None = None,
) -> None:
    """Write the figures and README.md of the report into ``out_dir``.

    ``baseline`` is the variant every other is compared with (the workflow's BASELINE, the report
    rule's parameter; without it, the first of ``variants``); the table's baseline rows must be
    its (else ValueError naming ``csv``).

    ``budget_basis`` says what the budget answers measure ("frame" or "network",
    :func:`yoloshrink.report.analysis.budget_view`); ``int8_exports`` are the INT8 export
    folders whose quantizer records the INT8 section reports; ``hosts`` the
    ``results/hosts/<host>/`` folders of the deployment machines (:mod:`yoloshrink.report.hosts`).

    ``infos`` are the train_info.json records of every training run and ``runs`` run name ->
    {"variant", "seed", "primary"}; without ``runs`` each record is its variant's only run.
    ``imgsz`` is one input size or each variant's own. A variant listed in ``variants`` whose
    files are missing is shown as missing in the tables. ``dataset_source`` (the config's
    ``dataset.source``) says whether the accuracy comes from the built-in generated dataset.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(csv)
    baseline = baseline if baseline is not None else variants[0]
    if "speedup_verdict" in df.columns:
        theirs = sorted(set(df.loc[df["speedup_verdict"] == "baseline", "variant"]) - {baseline})
        if theirs:
            problem = f"its baseline rows are {theirs}'s, but the baseline is {baseline!r}"
            raise ValueError(f"{csv}: {problem}; rerun the table")
    colors = figures.variant_colors(variants)
    runs, run_info, run_dirs = read_runs(infos, runs)
    primary = {r["variant"]: run for run, r in runs.items() if r.get("primary")}
    info = {v: run_info[run] for v, run in primary.items() if run in run_info}
    stats = seed_stats(runs, run_info)

    def curves_of(run: str) -> list[dict[str, float]] | None:
        csv_file = run_dirs[run] / layout.RESULTS_CSV if run in run_dirs else None
        if run_info.get(run, {}).get("status") == "ok" and csv_file and csv_file.exists():
            return layout.read_results_csv(csv_file)
        return None

    curves = {v: c for v, run in primary.items() if (c := curves_of(run)) is not None}
    others: dict[str, list[list[dict[str, float]]]] = {}
    for run, r in runs.items():
        if not r.get("primary") and (c := curves_of(run)) is not None:
            others.setdefault(r["variant"], []).append(c)
    summ = {v: read_json(p) for v, p in zip(variants, summaries, strict=True) if p.exists()}
    ref = yaml.safe_load(reference.read_text()) if reference else None

    figures.plot_training_curves(curves, info, colors, out_dir / "training_curves.png", others)
    sds = {v: seed_sd(stats, v) for v in variants}
    figures.plot_accuracy_vs_latency(df, colors, out_dir / "accuracy_vs_latency.png", ref, sds)
    figures.plot_latency(df, summ, colors, out_dir / "latency.png", baseline)
    figures.plot_size(df, summ, colors, out_dir / "size.png")
    if val_images:
        trained = {v: layout.best_weights(run_dirs[primary[v]] / layout.TRAIN_INFO) for v in curves}
        figures.plot_predictions(trained, val_images, imgsz, colors, out_dir / "predictions.png")

    context = readme_context(df, variants, baseline, summ, info, stats, budgets_ms or [], ref, budget_basis)
    context["int8"] = int8_context(int8_exports or [])
    timed_hosts = hosts_module.read_hosts(hosts or [])
    figures.plot_hosts(df, timed_hosts, out_dir / "hosts.png")
    context["hosts"] = host_context(df, timed_hosts, budgets_ms or [])
    context.update(dataset_context(card, validation, excluded))
    card_record = read_json(card) if card and card.exists() else None
    context["accuracy"] = answer.accuracy_context(info, card_record, ref, variants, dataset_source)
    context.update(machine_context(environment, peak, df))
    readme = text.render_readme(context)
    atomic_write_text(out_dir / "README.md", readme)
    title = "Shrinking a YOLO detector: the report"
    atomic_write_text(out_dir / Path(layout.REPORT_SUMMARY_HTML).name, html_page(readme, out_dir, title))
    atomic_write_text(out_dir / Path(layout.REPORT_FRONT_HTML).name, front_fragment(readme))


def readme_context(
    df: pd.DataFrame,
    variants: list[str],
    baseline: str,
    summaries: dict[str, dict[str, Any]],
    infos: dict[str, dict[str, Any]],
    stats: pd.DataFrame,
    budgets_ms: list[float],
    ref: dict[str, Any] | None,
    budget_basis: str = "frame",
) -> dict[str, Any]:
    """The numbers and tables of the README's results sections."""
    bench_cols = [c for c in BENCH_COLUMNS if c in df.columns]
    failed = df[df["status"] != "ok"]
    budget_df = analysis.budget_view(df, budget_basis)
    budget = analysis.budget_per_target(budget_df, budgets_ms, stats)
    return {
        "baseline": baseline,
        "answer": answer_context(df, variants, summaries, baseline),
        "comparisons": analysis.comparisons(df, summaries, variants, baseline),
        "speedup_table": markdown_table(paired) if len(paired := pairs.speedup_table(df)) else "",
        "controls": pairs.controls(df),
        "interfered": pairs.interfered(df),
        "drift": pairs.drift(df, baseline),
        "timing_sessions": int(df["sessions"].max())
        if "sessions" in df.columns and df["sessions"].notna().any()
        else 0,
        "seed_spread": seed_spread(stats, variants, baseline),
        "seeds": seeds_summary(stats),
        "levers": lever_context(df, stats),
        "budget_tables": {t: markdown_table(table) for t, table in analysis.budget_tables(budget).items()},
        "budget_overall": analysis.budget_overall(budget_df, budgets_ms, stats),
        "budget_basis": budget_basis,
        "budget_unit": analysis.BASIS_UNIT[budget_basis],
        "frame_fastest": analysis.fastest_frames(df),
        "frame_table": markdown_table(analysis.frame_table(df)),
        "above_reference": analysis.above_reference(df),
        "non_dominated_table": markdown_table(analysis.non_dominated_table(df)),
        "variant_table": markdown_table(analysis.variant_table(variants, summaries, infos, stats)),
        "sizes": sorted({int(x) for x in df["imgsz"].dropna()}) if "imgsz" in df.columns else [],
        "benchmark_table": markdown_table(df[bench_cols]),
        "failed_table": markdown_table(failed[["variant", "target", "threads", "error"]]) if len(failed) else "",
        "reference": ref,
        "reference_table": markdown_table(analysis.reference_table(ref)) if ref else "",
        "reference_benchmark_table": markdown_table(analysis.reference_benchmark_table(ref), digits=4) if ref else "",
    }


def answer_context(
    df: pd.DataFrame, variants: list[str], summaries: dict[str, dict[str, Any]], baseline: str
) -> dict[str, Any] | None:
    """The report's first section (:mod:`yoloshrink.report.answer`): where, per-variant items,
    the table; None without a completed baseline row."""
    where, items = answer.answer_rows(df, variants, summaries, baseline)
    if where is None:
        return None
    return {
        "where": where,
        "items": items,
        "table": markdown_table(answer.answer_table(items, baseline, where["basis"])),
    }


def host_context(df: pd.DataFrame, timed: dict[str, dict[str, Any]], budgets_ms: list[float]) -> dict[str, Any]:
    """The deployment machines' section: each host's machine, the side-by-side table, the budget
    answers per host (empty when no host was timed)."""
    if not timed:
        return {}
    return {
        "machines": {name: hosts_module.machine(h["environment"]) for name, h in timed.items()},
        "table": markdown_table(hosts_module.host_table(df, timed)),
        "budgets": hosts_module.host_budgets(df, timed, budgets_ms),
    }


def int8_context(exports: list[Path]) -> list[dict[str, Any]]:
    """Per INT8 export chosen by "auto": the facts of its choice and its candidates' table."""
    out = []
    for folder in exports:
        path = Path(folder) / layout.EXPORT_RECORD
        if not path.exists():
            continue
        record = layout.read_record("export", path)
        facts = int8.choice(record)
        if facts is not None:
            out.append({"choice": facts, "table": markdown_table(int8.candidate_table(record))})
    return out


def lever_context(df: pd.DataFrame, stats: pd.DataFrame) -> list[dict[str, Any]]:
    """Per lever with at least one pair (:mod:`yoloshrink.report.levers`): its summary, the
    runtime it was timed on and its table."""
    out = []
    for lever in levers.LEVERS:
        items = levers.compare(df, stats, lever)
        if items:
            summary = levers.summary(items, lever)
            runtime = levers.runtime_of(df, summary["target"])
            out.append({"summary": summary, "runtime": runtime, "table": markdown_table(levers.lever_table(items))})
    return out


def dataset_context(card: Path | None, validation: Path | None, excluded: Path | None) -> dict[str, Any]:
    """The dataset card, validation warnings and excluded files of the README's Dataset section."""
    from yoloshrink.datasets.card import card_markdown

    out: dict[str, Any] = {"card": "", "warnings": [], "excluded_table": "", "excluded_count": 0}
    if not (card and card.exists()):
        return out
    out["card"] = card_markdown(read_json(card))
    out["warnings"] = read_json(validation).get("warnings", []) if validation and validation.exists() else []
    left_out = pd.read_csv(excluded) if excluded and excluded.exists() and excluded.stat().st_size else None
    if left_out is not None and len(left_out):
        out["excluded_count"] = len(left_out)
        out["excluded_table"] = markdown_table(left_out.head(20))
    return out


def machine_context(environment: Path | None, peak: Path | None, df: pd.DataFrame) -> dict[str, Any]:
    """The machine the benchmark ran on, its roofs, and each variant's floors under them."""
    peak_record = read_json(peak) if peak and peak.exists() else {}
    env = read_json(environment) if environment and environment.exists() else None
    if env:
        env = {
            **{k: env.get(k) for k in ("cpu_model", "logical_cores", "date", "host", "workflow_commit")},
            "on_slurm": "slurm_bench_constraint" in env,
            "slurm_bench_constraint": env.get("slurm_bench_constraint"),
            "flags": [k for k, v in env.get("cpu_flags", {}).items() if v],
            "versions": [f"{k} {v}" for k, v in env.get("packages", {}).items() if v],
        }
    facts = analysis.roof_facts(peak_record)
    floors = markdown_table(analysis.floor_table(df, peak_record or None))
    return {"environment": env, "roof_method": facts["method"], "theory": facts["theory"], "floor_table": floors}
