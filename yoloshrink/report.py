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
MARKERS = {"pytorch": "o", "torchscript": "s", "onnx": "^", "openvino": "D", "openvino-f32": "d", "ncnn": "v"}
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
) -> None:
    """Every variant's training curves overlaid, one panel per metric, best epoch marked."""
    fig, axes = plt.subplots(2, 5, figsize=(20, 7.5))
    for ax, (key, label) in zip(axes.flat, CURVES, strict=True):
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
    axes.flat[0].legend(title="variant (★ best epoch)")
    fig.suptitle("Training curves (validation metrics and losses per epoch)")
    _save(fig, path)


def plot_accuracy_vs_latency(
    df: pd.DataFrame, colors: dict[str, str], path: Path, reference: dict[str, Any] | None = None
) -> None:
    """mAP50-95 against p50 latency (log scale), per thread count; colour = variant, marker = target.

    ``reference`` (the original experiment) is drawn as grey hollow markers in every panel.
    """
    ok = df[df["status"] == "ok"]
    threads = sorted(df["threads"].dropna().unique())
    fig, axes = plt.subplots(1, max(len(threads), 1), figsize=(6.5 * max(len(threads), 1), 5), squeeze=False)
    for ax, t in zip(axes.flat, threads, strict=False):
        sub = ok[ok["threads"] == t]
        for _, r in sub.iterrows():
            ax.scatter(
                r["p50_ms"],
                r["map50_95"],
                color=colors.get(r["variant"], "k"),
                marker=MARKERS.get(r["target"], "o"),
                s=70,
                edgecolor="k",
            )
        for fmt, per_variant in ((reference or {}).get("benchmark") or {}).items():
            for _v, (_size, m, ms) in per_variant.items():
                ax.scatter(ms, m, marker=MARKERS.get(fmt, "P"), s=55, facecolor="none", edgecolor="0.55")
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
        ax.set_xlabel("latency p50 (ms per image, log scale)")
        ax.set_ylabel("mAP50-95 (val)")
        ax.set_title(f"{int(t)} thread(s)")
        ax.grid(alpha=0.3, which="both")
    handles = [plt.Line2D([], [], color=c, marker="o", ls="", label=v) for v, c in colors.items()]
    handles += [plt.Line2D([], [], color="k", marker=m, ls="", mfc="w", label=f) for f, m in MARKERS.items()]
    if reference:
        handles.append(plt.Line2D([], [], color="0.55", marker="o", ls="", mfc="none", label="original (GPU timer)"))
    axes.flat[-1].legend(handles=handles, loc="best", fontsize=8)
    fig.suptitle("Accuracy against latency per format")
    _save(fig, path)


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
            ratio = summaries[base]["gflops_640"] / summaries[v]["gflops_640"]
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
    weights: dict[str, Path], images: list[Path], imgsz: int, colors: dict[str, str], path: Path
) -> None:
    """Ground truth and every variant's predictions (PyTorch, conf >= 0.25) on the same images."""
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
        for m in models.values():
            res = m.predict(image, imgsz=imgsz, conf=0.25, device="cpu", verbose=False)[0]
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


def variant_table(
    variants: list[str], summaries: dict[str, dict[str, Any]], infos: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """Per variant: size, training outcome and the optimizer that actually ran."""
    rows = []
    for v in variants:
        s, i = summaries.get(v, {}), infos.get(v)
        if i is None or i.get("status", "ok") != "ok":
            why = "missing" if i is None else f"training failed: {i.get('error', '?')}"
            rows.append({"variant": v, "parameters": s.get("parameters", math.nan), "status": why})
            continue
        m = i.get("final_metrics", {})
        rows.append(
            {
                "variant": v,
                "parameters": s.get("parameters", math.nan),
                "GFLOPs@640": s.get("gflops_640", math.nan),
                "epochs run": i["epochs_run"],
                "best epoch": i.get("best_epoch", math.nan),
                "P": m.get("metrics/precision(B)", math.nan),
                "R": m.get("metrics/recall(B)", math.nan),
                "mAP50": m.get("metrics/mAP50(B)", math.nan),
                "mAP50-95": m.get("metrics/mAP50-95(B)", math.nan),
                "train s": i.get("wall_seconds", math.nan),
                "optimizer": f"{i.get('optimizer_resolved')} lr {i.get('lr0_resolved'):.6g}",
                "status": "ok",
            }
        )
    return pd.DataFrame(rows)


def conclusions(df: pd.DataFrame, summaries: dict[str, dict[str, Any]], variants: list[str]) -> list[str]:
    """Sentences comparing each variant with the first (baseline), computed from the table."""
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
        flops = summaries[base]["gflops_640"] / summaries[v]["gflops_640"]
        parts = [f"**{v}** against {base}: {ratio:.1f}x fewer parameters, {flops:.1f}x fewer FLOPs"]
        sub = ok[(ok["variant"] == v)]
        if sub.empty:
            parts.append("no benchmark row completed (see Failed rows)")
        for (fmt, t), r in sub.set_index(["target", "threads"]).iterrows():
            if fmt == "onnx" and t == sub["threads"].min() and r["speedup"] == r["speedup"]:
                parts.append(f"{r['speedup']:.2f}x faster on ONNX Runtime at {int(t)} thread(s)")
        speed = sub["speedup"].dropna()
        if len(speed):
            parts.append(f"speed-up {speed.min():.2f}x to {speed.max():.2f}x across formats and threads")
        pt = ok[(ok["target"] == "pytorch")].drop_duplicates("variant").set_index("variant")["map50_95"]
        if v in pt and base in pt:
            parts.append(f"mAP50-95 {pt[v] - pt[base]:+.3f} ({pt[v]:.3f} vs {pt[base]:.3f}, PyTorch)")
        out.append(", ".join(parts) + ".")
    return out


def reference_table(ref: dict[str, Any]) -> pd.DataFrame:
    """The original experiment's per-variant rows."""
    rows = [{"variant": v, **vals} for v, vals in ref["variants"].items()]
    return pd.DataFrame(rows)


def budget_answers(df: pd.DataFrame, budgets_ms: list[float]) -> list[str]:
    """For each latency budget and thread count, the most accurate (variant, target) within it.

    Uses the network-only p50 and each row's own mAP50-95 (through that target's model).
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
            out.append(
                f"{budget:g} ms per frame, {int(t)} thread(s): **{best['variant']}** on {best['target']} "
                f"(mAP50-95 {best['map50_95']:.3f}, p50 {best['p50_ms']:.1f} ms, p90 {best['p90_ms']:.1f} ms)."
            )
    return out


def build_report(
    csv: Path,
    variants: list[str],
    infos: list[Path],
    summaries: list[Path],
    out_dir: Path,
    val_images: list[Path] | None = None,
    imgsz: int = 640,
    reference: Path | None = None,
    environment: Path | None = None,
    card: Path | None = None,
    excluded: Path | None = None,
    budgets_ms: list[float] | None = None,
) -> None:
    """Write the figures and README.md of the report into ``out_dir``.

    A variant listed in ``variants`` whose files are missing is shown as missing in the tables.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(csv)
    colors = variant_colors(variants)
    info = {v: read_json(p) for v, p in zip(variants, infos, strict=True) if p.exists()}
    runs = {v: Path(p).parent for v, p in zip(variants, infos, strict=True)}
    curves = {v: read_results_csv(runs[v] / "results.csv") for v in info if info[v].get("status", "ok") == "ok"}
    summ = {v: read_json(p) for v, p in zip(variants, summaries, strict=True) if p.exists()}
    plot_training_curves(curves, info, colors, out_dir / "training_curves.png")
    ref = yaml.safe_load(reference.read_text()) if reference else None
    plot_accuracy_vs_latency(df, colors, out_dir / "accuracy_vs_latency.png", ref)
    plot_latency(df, summ, colors, out_dir / "latency.png")
    plot_size(df, summ, colors, out_dir / "size.png")
    trained = {v: runs[v] / "weights" / "best.pt" for v in curves}
    if val_images:
        plot_predictions(trained, val_images, imgsz, colors, out_dir / "predictions.png")
    bench_cols = [
        "variant",
        "format",
        "threads",
        "status",
        "precision",
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
    failed = df[df["status"] != "ok"]
    lines = [
        "# Width sweep: what does a narrower YOLOv8 cost, and what does it buy?",
        "",
        "Generated by the workflow from `results/benchmark.csv`; do not edit.",
        "",
        "## Conclusions",
        "",
        *[f"- {c}" for c in conclusions(df, summ, variants)],
        "",
        "## Which model for my latency budget?",
        "",
        "On this machine (see Environment), network-only latency at batch 1; one seed per variant, so",
        "mAP50-95 differences below about 0.02 are within epoch-to-epoch noise.",
        "",
        *[f"- {a}" for a in budget_answers(df, budgets_ms or [])],
        "",
        "## Variants",
        "",
        markdown_table(variant_table(variants, summ, info)),
        "",
        "![training curves](training_curves.png)",
        "",
        "## Benchmark (batch 1, input %s px)" % (int(df["imgsz"].iloc[0]) if len(df) else "?"),
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
        left_out = pd.read_csv(excluded) if excluded and excluded.exists() and excluded.stat().st_size else None
        if left_out is not None and len(left_out):
            lines += [f"{len(left_out)} files were flagged by validation (`results/dataset/excluded.csv`):", ""]
            lines += [markdown_table(left_out.head(20)), ""]
    if ref:
        lines += [
            "## The original experiment (reference)",
            "",
            ref["source"] + ".",
            "",
            markdown_table(reference_table(ref)),
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
