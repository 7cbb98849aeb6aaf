"""The sweep timed on deployment machines: each host's light benchmark beside this machine's.

Numbers only, from ``results/hosts/<host>/`` (:mod:`yoloshrink.hostbench`: ``hostbench.csv``,
``environment.json``, ``bundle.json``) and the benchmark table: per (variant, target, threads)
the network p50 here and on every host, each host's machine, and the budget answer per host.
A host times the network call only (it has no NMS without torch), so its budgets are per
network call, with the mAP50-95 measured on this machine through the same model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from yoloshrink import layout, targets

#: The runtimes whose versions a host's line names (their distributions; torch, which a light
#: host lacks, last).
HOST_RUNTIMES = [r.distribution for r in sorted(targets.RUNTIMES.values(), key=lambda r: r.name == "torch")]


def read_hosts(folders: list[Path]) -> dict[str, dict[str, Any]]:
    """Host name -> {"rows": its hostbench.csv, "environment": its environment.json, "bundle":
    its bundle.json}, for each folder holding a hostbench.csv, in name order."""
    out = {}
    for folder in sorted(Path(f) for f in folders):
        csv = folder / layout.HOST_CSV
        if not csv.exists():
            continue
        env = folder / "environment.json"
        bundle = folder / "bundle.json"
        out[folder.name] = {
            "rows": pd.read_csv(csv),
            "environment": json.loads(env.read_text()) if env.exists() else {},
            "bundle": json.loads(bundle.read_text()) if bundle.exists() else {},
        }
    return out


def machine(env: dict[str, Any]) -> dict[str, Any]:
    """A host's machine in short: CPU model, cores, the CPU flags it has, runtime versions."""
    versions = env.get("packages", {})
    return {
        "cpu_model": env.get("cpu_model", "unknown"),
        "cores": env.get("logical_cores"),
        "flags": [k for k, v in env.get("cpu_flags", {}).items() if v],
        "runtimes": [f"{k} {versions[k]}" for k in HOST_RUNTIMES if versions.get(k)],
        "date": env.get("date", ""),
    }


def with_aliases(df: pd.DataFrame) -> pd.DataFrame:
    """The benchmark table with a copy of each row under every target it was also timed for
    (its ``aliases``: e.g. ``openvino``, whose default precision ran as ``openvino-bf16`` here),
    so that a host's row of that target finds this machine's."""
    if "aliases" not in df.columns:
        return df
    copies = [
        {**row, "target": alias}
        for row in df.to_dict("records")
        for alias in str(row["aliases"]).split(",")
        if row["aliases"] == row["aliases"] and alias
    ]
    return pd.concat([df, pd.DataFrame(copies, columns=df.columns)], ignore_index=True) if copies else df


def _cell(row: pd.Series | None) -> str:
    if row is None:
        return "—"
    if row["status"] != "ok":
        return f"failed: {row['error']}"
    return f"{row['p50_ms']:.2f} ({row['p50_ci_low_ms']:.2f}-{row['p50_ci_high_ms']:.2f})"


def host_table(df: pd.DataFrame, hosts: dict[str, dict[str, Any]], here: str = "this machine") -> pd.DataFrame:
    """Per (variant, target, threads) of the benchmark table's rows that a host timed: the network
    p50 with its interval here and on each host, or the host's failure."""
    keys = ["variant", "target", "threads"]
    df = with_aliases(df)
    rows = df[df["target"] != "pytorch"][[*keys, "status", "error", "p50_ms", "p50_ci_low_ms", "p50_ci_high_ms"]]
    table = rows[keys].reset_index(drop=True).copy()
    table[here] = [_cell(r) for _, r in rows.iterrows()]
    for name, h in hosts.items():
        found = {tuple(r[k] for k in keys): r for _, r in h["rows"].iterrows()}
        table[name] = [_cell(found.get(tuple(r[k] for k in keys))) for _, r in rows.iterrows()]
    return table


def host_budgets(df: pd.DataFrame, hosts: dict[str, dict[str, Any]], budgets_ms: list[float]) -> list[dict[str, Any]]:
    """Per host, thread count and budget: the most accurate (variant, target) whose network p50
    on that host is within the budget (``best``, its mAP50-95 from this machine's row of the same
    target), else the fastest row there (``fastest``)."""
    acc = with_aliases(df).set_index(["variant", "target"])["map50_95"].groupby(level=[0, 1]).first()
    out = []
    for name, h in hosts.items():
        ok = h["rows"][h["rows"]["status"] == "ok"].copy()
        if ok.empty:
            continue
        ok["map50_95"] = [acc.get((v, t), math.nan) for v, t in zip(ok["variant"], ok["target"], strict=True)]
        for threads, sub in ok.groupby("threads", sort=True):
            for budget in budgets_ms:
                item: dict[str, Any] = {"host": name, "threads": int(threads), "budget": budget, "best": None}
                fit = sub[sub["p50_ms"] <= budget].dropna(subset=["map50_95"])
                if fit.empty:
                    fastest = sub.loc[sub["p50_ms"].idxmin()]
                    item["fastest"] = {k: fastest[k] for k in ("variant", "target", "p50_ms")}
                else:
                    best = fit.sort_values(["map50_95", "p50_ms"], ascending=[False, True]).iloc[0]
                    item["best"] = {k: best[k] for k in ("variant", "target", "map50_95", "p50_ms")}
                    item["fastest"] = None
                out.append(item)
    return out
