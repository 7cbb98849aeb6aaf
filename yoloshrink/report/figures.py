"""The report: figures (PNG) and a Markdown summary under results/report/.

Every number in the text comes from the benchmark CSV and the training records; nothing is
written by hand. Colours are the Okabe-Ito palette (colour-blind safe), one per variant, the
same in every figure.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import yaml

from yoloshrink.fsutil import atomic_write_text, read_json
from yoloshrink.train import read_results_csv

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = {
    "pytorch": "o",
    "torchscript": "s",
    "onnx": "^",
    "openvino": "D",
    "openvino-f32": "d",
    "openvino-bf16": "p",
    "ncnn": "v",
    "onnx-int8": "<",
    "openvino-int8": ">",
}
#: train_info.json ``final_metrics`` key -> short name used in :func:`seed_stats` columns.
SEED_METRICS = {
    "metrics/mAP50-95(B)": "map50_95",
    "metrics/mAP50(B)": "map50",
    "metrics/precision(B)": "precision",
    "metrics/recall(B)": "recall",
}
CURVES = [
    ("metrics/mAP50-95(B)", "mAP50-95"),
    ("metrics/mAP50(B)", "mAP50"),
    ("metrics/precision(B)", "precision"),
    ("metrics/recall(B)", "recall"),
    ("train/box_loss", "train box loss"),
    ("val/box_loss", "val box loss"),
    ("train/cls_loss", "train cls loss"),
    ("val/cls_loss", "val cls loss"),
    ("train/dfl_loss", "train dfl loss"),
    ("val/dfl_loss", "val dfl loss"),
]


def variant_colors(variants: list[str]) -> dict[str, str]:
    """One fixed colour per variant, in config order."""
    return {v: OKABE_ITO[i % len(OKABE_ITO)] for i, v in enumerate(variants)}


def _save(fig: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)


def plot_training_curves(
    curves: dict[str, list[dict[str, float]]],
    infos: dict[str, dict[str, Any]],
    colors: dict[str, str],
    path: Path,
    other_seeds: dict[str, list[list[dict[str, float]]]] | None = None,
) -> None:
    """Every variant's training curves overlaid, one panel per metric, best epoch marked.

    ``curves`` are the primary seed's runs (the models exported); ``other_seeds`` (variant -> curves
    of its other seeds) are drawn faintly in the same colour, to show the seed-to-seed spread.
    """
    fig, axes = plt.subplots(2, 5, figsize=(20, 7.5))
    for ax, (key, label) in zip(axes.flat, CURVES, strict=True):
        for variant, seed_rows in (other_seeds or {}).items():
            for rows in seed_rows:
                xs = [r["epoch"] for r in rows if key in r]
                ax.plot(xs, [r[key] for r in rows if key in r], color=colors[variant], lw=0.8, alpha=0.35)
        for variant, rows in curves.items():
            xs = [r["epoch"] for r in rows if key in r]
            ys = [r[key] for r in rows if key in r]
            ax.plot(xs, ys, color=colors[variant], label=variant, lw=1.6)
            best = infos.get(variant, {}).get("best_epoch")
            if best and best <= len(rows) and key in rows[best - 1]:
                ax.plot(best, rows[best - 1][key], marker="*", ms=12, color=colors[variant], mec="k")
            if infos.get(variant, {}).get("early_stop") and xs:
                ax.axvline(xs[-1], color=colors[variant], ls=":", lw=1)
        ax.set_title(label)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    title = "variant (★ best epoch" + ("; faint: other seeds)" if other_seeds else ")")
    axes.flat[0].legend(title=title)
    fig.suptitle("Training curves (validation metrics and losses per epoch)")
    _save(fig, path)


REFERENCE_PANEL = "Original experiment (GPU machine, ultralytics' validator ms/image; not CPU p50s)"


def accuracy_latency_figure(
    df: pd.DataFrame,
    colors: dict[str, str],
    reference: dict[str, Any] | None = None,
    seed_sd: dict[str, float] | None = None,
) -> Any:
    """mAP50-95 against p50 latency (log scale), a panel per thread count; colour = variant,
    marker = target. Returns the matplotlib figure.

    ``reference`` (the original experiment) gets a panel of its own, titled
    :data:`REFERENCE_PANEL`: its times were measured on a GPU machine by ultralytics' validator,
    so they are never drawn beside this machine's CPU p50s. ``seed_sd`` (variant -> sample sd
    of its PyTorch mAP50-95 over training seeds, for variants with more than one seed) is drawn
    as a vertical error bar of ± sd on each of its points.
    """
    ok = df[df["status"] == "ok"]
    threads = sorted(df["threads"].dropna().unique())
    ref_bench = (reference or {}).get("benchmark") or {}
    n = max(len(threads), 1) + (1 if ref_bench else 0)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 5), squeeze=False)
    for ax, t in zip(axes.flat, threads, strict=False):
        sub = ok[ok["threads"] == t]
        for _, r in sub.iterrows():
            sd = (seed_sd or {}).get(r["variant"], math.nan)
            if sd == sd:
                ax.errorbar(
                    r["p50_ms"],
                    r["map50_95"],
                    yerr=sd,
                    fmt="none",
                    ecolor=colors.get(r["variant"], "k"),
                    elinewidth=1,
                    capsize=3,
                    zorder=1,
                )
            ax.scatter(
                r["p50_ms"],
                r["map50_95"],
                color=colors.get(r["variant"], "k"),
                marker=MARKERS.get(r["target"], "o"),
                s=70,
                edgecolor="k",
            )
        front = pareto_front(sub)
        if len(front):
            ax.step(
                front["p50_ms"],
                front["map50_95"],
                where="post",
                color="grey",
                ls="--",
                lw=1,
                label="Pareto front",
            )
        ax.set_xscale("log")
        ax.set_xlabel("latency p50 on this CPU (ms per image, log scale)")
        ax.set_ylabel("mAP50-95 (val)")
        ax.set_title(f"{int(t)} thread(s)")
        ax.grid(alpha=0.3, which="both")
    if ref_bench:
        ax = axes.flat[-1]
        ref_colors = variant_colors(list(reference.get("variants") or {}))
        for fmt, per_variant in ref_bench.items():
            for v, (_size, m, ms) in per_variant.items():
                ax.scatter(
                    ms, m, marker=MARKERS.get(fmt, "P"), s=60, facecolor="none", edgecolor=ref_colors.get(v, "k")
                )
        ax.set_xscale("log")
        ax.set_xlabel("ultralytics validator time on a GPU machine (ms per image, log scale)")
        ax.set_ylabel("mAP50-95 (val, CSGO dataset)")
        ax.set_title(REFERENCE_PANEL, fontsize=9)
        ax.grid(alpha=0.3, which="both")
    handles = [plt.Line2D([], [], color=c, marker="o", ls="", label=v) for v, c in colors.items()]
    present = set(ok["target"]) | set(ref_bench)
    handles += [
        plt.Line2D([], [], color="k", marker=m, ls="", mfc="w", label=f) for f, m in MARKERS.items() if f in present
    ]
    if seed_sd and any(sd == sd for sd in seed_sd.values()):
        handles.append(plt.Line2D([], [], color="k", marker="|", ms=10, ls="", label="± seed-to-seed sd"))
    axes.flat[len(threads) - 1 if threads else 0].legend(handles=handles, loc="best", fontsize=8)
    fig.suptitle("Accuracy against latency per format")
    return fig


def plot_accuracy_vs_latency(
    df: pd.DataFrame,
    colors: dict[str, str],
    path: Path,
    reference: dict[str, Any] | None = None,
    seed_sd: dict[str, float] | None = None,
) -> None:
    """Save :func:`accuracy_latency_figure` to ``path``."""
    _save(accuracy_latency_figure(df, colors, reference, seed_sd), path)


def plot_latency(df: pd.DataFrame, summaries: dict[str, dict[str, Any]], colors: dict[str, str], path: Path) -> None:
    """p50 per target grouped by variant with p90 whiskers; speed-up over the baseline vs FLOP ratio."""
    ok = df[df["status"] == "ok"]
    threads = sorted(df["threads"].dropna().unique())
    variants = [v for v in colors if v in set(df["variant"])]
    targets = list(dict.fromkeys(df["target"]))
    fig, axes = plt.subplots(1, len(threads) + 1, figsize=(6.5 * (len(threads) + 1), 4.8), squeeze=False)
    width = 0.8 / max(len(variants), 1)
    for ax, t in zip(axes.flat, threads, strict=False):
        sub = ok[ok["threads"] == t].set_index(["variant", "target"])
        for i, v in enumerate(variants):
            xs, p50, err = [], [], []
            for j, tg in enumerate(targets):
                if (v, tg) in sub.index:
                    r = sub.loc[(v, tg)]
                    xs.append(j + i * width)
                    p50.append(r["p50_ms"])
                    err.append(max(r["p90_ms"] - r["p50_ms"], 0))
            ax.bar(xs, p50, width, yerr=[[0] * len(err), err], color=colors[v], label=v, capsize=3)
        ax.set_xticks([j + width * (len(variants) - 1) / 2 for j in range(len(targets))], targets, rotation=30)
        ax.set_ylabel("latency p50 (ms), whisker to p90")
        ax.set_title(f"{int(t)} thread(s)")
        ax.grid(alpha=0.3, axis="y")
        ax.legend()
    ax = axes.flat[-1]
    base = variants[0] if variants else None
    for i, v in enumerate(variants[1:], start=1):
        for k, t in enumerate(threads):
            sub = ok[(ok["variant"] == v) & (ok["threads"] == t)].set_index("target")["speedup"]
            ax.plot(
                [targets.index(tg) for tg in sub.index],
                sub.values,
                marker="o",
                color=colors[v],
                ls=["-", "--", ":", "-."][k % 4],
                label=f"{v}, {int(t)} thread(s)",
            )
        if base in summaries and v in summaries:
            ratio = _gflops(df, summaries, base) / _gflops(df, summaries, v)
            ax.axhline(ratio, color=colors[v], lw=1, alpha=0.6)
            ax.text(0, ratio, f" FLOP ratio {ratio:.2f}x", color=colors[v], va="bottom", fontsize=8)
        _ = i
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xticks(range(len(targets)), targets, rotation=30)
    ax.set_ylabel(f"speed-up over {base} (p50 ratio)")
    ax.set_title("speed-up vs FLOP ratio")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Latency per target (batch 1)")
    _save(fig, path)


def plot_predictions(
    weights: dict[str, Path], images: list[Path], imgsz: int | dict[str, int], colors: dict[str, str], path: Path
) -> None:
    """Ground truth and every variant's predictions (PyTorch, conf >= 0.25) on the same images.

    ``imgsz`` is one input size for all, or each variant's own (variant -> size).
    """
    import cv2
    from ultralytics import YOLO

    models = {v: YOLO(str(w), task="detect") for v, w in weights.items()}
    cols = ["ground truth", *models]
    fig, axes = plt.subplots(len(images), len(cols), figsize=(3.6 * len(cols), 2.9 * len(images)), squeeze=False)
    for row, image_path in enumerate(images):
        image = cv2.imread(str(image_path))
        h, w = image.shape[:2]
        label_file = Path(str(image_path).rsplit("/images/", 1)[0] + "/labels/" + image_path.stem + ".txt")
        gt = image.copy()
        if label_file.exists():
            for line in label_file.read_text().split("\n"):
                if line.strip():
                    c, x, y, bw, bh = map(float, line.split()[:5])
                    p1 = (int((x - bw / 2) * w), int((y - bh / 2) * h))
                    p2 = (int((x + bw / 2) * w), int((y + bh / 2) * h))
                    cv2.rectangle(gt, p1, p2, (0, 200, 0) if c == 0 else (0, 0, 230), 1)
        panels = [gt]
        for v, m in models.items():
            size = variant_imgsz(imgsz, v)
            res = m.predict(image, imgsz=size, conf=0.25, device="cpu", verbose=False)[0]
            panels.append(res.plot(line_width=1, font_size=8))
        for col, panel in enumerate(panels):
            ax = axes[row, col]
            ax.imshow(panel[:, :, ::-1])
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(cols[col], color=colors.get(cols[col], "k"))
    fig.suptitle("Validation images: ground truth and each variant's predictions")
    _save(fig, path)


def variant_imgsz(imgsz: int | dict[str, int], variant: str, default: int = 640) -> int:
    """The input size of ``variant``: ``imgsz`` itself when one size is given for all."""
    return int(imgsz.get(variant, default)) if isinstance(imgsz, dict) else int(imgsz)


def pareto_front(df: pd.DataFrame) -> pd.DataFrame:
    """Rows not dominated in (lower p50_ms, higher map50_95), sorted by latency."""
    d = df.dropna(subset=["p50_ms", "map50_95"]).sort_values(["p50_ms", "map50_95"], ascending=[True, False])
    best, keep = -math.inf, []
    for idx, r in d.iterrows():
        if r["map50_95"] > best:
            keep.append(idx)
            best = r["map50_95"]
    return d.loc[keep]


def plot_size(df: pd.DataFrame, summaries: dict[str, dict[str, Any]], colors: dict[str, str], path: Path) -> None:
    """Parameters, GFLOPs and file size per format, per variant."""
    variants = list(summaries)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    axes[0].bar(variants, [summaries[v]["parameters"] / 1e6 for v in variants], color=[colors[v] for v in variants])
    axes[0].set_ylabel("parameters (millions)")
    axes[1].bar(variants, [summaries[v]["gflops_640"] for v in variants], color=[colors[v] for v in variants])
    axes[1].set_ylabel("GFLOPs at 640 px")
    sizes = df.drop_duplicates(["variant", "format"]).pivot(index="format", columns="variant", values="size_mb")
    width = 0.8 / max(len(variants), 1)
    for i, v in enumerate(variants):
        if v in sizes:
            axes[2].bar([x + i * width for x in range(len(sizes))], sizes[v], width, color=colors[v], label=v)
    axes[2].set_xticks([x + width * (len(variants) - 1) / 2 for x in range(len(sizes))], sizes.index)
    axes[2].set_ylabel("file size (MB)")
    axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Model size per variant")
    _save(fig, path)


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or x is pd.NA:
        return "–"
    if isinstance(x, float):
        if math.isnan(x):
            return "–"
        return f"{int(x)}" if x.is_integer() and abs(x) >= 1 else f"{x:.{digits}f}"
    return str(x)


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table of ``df``."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_fmt(v, digits) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _known(x: Any) -> bool:
    return x is not None and x == x


def seed_stats(runs: dict[str, dict[str, Any]], infos: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Per variant, the spread of its final validation metrics over training seeds.

    ``runs`` is run name -> {"variant", "seed", "primary"}; ``infos`` run name -> its
    train_info.json (a run absent from ``infos`` counts as not completed). Only runs with status
    "ok" count. Index: variant (in order of first appearance in ``runs``); columns: ``n`` (completed
    runs), ``n_runs`` (runs planned), ``seeds`` (completed seeds, sorted), ``primary_seed`` (the seed
    whose model is exported and benchmarked), and ``<metric>_mean`` / ``<metric>_sd`` for each
    metric of :data:`SEED_METRICS` (``_sd`` is the sample sd, ddof=1, NaN when fewer than 2 values).
    """
    by_variant: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for run, r in runs.items():
        by_variant.setdefault(r["variant"], []).append((run, r))
    rows = []
    for variant, members in by_variant.items():
        done = [(r, infos[run]) for run, r in members if infos.get(run, {}).get("status") == "ok"]
        primary = [r["seed"] for _, r in members if r.get("primary") and _known(r.get("seed"))]
        row: dict[str, Any] = {
            "variant": variant,
            "n": len(done),
            "n_runs": len(members),
            "seeds": sorted(int(r["seed"]) for r, _ in done if _known(r.get("seed"))),
            "primary_seed": int(primary[0]) if primary else math.nan,
        }
        for key, name in SEED_METRICS.items():
            values = pd.Series([i.get("final_metrics", {}).get(key, math.nan) for _, i in done], dtype=float)
            row[f"{name}_mean"] = values.mean() if values.notna().any() else math.nan
            row[f"{name}_sd"] = values.std(ddof=1) if values.notna().sum() > 1 else math.nan
        rows.append(row)
    columns = ["variant", "n", "n_runs", "seeds", "primary_seed"]
    columns += [f"{name}_{x}" for name in SEED_METRICS.values() for x in ("mean", "sd")]
    return pd.DataFrame(rows, columns=columns).set_index("variant")


def seed_sd(stats: pd.DataFrame | None, variant: str, metric: str = "map50_95") -> float:
    """Sample sd over seeds of ``metric`` for ``variant``; NaN with one seed or no statistics."""
    if stats is None or variant not in stats.index or stats.loc[variant, "n"] < 2:
        return math.nan
    return float(stats.loc[variant, f"{metric}_sd"])


def mean_sd(mean: float, sd: float, n: int, digits: int = 3) -> str:
    """``"mean ± sd (n=N)"`` when there are several seeds and an sd, else the plain value."""
    if n > 1 and sd == sd:
        return f"{mean:.{digits}f} ± {sd:.{digits}f} (n={n})"
    return _fmt(float(mean), digits)


def variant_table(
    variants: list[str],
    summaries: dict[str, dict[str, Any]],
    infos: dict[str, dict[str, Any]],
    stats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per variant: size, training outcome and the optimizer that actually ran.

    ``infos`` is variant -> the primary seed's train_info.json. With ``stats`` (:func:`seed_stats`)
    a variant trained with several seeds shows "mean ± sd (n=N)" over its completed seeds for P, R,
    mAP50 and mAP50-95, and a column names the seed whose model was exported and benchmarked; the
    other columns (epochs, best epoch, train time, optimizer) are the primary seed's.
    """
    metrics = {"P": "precision", "R": "recall", "mAP50": "map50", "mAP50-95": "map50_95"}
    rows = []
    for v in variants:
        s, i = summaries.get(v, {}), infos.get(v)
        if i is None or i.get("status", "ok") != "ok":
            why = "missing" if i is None else f"training failed: {i.get('error', '?')}"
            rows.append({"variant": v, "parameters": s.get("parameters", math.nan), "status": why})
            continue
        m = i.get("final_metrics", {})
        row: dict[str, Any] = {
            "variant": v,
            "parameters": s.get("parameters", math.nan),
            "GFLOPs@640": s.get("gflops_640", math.nan),
            "epochs run": i["epochs_run"],
            "best epoch": i.get("best_epoch", math.nan),
        }
        st = stats.loc[v] if stats is not None and v in stats.index else None
        for col, name in metrics.items():
            key = next(k for k, n in SEED_METRICS.items() if n == name)
            if st is not None and st["n"] > 1:
                row[col] = mean_sd(st[f"{name}_mean"], st[f"{name}_sd"], int(st["n"]))
            else:
                row[col] = m.get(key, math.nan)
        row["train s"] = i.get("wall_seconds", math.nan)
        row["optimizer"] = f"{i.get('optimizer_resolved')} lr {i.get('lr0_resolved'):.6g}"
        if st is not None:
            known = _known(st["primary_seed"])
            row["benchmarked model"] = f"seed {int(st['primary_seed'])}" if known else "primary seed"
        row["status"] = "ok"
        rows.append(row)
    return pd.DataFrame(rows)


def seed_spread_sentences(stats: pd.DataFrame, variants: list[str], metric: str = "map50_95") -> list[str]:
    """Per non-baseline variant: is its mAP50-95 difference from the baseline larger than the
    seed-to-seed spread?

    The difference is of the means over seeds; the spread is 2 x the standard error of the
    difference, sqrt(sd_a²/n_a + sd_b²/n_b) (sample sds). With one seed on either side the spread is
    unknown.
    """
    if len(variants) < 2:
        return []
    base, out = variants[0], []
    for v in variants[1:]:
        if any(x not in stats.index or stats.loc[x, "n"] < 1 for x in (v, base)):
            out.append(f"{v} vs {base}: no completed training on one side, no seed comparison.")
            continue
        (ma, sa, na), (mb, sb, nb) = (
            (stats.loc[x, f"{metric}_mean"], seed_sd(stats, x, metric), int(stats.loc[x, "n"])) for x in (v, base)
        )
        head = f"{v} vs {base}: mAP50-95 difference {ma - mb:+.3f}"
        head += f" (means over {na} and {nb} seed(s): {ma:.3f} vs {mb:.3f})"
        if sa != sa or sb != sb:
            out.append(f"{head}; the seed-to-seed spread is unknown (one seed), so it cannot be told from noise.")
            continue
        se = math.sqrt(sa**2 / na + sb**2 / nb)
        verdict = "larger than" if abs(ma - mb) > 2 * se else "within"
        out.append(f"{head}: {verdict} the seed-to-seed spread (2 x standard error of the difference = {2 * se:.3f}).")
    return out


def seeds_sentence(stats: pd.DataFrame) -> str:
    """What the seeds present are, which seed's model is benchmarked, and what ± means in the text."""
    if stats.empty:
        return "No training run completed."
    primary = sorted({int(x) for x in stats["primary_seed"].dropna()})
    which = f" ({', '.join(f'seed {x}' for x in primary)})" if primary else ""
    bench = (
        f"Only the primary seed's model{which} of each variant is exported and benchmarked: latencies and "
        "per-target mAP50-95 come from that model."
    )
    counts = stats["n"].astype(int)
    if counts.max() <= 1:
        return (
            f"One completed training seed per variant, so the seed-to-seed spread of mAP50-95 is unknown and "
            f"small differences may be training noise. {bench}"
        )
    seeds = sorted({s for ss in stats["seeds"] for s in ss})
    sds = stats.loc[stats["n"] > 1, "map50_95_sd"].dropna()
    spread = f"; median seed-to-seed sd of mAP50-95 {sds.median():.3f}" if len(sds) else ""
    return (
        f"Seeds {', '.join(map(str, seeds))}: {int(counts.min())} to {int(counts.max())} completed training runs "
        f"per variant{spread}. ± is the sample sd over seeds of the final validation mAP50-95 (PyTorch, "
        f"training run). {bench}"
    )


def _gflops(df: pd.DataFrame, summaries: dict[str, dict[str, Any]], variant: str) -> float:
    """GFLOPs of ``variant`` at its own benchmark input size (the table's ``gflops``), else at 640:
    variants of an input-size grid are compared at the size they run at."""
    if "gflops" in df.columns:
        rows = df[(df["variant"] == variant)]["gflops"].dropna()
        if len(rows):
            return float(rows.iloc[0])
    return float(summaries[variant]["gflops_640"])


def times(ratio: float, less: str, more: str, digits: int = 1) -> str:
    """A ratio ``baseline / variant`` in words that follow its sign: ``3.3x fewer`` when above 1,
    ``3.3x more`` (the inverse) when below, ``1.0x (neither fewer nor more)`` when it rounds to 1.

    ``less`` and ``more`` are the words for each side ("fewer"/"more", "faster"/"slower").
    """
    if f"{ratio:.{digits}f}" == f"{1:.{digits}f}":
        return f"{1:.{digits}f}x (neither {less} nor {more})"
    if ratio > 1:
        return f"{ratio:.{digits}f}x {less}"
    return f"{1 / ratio:.{digits}f}x {more}"


def speed_range(speedups: list[float]) -> str:
    """The range of speed-ups (baseline p50 / variant p50) in words: "1.20x to 3.10x faster",
    "1.10x to 1.50x slower", or "from 1.10x slower to 2.50x faster"."""
    lo, hi = min(speedups), max(speedups)
    if lo >= 1:
        return f"{lo:.2f}x to {hi:.2f}x faster" if hi > lo else f"{lo:.2f}x faster"
    if hi <= 1:
        return f"{1 / hi:.2f}x to {1 / lo:.2f}x slower" if hi > lo else f"{1 / lo:.2f}x slower"
    return f"from {1 / lo:.2f}x slower to {hi:.2f}x faster"


def conclusions(df: pd.DataFrame, summaries: dict[str, dict[str, Any]], variants: list[str]) -> list[str]:
    """Sentences comparing each variant with the first (baseline), computed from the table; the
    words follow the sign of each ratio ("fewer"/"more", "faster"/"slower")."""
    if len(variants) < 2:
        return []
    base = variants[0]
    ok = df[df["status"] == "ok"]
    out = []
    for v in variants[1:]:
        if v not in summaries or base not in summaries:
            out.append(f"{v}: missing results, no comparison.")
            continue
        ratio = summaries[base]["parameters"] / summaries[v]["parameters"]
        flops = _gflops(df, summaries, base) / _gflops(df, summaries, v)
        parts = [
            f"**{v}** against {base}: {times(ratio, 'fewer', 'more')} parameters, {times(flops, 'fewer', 'more')} FLOPs"
        ]
        sub = ok[(ok["variant"] == v)]
        if sub.empty:
            parts.append("no benchmark row completed (see Failed rows)")
        for (fmt, t), r in sub.set_index(["target", "threads"]).iterrows():
            if fmt == "onnx" and t == sub["threads"].min() and r["speedup"] == r["speedup"]:
                parts.append(f"{times(r['speedup'], 'faster', 'slower', 2)} on ONNX Runtime at {int(t)} thread(s)")
        speed = sub["speedup"].dropna()
        if len(speed):
            parts.append(f"{speed_range(list(speed))} across formats and threads (p50 of {base} / p50 of {v})")
        pt = ok[(ok["target"] == "pytorch")].drop_duplicates("variant").set_index("variant")["map50_95"]
        if v in pt and base in pt:
            parts.append(f"mAP50-95 {pt[v] - pt[base]:+.3f} ({pt[v]:.3f} vs {pt[base]:.3f}, PyTorch)")
        out.append(", ".join(parts) + ".")
    return out


def reference_table(ref: dict[str, Any]) -> pd.DataFrame:
    """The original experiment's per-variant rows."""
    rows = [{"variant": v, **vals} for v, vals in ref["variants"].items()]
    return pd.DataFrame(rows)


def reference_benchmark_table(ref: dict[str, Any]) -> pd.DataFrame:
    """The original experiment's benchmark per format and variant: size, mAP50-95 and its
    validator time on the GPU machine (column named so that nobody reads it as a CPU p50)."""
    rows = [
        {"format": fmt, "variant": v, "size MB": size, "mAP50-95": m, "GPU-machine validator ms/image": ms}
        for fmt, per_variant in (ref.get("benchmark") or {}).items()
        for v, (size, m, ms) in per_variant.items()
    ]
    return pd.DataFrame(rows)


def non_dominated(df: pd.DataFrame) -> dict[tuple[str, int], list[str]]:
    """Per (target, threads): the variants on the Pareto front (lower p50_ms, higher map50_95),
    fastest first. Failed rows are skipped."""
    ok = df[df["status"] == "ok"]
    out = {}
    for (target, t), sub in ok.groupby(["target", "threads"], sort=False):
        out[(str(target), int(t))] = pareto_front(sub)["variant"].tolist()
    return out


def _field(row: pd.Series, key: str, default: str) -> str:
    """``row[key]`` as text, ``default`` when absent or empty."""
    x = row.get(key)
    return default if x is None or x != x or x == "" else str(x)


def non_dominated_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`non_dominated` as a table: target, runtime, precision, threads, variants."""
    ok = df[df["status"] == "ok"]
    rows = []
    for (target, t), variants in non_dominated(df).items():
        first = ok[(ok["target"] == target) & (ok["threads"] == t)].iloc[0]
        rows.append(
            {
                "target": target,
                "runtime": _field(first, "runtime", ""),
                "precision": _field(first, "precision", ""),
                "threads": t,
                "non-dominated variants (fastest first)": ", ".join(variants),
            }
        )
    return pd.DataFrame(
        rows, columns=["target", "runtime", "precision", "threads", "non-dominated variants (fastest first)"]
    )


def _with_sd(m: float, sd: float, digits: int = 3) -> str:
    return f"{m:.{digits}f} ± {sd:.{digits}f}" if sd == sd else f"{m:.{digits}f}"


def budget_answers_per_target(
    df: pd.DataFrame, budgets_ms: list[float], stats: pd.DataFrame | None = None
) -> pd.DataFrame:
    """For each budget, thread count and target: the most accurate variant within the budget.

    One row per (budget_ms, threads, target) with the target's runtime and precision, the chosen
    ``variant`` (None when nothing fits), its ``map50_95`` (that row's, through the target's own
    model), ``sd`` (the variant's seed sd of mAP50-95 when it has several seeds, else NaN) and an
    ``answer`` sentence. Failed rows are skipped; ties go to the faster row.
    """
    ok = df[(df["status"] == "ok")].dropna(subset=["p50_ms", "map50_95"])
    rows = []
    for t in sorted(ok["threads"].unique()):
        for target in dict.fromkeys(ok.loc[ok["threads"] == t, "target"]):
            sub = ok[(ok["threads"] == t) & (ok["target"] == target)]
            runtime, precision = _field(sub.iloc[0], "runtime", target), _field(sub.iloc[0], "precision", "?")
            for budget in budgets_ms:
                fit = sub[sub["p50_ms"] <= budget]
                where = (
                    f"for a budget of {budget:g} ms per frame on this CPU with runtime {runtime} "
                    f"(target {target}, precision {precision}, {int(t)} thread(s))"
                )
                row = {"budget_ms": budget, "threads": int(t), "target": target, "runtime": runtime}
                row["precision"] = precision
                if fit.empty:
                    rows.append({**row, "variant": None, "map50_95": math.nan, "sd": math.nan})
                    rows[-1]["answer"] = f"{where}, no variant fits."
                    continue
                best = fit.sort_values(["map50_95", "p50_ms"], ascending=[False, True]).iloc[0]
                sd = seed_sd(stats, best["variant"])
                rows.append({**row, "variant": best["variant"], "map50_95": best["map50_95"], "sd": sd})
                rows[-1]["answer"] = (
                    f"{where}, the most accurate variant is {best['variant']} "
                    f"(mAP50-95 {_with_sd(best['map50_95'], sd)})."
                )
    columns = ["budget_ms", "threads", "target", "runtime", "precision", "variant", "map50_95", "sd", "answer"]
    return pd.DataFrame(rows, columns=columns)


def budget_tables(answers: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """:func:`budget_answers_per_target` as one compact table per thread count: rows budgets,
    columns targets, cells "variant mAP50-95 ± sd" or "—" when nothing fits."""
    out = {}
    for t, sub in answers.groupby("threads", sort=True):
        cells = sub.assign(
            cell=[
                "—" if v is None or v != v else f"{v} {_with_sd(m, sd)}"
                for v, m, sd in zip(sub["variant"], sub["map50_95"], sub["sd"], strict=True)
            ],
            budget=[f"{b:g} ms" for b in sub["budget_ms"]],
        )
        table = cells.pivot(index="budget", columns="target", values="cell")
        table = table.loc[list(dict.fromkeys(cells["budget"])), list(dict.fromkeys(cells["target"]))]
        out[int(t)] = table.reset_index().rename_axis(columns=None)
    return out


def budget_answers(df: pd.DataFrame, budgets_ms: list[float], stats: pd.DataFrame | None = None) -> list[str]:
    """For each latency budget and thread count, the most accurate (variant, target) within it.

    Uses the network-only p50 and each row's own mAP50-95 (through that target's model); with
    ``stats`` (:func:`seed_stats`) the variant's seed sd is added as ± when it has several seeds.
    """
    ok = df[(df["status"] == "ok")].dropna(subset=["p50_ms", "map50_95"])
    out = []
    for t in sorted(ok["threads"].unique()):
        sub = ok[ok["threads"] == t]
        for budget in budgets_ms:
            fit = sub[sub["p50_ms"] <= budget]
            if fit.empty:
                fastest = sub.loc[sub["p50_ms"].idxmin()]
                out.append(
                    f"{budget:g} ms per frame, {int(t)} thread(s): nothing fits; the fastest is "
                    f"{fastest['variant']} on {fastest['target']} at {fastest['p50_ms']:.1f} ms."
                )
                continue
            best = fit.sort_values(["map50_95", "p50_ms"], ascending=[False, True]).iloc[0]
            m = _with_sd(best["map50_95"], seed_sd(stats, best["variant"]))
            out.append(
                f"{budget:g} ms per frame, {int(t)} thread(s): **{best['variant']}** on {best['target']} "
                f"(mAP50-95 {m}, p50 {best['p50_ms']:.1f} ms, p90 {best['p90_ms']:.1f} ms)."
            )
    return out


def _runs_by_info(
    variants: list[str], infos: list[Path], runs: dict[str, dict[str, Any]] | None
) -> tuple[dict[str, dict[str, Any]], dict[str, Path]]:
    """The training runs and each run's folder.

    With ``runs`` the run of an info file is its folder name (``results/train/<run>/``); without,
    ``infos`` are one per variant, in ``variants`` order, each the variant's only (primary) run.
    """
    if runs is None:
        dirs = {v: Path(p).parent for v, p in zip(variants, infos, strict=True)}
        return {v: {"variant": v, "seed": None, "primary": True} for v in variants}, dirs
    dirs = {Path(p).parent.name: Path(p).parent for p in infos}
    return dict(runs), {run: dirs[run] for run in runs if run in dirs}


def floor_table(df: pd.DataFrame) -> pd.DataFrame:
    """How far each (variant, threads) is from this machine's compute roofs.

    Per precision that ran (fp32 and, where INT8 rows ran, int8): the measured reference roof
    (``peak_gflops``) and the theoretical peak (``theoretical_gflops``) in GOP/s, and the floor
    each implies, the variant's GFLOPs at its input size divided by it, in ms. Only the
    theoretical floor is a latency no runtime can beat without doing fewer operations (and only
    where its clock is the CPU's maximum); the reference floor is what a GEMM as fast as torch's
    would take. Beside them, the fastest completed row, its p50 and the fraction of each roof
    it attained.
    """
    if not {"gflops", "peak_gflops", "p50_ms", "precision"} <= set(df.columns):
        return pd.DataFrame()
    ok = df[df["status"] == "ok"].dropna(subset=["p50_ms", "gflops"])
    rows = []
    for (variant, threads), sub in ok.groupby(["variant", "threads"], sort=False):
        gflops = float(sub["gflops"].iloc[0])
        row: dict[str, Any] = {"variant": variant, "threads": int(threads), "imgsz": int(sub["imgsz"].iloc[0])}
        row["GFLOPs"] = gflops
        for precision, label in (("f32", "fp32"), ("int8", "int8")):
            rows_p = sub[sub["precision"] == precision]
            for column, name in (("peak_gflops", "reference"), ("theoretical_gflops", "theoretical")):
                roof = rows_p[column].dropna() if column in rows_p else pd.Series(dtype=float)
                value = float(roof.iloc[0]) if len(roof) else math.nan
                row[f"{label} {name} GOP/s"] = value
                row[f"{label} {name} floor ms"] = gflops / value * 1000 if value == value else math.nan
        best = sub.loc[sub["p50_ms"].idxmin()]
        row["fastest"] = f"{best['target']} ({best['precision']})"
        row["p50 ms"] = float(best["p50_ms"])
        row["of its reference"] = float(best.get("fraction_of_peak", math.nan))
        row["of its theoretical"] = float(best.get("fraction_of_theoretical", math.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def roof_sentences(df: pd.DataFrame, peak: dict[str, Any] | None) -> list[str]:
    """What the two roofs are, how each was obtained, and every row above the reference roof."""
    out = []
    method = (peak or {}).get("method", "2048x2048 matrix products (torch fp32/bf16, ONNX Runtime MatMulInteger int8)")
    out.append(
        f"The measured reference roof is the {method}, on the cores timed. It shows how fast a well-tuned "
        "matrix product runs here; it is not a limit: a runtime's convolution kernels may run faster."
    )
    theory = (peak or {}).get("theoretical")
    if not theory:
        out.append("No theoretical peak was recorded (peak.json predates it), so no bound is given.")
    elif theory.get("clock_ghz") is None:
        out.append("No bound could be derived: the CPU's clock is not known on this machine.")
    elif theory.get("is_bound"):
        out.append(
            f"The theoretical peak is a bound no runtime can beat: {theory['derivation']}. The floors it gives are "
            "latencies no runtime can reach without doing fewer operations."
        )
    else:
        out.append(
            f"No bound could be derived for certain: the CPU's maximum clock is not exposed here, so the "
            f"theoretical peak uses {theory['clock_ghz']:.2f} GHz ({theory['clock_source']}), and cores that run "
            f"faster (turbo) would raise it by the same factor. Derivation: {theory['derivation']}."
        )
    if "fraction_of_peak" in df.columns:
        above = df[(df["status"] == "ok") & (df["fraction_of_peak"] > 1)]
        for _, r in above.iterrows():
            theo = r.get("fraction_of_theoretical", math.nan)
            out.append(
                f"{r['variant']} on {r['target']} at {int(r['threads'])} thread(s) attained "
                f"{r['fraction_of_peak']:.2f} of the measured reference roof: its runtime's kernels ran faster than "
                "the reference matrix product "
                "did, which is why that roof is a reference and not a limit"
                + (f" (it attained {theo:.2f} of the theoretical peak)." if theo == theo else ".")
            )
    return out


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
) -> None:
    """Write the figures and README.md of the report into ``out_dir``.

    ``infos`` are the train_info.json of every training run (``results/train/<run>/``) and ``runs``
    run name -> {"variant", "seed", "primary"}; without ``runs``, one info per variant in
    ``variants`` order. ``imgsz`` is one input size or each variant's own. A variant listed in
    ``variants`` whose files are missing is shown as missing in the tables.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(csv)
    peak_record = read_json(peak) if peak and peak.exists() else None
    colors = variant_colors(variants)
    runs, run_dirs = _runs_by_info(variants, infos, runs)
    run_info = {r: read_json(d / "train_info.json") for r, d in run_dirs.items() if (d / "train_info.json").exists()}
    primary = {r["variant"]: run for run, r in runs.items() if r.get("primary")}
    info = {v: run_info[run] for v, run in primary.items() if run in run_info}
    stats = seed_stats(runs, run_info)
    sds = {v: seed_sd(stats, v) for v in variants}

    def done(run: str) -> bool:
        return run_info.get(run, {}).get("status") == "ok" and (run_dirs[run] / "results.csv").exists()

    curves = {v: read_results_csv(run_dirs[run] / "results.csv") for v, run in primary.items() if done(run)}
    others: dict[str, list[list[dict[str, float]]]] = {}
    for run, r in runs.items():
        if not r.get("primary") and done(run):
            others.setdefault(r["variant"], []).append(read_results_csv(run_dirs[run] / "results.csv"))
    summ = {v: read_json(p) for v, p in zip(variants, summaries, strict=True) if p.exists()}
    plot_training_curves(curves, info, colors, out_dir / "training_curves.png", others)
    ref = yaml.safe_load(reference.read_text()) if reference else None
    plot_accuracy_vs_latency(df, colors, out_dir / "accuracy_vs_latency.png", ref, sds)
    plot_latency(df, summ, colors, out_dir / "latency.png")
    plot_size(df, summ, colors, out_dir / "size.png")
    trained = {v: run_dirs[primary[v]] / "weights" / "best.pt" for v in curves}
    if val_images:
        plot_predictions(trained, val_images, imgsz, colors, out_dir / "predictions.png")
    bench_cols = [
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
        "p90_ms",
        "n_runs",
        "gflops_per_s",
        "speedup",
    ]
    bench_cols = [c for c in bench_cols if c in df.columns]
    failed = df[df["status"] != "ok"]
    sizes = sorted({int(x) for x in df["imgsz"].dropna()}) if "imgsz" in df.columns else []
    size_text = f"input {sizes[0]} px" if len(sizes) == 1 else "input size per variant, column imgsz"
    per_target = budget_answers_per_target(df, budgets_ms or [], stats)
    budget_lines: list[str] = []
    for t, table in budget_tables(per_target).items():
        budget_lines += [f"Most accurate variant per target within the budget, {t} thread(s):", ""]
        budget_lines += [markdown_table(table), ""]
    lines = [
        "# Shrinking YOLOv8: what does a smaller model cost, and what does it buy?",
        "",
        "Generated by the workflow from `results/benchmark.csv`; do not edit.",
        "",
        "## Conclusions",
        "",
        *[f"- {c}" for c in conclusions(df, summ, variants)],
        "",
        "Is the mAP50-95 difference from the baseline larger than the seed-to-seed spread?",
        "",
        *[f"- {c}" for c in seed_spread_sentences(stats, variants)],
        "",
        "## Which model for my latency budget?",
        "",
        "On this machine (see Environment), network-only latency at batch 1, the row's own mAP50-95",
        "(through that target's model). " + seeds_sentence(stats),
        "",
        *budget_lines,
        "Overall, across targets:",
        "",
        *[f"- {a}" for a in budget_answers(df, budgets_ms or [], stats)],
        "",
        "## How far from the hardware's limits?",
        "",
        "A floor is the model's operations (GFLOPs at its input size) divided by a roof in GOP/s.",
        "",
        *[f"- {r}" for r in roof_sentences(df, peak_record)],
        "",
        markdown_table(floor_table(df)),
        "",
        "## Non-dominated variants per target",
        "",
        "Per target (runtime and precision) and thread count, the variants no other variant beats on both",
        "p50 latency and mAP50-95.",
        "",
        markdown_table(non_dominated_table(df)),
        "",
        "## Variants",
        "",
        markdown_table(variant_table(variants, summ, info, stats)),
        "",
        "![training curves](training_curves.png)",
        "",
        f"## Benchmark (batch 1, {size_text})",
        "",
        markdown_table(df[bench_cols]),
        "",
        "![accuracy vs latency](accuracy_vs_latency.png)",
        "",
        "![latency](latency.png)",
        "",
        "![size](size.png)",
        "",
        "![predictions](predictions.png)",
        "",
    ]
    if card and card.exists():
        from yoloshrink.datasets.card import card_markdown

        lines += ["## Dataset", "", card_markdown(read_json(card)), "", "![dataset card](../dataset/card.png)", ""]
        warnings = read_json(validation).get("warnings", []) if validation and validation.exists() else []
        if warnings:
            lines += ["Validation warnings (dataset.validation: lenient went on despite them):", ""]
            lines += [*(f"- **{w}**" for w in warnings), ""]
        left_out = pd.read_csv(excluded) if excluded and excluded.exists() and excluded.stat().st_size else None
        if left_out is not None and len(left_out):
            lines += [f"{len(left_out)} files were flagged by validation (`results/dataset/excluded.csv`):", ""]
            lines += [markdown_table(left_out.head(20)), ""]
    if ref:
        lines += [
            "## The original experiment (reference)",
            "",
            f"Source: {ref['source']}.",
            "",
            markdown_table(reference_table(ref)),
            "",
            f"Its benchmark: {ref['timing']}. These times are of another machine and another timer than",
            "this report's CPU p50s and cannot be compared with them; the accuracy-against-latency figure",
            "draws them in a panel of their own.",
            "",
            markdown_table(reference_benchmark_table(ref), digits=4),
            "",
        ]
    if environment and environment.exists():
        env = read_json(environment)
        lines += [
            "## Environment",
            "",
            f"{env.get('cpu_model')}, {env.get('logical_cores')} cores; flags: "
            + ", ".join(k for k, v in env.get("cpu_flags", {}).items() if v)
            + f"; {env.get('date')} on {env.get('host')}, workflow commit {env.get('workflow_commit')}.",
            "",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items() if v),
            "",
        ]
    if len(failed):
        lines += ["## Failed rows", "", markdown_table(failed[["variant", "target", "threads", "error"]]), ""]
    lines += ["TensorBoard: `tensorboard --logdir results/train` shows every variant's run side by side.", ""]
    atomic_write_text(out_dir / "README.md", "\n".join(lines))
