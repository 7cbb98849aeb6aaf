"""The report's words: its Jinja2 templates (``templates/``) and the filters they format numbers with.

Numbers come from :mod:`yoloshrink.report.analysis` and :mod:`yoloshrink.report.seeds`; wording
lives in ``templates/sentences.md.j2`` (one macro per kind of sentence) and
``templates/README.md.j2`` (the document), so the two can be reviewed apart. The functions here
render one kind of sentence from the analysis, for the report and for the tests.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
import pandas as pd

from yoloshrink.report import analysis
from yoloshrink.report.markdown import with_sd
from yoloshrink.report.seeds import seed_spread


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


@cache
def environment() -> jinja2.Environment:
    """The templates' environment: blocks leave no blank lines, an undefined name is an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("yoloshrink.report", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    env.filters.update(
        f=lambda x, spec: format(x, spec),
        times=times,
        speed_range=speed_range,
        with_sd=with_sd,
        each=lambda values, pattern: [pattern.format(v) for v in values],
        each_pair=lambda pairs, pattern: [pattern.format(*p) for p in pairs],
    )
    return env


def sentence(macro: str, *args: Any) -> str:
    """One sentence: the macro ``macro`` of ``sentences.md.j2`` called with ``args``."""
    return str(getattr(environment().get_template("sentences.md.j2").module, macro)(*args))


def render_readme(context: dict[str, Any]) -> str:
    """The report's README.md from its context (see :func:`yoloshrink.report.build.build_report`)."""
    return environment().get_template("README.md.j2").render(**context)


def conclusions(
    df: pd.DataFrame, summaries: dict[str, dict[str, Any]], variants: list[str], baseline: str
) -> list[str]:
    """Sentences comparing each other variant with ``baseline``; the words follow the sign of
    each ratio ("fewer"/"more", "faster"/"slower")."""
    return [sentence("conclusion", c) for c in analysis.comparisons(df, summaries, variants, baseline)]


def seed_spread_sentences(stats: pd.DataFrame, variants: list[str], baseline: str) -> list[str]:
    """Per variant but ``baseline``: is its mAP50-95 difference from the baseline larger than the
    seed-to-seed spread?"""
    return [sentence("seed_spread", s) for s in seed_spread(stats, variants, baseline)]


def budget_answers_per_target(
    df: pd.DataFrame, budgets_ms: list[float], stats: pd.DataFrame | None = None
) -> pd.DataFrame:
    """:func:`yoloshrink.report.analysis.budget_per_target` with an ``answer`` sentence per row."""
    answers = analysis.budget_per_target(df, budgets_ms, stats)
    answers["answer"] = [sentence("budget_answer", row) for row in answers.to_dict("records")]
    return answers


def budget_answers(df: pd.DataFrame, budgets_ms: list[float], stats: pd.DataFrame | None = None) -> list[str]:
    """For each latency budget and thread count, the most accurate (variant, target) within it."""
    return [sentence("budget_overall", b) for b in analysis.budget_overall(df, budgets_ms, stats)]


def roof_sentences(df: pd.DataFrame, peak: dict[str, Any] | None) -> list[str]:
    """What the two roofs are, how each was obtained, and every row above the reference roof."""
    facts = analysis.roof_facts(peak)
    out = [sentence("roof_reference", facts["method"]), sentence("roof_theory", facts["theory"])]
    return out + [sentence("roof_above", r) for r in analysis.above_reference(df)]
