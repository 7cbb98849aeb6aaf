"""Numbers as text: the report's number format, its Markdown tables, and the README as one HTML page."""

from __future__ import annotations

import math
from pathlib import Path
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


#: The summary page's style: readable tables, figures no wider than the page.
HTML_STYLE = """
body { font-family: sans-serif; max-width: 75em; margin: 1em auto; padding: 0 1em; line-height: 1.45; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; }
"""


def html_page(markdown_text: str, folder: Path, title: str) -> str:
    """``markdown_text`` (the report's README) as one self-contained HTML page: tables rendered,
    each image it links that lies in ``folder`` (or below its parent) embedded as a data URI, so
    the page shows its figures wherever it is opened, the HTML report's viewer included."""
    import base64
    import html
    import re

    import markdown

    def embed(match: re.Match[str]) -> str:
        alt, src = match.group(1), match.group(2)
        path = (folder / src).resolve()
        if path.suffix.lower() != ".png" or not path.is_file():
            return f"*Figure: {alt} (not found: {src})*"
        return f"![{alt}](data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})"

    body = markdown.markdown(re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", embed, markdown_text), extensions=["tables"])
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<style>{HTML_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


#: The README sections a reader needs first, by the start of their heading: the HTML report's
#: front page (:func:`front_fragment`).
FRONT_SECTIONS = ("The answer", "Conclusions", "Which model for my latency budget")


def front_fragment(markdown_text: str, sections: tuple[str, ...] = FRONT_SECTIONS) -> str:
    """The ``sections`` of the README (``## `` headings starting with one of them, in the README's
    order) as an HTML fragment: tables rendered, figures left out (the report shows them by
    category). ValueError when none is there: a front page without the answer is a bug."""
    import re

    import markdown

    parts = re.split(r"(?m)^(?=## )", markdown_text)
    kept = [p for p in parts if p.startswith("## ") and p[3:].startswith(sections)]
    if not kept:
        raise ValueError(f"none of the sections {sections} in the README")
    text = re.sub(r"!\[([^\]]*)\]\([^)]+\)", r"*(figure: \1)*", "".join(kept))
    return markdown.markdown(text, extensions=["tables"]) + "\n"
