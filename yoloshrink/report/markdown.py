"""Numbers as text: the report's number format and its Markdown tables."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def fmt(x: Any, digits: int = 3) -> str:
    """A cell: "–" for a missing value, an integer without decimals, else ``digits`` decimals."""
    if x is None or x is pd.NA:
        return "–"
    if isinstance(x, float):
        if math.isnan(x):
            return "–"
        return f"{int(x)}" if x.is_integer() and abs(x) >= 1 else f"{x:.{digits}f}"
    return str(x)


def with_sd(m: float, sd: float, digits: int = 3) -> str:
    """``"m ± sd"``, or ``m`` alone when the sd is unknown (NaN)."""
    return f"{m:.{digits}f} ± {sd:.{digits}f}" if sd == sd else f"{m:.{digits}f}"


def mean_sd(mean: float, sd: float, n: int, digits: int = 3) -> str:
    """``"mean ± sd (n=N)"`` when there are several seeds and an sd, else the plain value."""
    if n > 1 and sd == sd:
        return f"{mean:.{digits}f} ± {sd:.{digits}f} (n={n})"
    return fmt(float(mean), digits)


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table of ``df``."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(fmt(v, digits) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])
