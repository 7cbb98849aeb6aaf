"""Recompute the ratios the report's README states from the benchmark CSV they came from.

:func:`check_readme` reads the README's ratio sentences and tables (the first answer, the
conclusions, the speed-ups table, the levers tables) and recomputes each ratio from the CSV
columns it names; it returns the mismatches beyond rounding and how many of each it checked, so
that a test fails on a wrong ratio and also on a report that states none.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import pandas as pd

NUMBER = r"[-+]?\d+(?:\.\d+)?"


def tables(text: str) -> list[list[dict[str, str]]]:
    """The Markdown tables of ``text``, each as its rows (header -> cell text)."""
    lines = text.splitlines()
    out = []
    for i in range(len(lines) - 1):
        if lines[i].startswith("| ") and re.match(r"^\|(-+\|)+$", lines[i + 1].replace(":", "-")):
            header = [c.strip() for c in lines[i].strip("|").split("|")]
            rows = []
            for line in lines[i + 2 :]:
                if not line.startswith("|"):
                    break
                rows.append(dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=False)))
            out.append(rows)
    return out


def cell_numbers(cell: str) -> list[float]:
    """The numbers in a cell: "1.39 (1.33-1.43)" gives [1.39, 1.33, 1.43]."""
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", cell)]


def close(stated: float, actual: float, digits: int, rel: float = 0.0) -> bool:
    """Whether ``stated`` (printed with ``digits`` decimals) is ``actual`` up to rounding, plus a
    relative slack ``rel`` where ``actual`` is itself recomputed from rounded figures."""
    return abs(stated - actual) <= 0.5 * 10**-digits + 1e-9 + rel * abs(actual)


def row(df: pd.DataFrame, variant: str, target: str, threads: int) -> pd.Series:
    sub = df[(df["variant"] == variant) & (df["target"] == target) & (df["threads"] == threads)]
    assert len(sub) == 1, (variant, target, threads, len(sub))
    return sub.iloc[0]


def check_readme(text: str, df: pd.DataFrame) -> tuple[list[str], Counter]:
    """(mismatches, checked: kind -> how many statements of that kind were recomputed)."""
    bad: list[str] = []
    checked: Counter = Counter()
    ok = df[df["status"] == "ok"]

    # the first answer: its target and threads from the sentence above the table
    where = re.search(r"On \*\*(\S+)\*\* \(.*?\) at (\d+) thread\(s\)", text)
    for t in tables(text):
        if not t or "network-call speed-up, timed in turns (95 % CI)" not in t[0]:
            continue
        assert where, "the answer table without the sentence naming its target"
        target, threads = where.group(1), int(where.group(2))
        p50_col = next(c for c in t[0] if c.startswith("p50 ms per"))
        col = "e2e_p50_ms" if p50_col.endswith("frame (95 % CI)") else "p50_ms"
        ratio_col = next(c for c in t[0] if c.endswith("'s p50 / this p50"))
        base_variant = ratio_col.split("'s p50")[0]
        base = row(df, base_variant, target, threads)
        for r in t:
            csv = row(df, r["variant"], target, threads)
            p50, lo, hi = cell_numbers(r[p50_col])
            for stated, name in (
                (p50, col),
                (lo, col.replace("_ms", "_ci_low_ms")),
                (hi, col.replace("_ms", "_ci_high_ms")),
            ):
                if not close(stated, csv[name], 3):
                    bad.append(f"answer {r['variant']}: {name} {stated} vs CSV {csv[name]}")
            jobs = r.get("95 % CI with what moved between jobs", "–")
            if jobs != "–":
                j_lo, j_hi = cell_numbers(jobs)
                names = (col.replace("_ms", "_jobs_ci_low_ms"), col.replace("_ms", "_jobs_ci_high_ms"))
                for stated, name in zip((j_lo, j_hi), names, strict=True):
                    if not close(stated, csv[name], 3):
                        bad.append(f"answer {r['variant']}: {name} {stated} vs CSV {csv[name]}")
                checked["answer between-jobs cells"] += 1
            ratio = float(base[col]) / float(csv[col])
            if not close(float(r[ratio_col]), ratio, 2):
                bad.append(f"answer {r['variant']}: {ratio_col} {r[ratio_col]} vs {ratio:.4f} from the CSV")
            speed = r["network-call speed-up, timed in turns (95 % CI)"]
            if speed not in ("baseline", "–"):
                s, s_lo, s_hi = cell_numbers(speed)
                for stated, name in ((s, "speedup"), (s_lo, "speedup_ci_low"), (s_hi, "speedup_ci_high")):
                    if not close(stated, csv[name], 2):
                        bad.append(f"answer {r['variant']}: {name} {stated} vs CSV {csv[name]}")
                if not close(s, csv["pair_baseline_p50_ms"] / csv["pair_p50_ms"], 2):
                    bad.append(f"answer {r['variant']}: speed-up {s} is not the pair's p50 ratio")
            change = r[f"mAP50-95 change vs {base_variant}"]
            if change != "baseline":
                delta = float(re.match(NUMBER, change).group())
                if not close(delta, csv["map50_95"] - base["map50_95"], 3):
                    bad.append(f"answer {r['variant']}: mAP50-95 change {delta} vs CSV")
                rel = re.search(rf"\(({NUMBER})%\)", change)
                if rel and not close(float(rel.group(1)), 100 * (csv["map50_95"] / base["map50_95"] - 1), 0):
                    bad.append(f"answer {r['variant']}: relative change {rel.group(1)} % vs CSV")
                if not rel and base["map50_95"] != 0:
                    bad.append(
                        f"answer {r['variant']}: no relative change beside a baseline mAP50-95 of {base['map50_95']}"
                    )
            checked["answer rows"] += 1

    # the answer's sentences: "1.32x faster per frame by the two p50s"
    if where:
        target, threads = where.group(1), int(where.group(2))
        base_variant = re.search(
            r"at \d+ thread\(s\): of the \d+ target\(s\) timed here, the one on which (\S+)'s", text
        )
        for m in re.finditer(
            rf"- \*\*(\S+)\*\*:.*?({NUMBER})x (faster|slower) per (frame|network call) by the two p50s", text
        ):
            col = "e2e_p50_ms" if m.group(4) == "frame" else "p50_ms"
            ratio = row(df, base_variant.group(1), target, threads)[col] / row(df, m.group(1), target, threads)[col]
            stated = float(m.group(2)) if m.group(3) == "faster" else 1 / float(m.group(2))
            if not close(stated, ratio, 2, rel=0.01):
                bad.append(f"answer sentence {m.group(1)}: {m.group(0)[-60:]} vs {ratio:.3f}")
            checked["answer sentences"] += 1

    # the conclusions: the ONNX Runtime speed-up and the range across formats
    for m in re.finditer(r"^- \*\*(\S+)\*\* against (\S+): (.*)$", text, flags=re.M):
        variant, rest = m.group(1), m.group(3)
        onnx = re.search(
            rf"({NUMBER})x (faster|slower) \(95 % CI ({NUMBER})-({NUMBER})x\) on ONNX Runtime at (\d+) thread", rest
        )
        if onnx:
            csv = row(df, variant, "onnx", int(onnx.group(5)))
            s = float(onnx.group(1)) if onnx.group(2) == "faster" else 1 / float(onnx.group(1))
            if not close(s, csv["speedup"], 2, rel=0.01):
                bad.append(f"conclusion {variant}: ONNX Runtime speed-up {onnx.group(0)} vs CSV {csv['speedup']}")
            checked["conclusion speed-ups"] += 1
        span = re.search(rf"({NUMBER})x (?:to ({NUMBER})x )?faster across", rest)
        if span:
            sub = ok[(ok["variant"] == variant) & (ok["speedup_verdict"] != "no measurable difference")]
            lo, hi = float(span.group(1)), float(span.group(2) or span.group(1))
            if not (close(lo, sub["speedup"].min(), 2) and close(hi, sub["speedup"].max(), 2)):
                bad.append(
                    f"conclusion {variant}: {span.group(0)} vs CSV "
                    f"{sub['speedup'].min():.3f}-{sub['speedup'].max():.3f}"
                )
            checked["conclusion ranges"] += 1

    # the speed-ups table: each speed-up is the quotient of the two p50s beside it
    for t in tables(text):
        if not t or "baseline p50 ms (pair)" not in t[0]:
            continue
        for r in t:
            base_p50, var_p50 = (
                cell_numbers(r["baseline p50 ms (pair)"])[0],
                cell_numbers(r["variant p50 ms (pair)"])[0],
            )
            s = cell_numbers(r["speed-up (95 % CI)"])[0]
            if not close(s, base_p50 / var_p50, 2, rel=0.001):
                bad.append(f"speed-ups {r['variant']} {r['target']}: {s} vs {base_p50} / {var_p50}")
            csv = row(df, r["variant"], r["target"], int(r["threads"]))
            if not (close(base_p50, csv["pair_baseline_p50_ms"], 3) and close(var_p50, csv["pair_p50_ms"], 3)):
                bad.append(f"speed-ups {r['variant']} {r['target']}: p50s not the CSV's pair_* columns")
            checked["speed-up rows"] += 1

    # the same model across jobs: the range is of the baseline's own row and its pairs' p50s
    span = re.search(
        rf"(\S+)'s network p50 on (\S+) at (\d+) thread\(s\) ranged from ({NUMBER}) to ({NUMBER}) ms over the "
        rf"(\d+) jobs that timed it \(its own row and the pairs; ({NUMBER})x",
        text,
    )
    if span:
        base, target, threads = span.group(1), span.group(2), int(span.group(3))
        low, high, jobs, ratio = float(span.group(4)), float(span.group(5)), int(span.group(6)), float(span.group(7))
        on = ok[(ok["target"] == target) & (ok["threads"] == threads)]
        p50s = [*on.loc[on["variant"] == base, "p50_ms"], *on.loc[on["variant"] != base, "pair_baseline_p50_ms"]]
        p50s = [x for x in p50s if x == x]
        if not (close(low, min(p50s), 3) and close(high, max(p50s), 3) and jobs == len(p50s)):
            csv_range = f"{min(p50s):.3f}-{max(p50s):.3f} over {len(p50s)}"
            bad.append(f"drift {target}: {low}-{high} ms over {jobs} vs CSV {csv_range}")
        if not close(ratio, high / low, 2, rel=0.001):
            bad.append(f"drift {target}: {ratio}x vs {high} / {low}")
        checked["drift"] += 1

    # the levers: the speed ratio is the quotient of the two speed-ups beside it
    for t in tables(text):
        if not t or "speed ratio" not in t[0]:
            continue
        for r in t:
            a, b = r["speed-up over the baseline (pair)"], r["against's speed-up (pair)"]
            if "–" in (a, b) or "nan" in (a, b):
                continue
            if not close(float(r["speed ratio"]), float(a) / float(b), 3, rel=0.002):
                bad.append(f"lever {r['variant']}: speed ratio {r['speed ratio']} vs {a} / {b}")
            checked["lever rows"] += 1
    return bad, checked


def perturbed(df: pd.DataFrame, variant: str, factor: float = 1.2) -> pd.DataFrame:
    """``df`` with ``variant``'s speed-ups and p50s off by ``factor``: a README written from the
    original must fail :func:`check_readme` against it."""
    out = df.copy()
    rows = out["variant"] == variant
    for c in ("speedup", "e2e_p50_ms", "pair_p50_ms"):
        if c in out.columns:
            out.loc[rows, c] = out.loc[rows, c] * factor
    assert not math.isclose(factor, 1.0)
    return out
