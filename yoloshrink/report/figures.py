"""The report's figures (PNG): training curves, accuracy against latency, latency and speed-up,
size, predictions. Colours are the Okabe-Ito palette (colour-blind safe), one per variant, the
same in every figure; markers are the targets' (:mod:`yoloshrink.targets`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from yoloshrink.fsutil import atomic_path
from yoloshrink.report.analysis import gflops_of, pareto_front, variant_imgsz
from yoloshrink.targets import markers

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = markers()

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


def plain_log_axis(ax: Any, axis: str = "x") -> None:
    """A log scale labelled in plain numbers at 1, 2 and 5 per decade ("2", "5", "10", "20"),
    not matplotlib's "2x10^0" minor labels that collide; unlabelled minor ticks between."""
    from matplotlib import ticker

    which = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    which.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    which.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    which.set_minor_locator(ticker.LogLocator(base=10, subs=tuple(range(1, 10))))
    which.set_minor_formatter(ticker.NullFormatter())


def variant_colors(variants: list[str]) -> dict[str, str]:
    """One fixed colour per variant, in config order: the colour-blind-safe Okabe-Ito set, or
    matplotlib's 20-colour table for a grid larger than it (no two variants share a colour up
    to 20)."""
    if len(variants) <= len(OKABE_ITO):
        return {v: OKABE_ITO[i] for i, v in enumerate(variants)}
    from matplotlib import colors

    table = [colors.to_hex(c) for c in plt.get_cmap("tab20").colors]
    return {v: table[i % len(table)] for i, v in enumerate(variants)}


def save(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


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
    fig, axes = plt.subplots(2, 5, figsize=(20, 7.5), layout="constrained")  # labels clear of the next row
    for ax, (key, label) in zip(axes.flat, CURVES, strict=True):
        for variant, seed_rows in (other_seeds or {}).items():
            for rows in seed_rows:
                xs = [r["epoch"] for r in rows if key in r]
                ax.plot(xs, [r[key] for r in rows if key in r], color=colors[variant], lw=0.8, alpha=0.35)
        for variant, rows in sorted(curves.items(), key=lambda kv: list(colors).index(kv[0])):  # config order
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
    save(fig, path)


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
        plain_log_axis(ax)
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
        plain_log_axis(ax)
        ax.set_xlabel("ultralytics validator time on a GPU machine (ms per image, log scale)")
        ax.set_ylabel("mAP50-95 (val, CSGO dataset)")
        ax.set_title(REFERENCE_PANEL, fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ref_handles = [plt.Line2D([], [], color=c, marker="o", ls="", mfc="w", label=v) for v, c in ref_colors.items()]
        ref_handles += [
            plt.Line2D([], [], color="k", marker=MARKERS.get(f, "P"), ls="", mfc="w", label=f) for f in ref_bench
        ]
        ax.legend(handles=ref_handles, loc="best", fontsize=8)
    # this machine's legend: its variants and only the targets that ran here
    handles = [plt.Line2D([], [], color=c, marker="o", ls="", label=v) for v, c in colors.items()]
    handles += [
        plt.Line2D([], [], color="k", marker=m, ls="", mfc="w", label=f)
        for f, m in MARKERS.items()
        if f in set(ok["target"])
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
    save(accuracy_latency_figure(df, colors, reference, seed_sd), path)


def plot_latency(
    df: pd.DataFrame, summaries: dict[str, dict[str, Any]], colors: dict[str, str], path: Path, baseline: str
) -> None:
    """p50 per target grouped by variant with p90 whiskers; speed-up over the baseline (timed side
    by side, with its 95 % interval; a hollow marker: no measurable difference) vs FLOP ratio."""
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
        ax.set_xticks(
            [j + width * (len(variants) - 1) / 2 for j in range(len(targets))], targets, rotation=30, ha="right"
        )
        ax.set_ylabel("latency p50 (ms), whisker to p90")
        ax.set_title(f"{int(t)} thread(s)")
        ax.grid(alpha=0.3, axis="y")
        ax.legend()
    ax = axes.flat[-1]
    base = baseline
    for i, v in enumerate([v for v in variants if v != base], start=1):
        for k, t in enumerate(threads):
            sub = ok[(ok["variant"] == v) & (ok["threads"] == t)].set_index("target")
            xs = [targets.index(tg) + 0.08 * k for tg in sub.index]
            ax.plot(
                xs,
                sub["speedup"].values,
                marker="o",
                color=colors[v],
                ls=["-", "--", ":", "-."][k % 4],
                label=f"{v}, {int(t)} thread(s)",
            )
            if {"speedup_ci_low", "speedup_ci_high"} <= set(sub.columns):
                # the 95 % interval of each speed-up; hollow: it includes 1 (no measurable difference)
                lo = (sub["speedup"] - sub["speedup_ci_low"]).clip(lower=0)
                hi = (sub["speedup_ci_high"] - sub["speedup"]).clip(lower=0)
                ax.errorbar(xs, sub["speedup"], yerr=[lo, hi], fmt="none", ecolor=colors[v], capsize=3, lw=1)
                same = sub["speedup_verdict"].eq("no measurable difference").to_numpy()
                ax.scatter(
                    [x for x, m in zip(xs, same, strict=True) if m],
                    sub["speedup"][same],
                    s=60,
                    facecolor="white",
                    edgecolor=colors[v],
                    zorder=3,
                )
        if base in summaries and v in summaries:
            ratio = gflops_of(df, summaries, base) / gflops_of(df, summaries, v)
            ax.axhline(ratio, color=colors[v], lw=1, alpha=0.6)
            ax.text(0, ratio, f" FLOP ratio {ratio:.2f}x", color=colors[v], va="bottom", fontsize=8)
        _ = i
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right")
    ax.set_ylabel(f"speed-up over {base}\n(p50 ratio, timed in turns; bars: 95 % CI)")
    ax.set_title("speed-up vs FLOP ratio")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Latency per target (batch 1)")
    save(fig, path)


def plot_predictions(
    weights: dict[str, Path], images: list[Path], imgsz: int | dict[str, int], colors: dict[str, str], path: Path
) -> None:
    """Ground truth and every variant's predictions (PyTorch, conf >= 0.25) on the same images.

    ``imgsz`` is one input size for all, or each variant's own (variant -> size).
    """
    import cv2
    from ultralytics import YOLO

    from yoloshrink.datasets.files import label_path

    models = {v: YOLO(str(w), task="detect") for v, w in weights.items()}
    cols = ["ground truth", *models]
    fig, axes = plt.subplots(len(images), len(cols), figsize=(3.6 * len(cols), 2.9 * len(images)), squeeze=False)
    for row, image_path in enumerate(images):
        image = cv2.imread(str(image_path))
        h, w = image.shape[:2]
        label_file = Path(label_path(image_path))
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
    save(fig, path)


def plot_size(df: pd.DataFrame, summaries: dict[str, dict[str, Any]], colors: dict[str, str], path: Path) -> None:
    """Parameters, GFLOPs and file size per format, per variant."""
    variants = list(summaries)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    axes[0].bar(variants, [summaries[v]["parameters"] / 1e6 for v in variants], color=[colors[v] for v in variants])
    axes[0].set_ylabel("parameters (millions)")
    axes[1].bar(variants, [summaries[v]["gflops_640"] for v in variants], color=[colors[v] for v in variants])
    axes[1].set_ylabel("GFLOPs at 640 px")
    for ax in axes[:2]:
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
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
    save(fig, path)


def plot_hosts(df: pd.DataFrame, hosts: dict[str, dict[str, Any]], path: Path) -> None:
    """Network p50 per (variant, target) at the smallest thread count, this machine and each host
    side by side (a missing bar: that machine's row failed or was not timed)."""
    ok = df[(df["status"] == "ok") & (df["target"] != "pytorch")]
    threads = int(ok["threads"].min()) if len(ok) else 1
    here = ok[ok["threads"] == threads]
    keys = [f"{v} {t}" for v, t in zip(here["variant"], here["target"], strict=True)]
    machines = {"this machine": dict(zip(keys, here["p50_ms"], strict=True))}
    for name, h in hosts.items():
        rows = h["rows"][(h["rows"]["status"] == "ok") & (h["rows"]["threads"] == threads)]
        machines[name] = {
            f"{v} {t}": p for v, t, p in zip(rows["variant"], rows["target"], rows["p50_ms"], strict=True)
        }
    fig, ax = plt.subplots(figsize=(max(8, 0.5 * len(keys) * len(machines)), 4.5))
    width = 0.8 / len(machines)
    for i, (name, values) in enumerate(machines.items()):
        xs = [x + i * width for x, k in enumerate(keys) if k in values]
        ax.bar(xs, [values[k] for k in keys if k in values], width, label=name)
    ax.set_xticks([x + width * (len(machines) - 1) / 2 for x in range(len(keys))], keys, rotation=45, ha="right")
    ax.set_ylabel(f"network p50 (ms), {threads} thread(s)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    ax.set_title("Latency on each machine (the bundle's models, network call)")
    save(fig, path)
