"""Per-file durations at the end of every pytest run, so that the next change sees what each test
file costs and which one is the critical path.

conftest.py feeds every test report (setup, call and teardown; under pytest-xdist the controller
receives the workers' reports) to :func:`record` and prints :func:`table` in its terminal
summary. A file's *busy* time is the sum of its tests' setup, call and teardown durations (a
module or session fixture counts in the test that first asked for it, a wait for a shared run
included); its *span* runs from its first test's start to its last test's end, in seconds since
the first test of the session started.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class FileTime:
    """What the reports of one test file add up to."""

    busy: float = 0.0
    start: float = float("inf")
    stop: float = 0.0
    tests: set[str] = field(default_factory=set)
    workers: set[str] = field(default_factory=set)


TIMES: dict[str, FileTime] = {}


def record(report: pytest.TestReport) -> None:
    """Add one phase's report (setup, call or teardown) to its file's times."""
    path = report.nodeid.split("::", 1)[0]
    t = TIMES.setdefault(path, FileTime())
    t.busy += report.duration
    if report.start:  # 0 where a report carries no clock (a collection error)
        t.start = min(t.start, report.start)
        t.stop = max(t.stop, report.stop)
    t.tests.add(report.nodeid)
    node = getattr(report, "node", None)  # pytest-xdist: the worker that ran it
    t.workers.add(node.gateway.id if node is not None else "-")


def table() -> list[str]:
    """The per-file lines, slowest first: busy seconds, span, tests and workers."""
    if not TIMES:
        return []
    t0 = min(t.start for t in TIMES.values())
    lines = [f"{'busy s':>8} {'from s':>7} {'to s':>7} {'tests':>5}  worker  file"]
    for path, t in sorted(TIMES.items(), key=lambda item: -item[1].busy):
        workers = ",".join(sorted(t.workers))
        lines.append(f"{t.busy:8.1f} {t.start - t0:7.1f} {t.stop - t0:7.1f} {len(t.tests):5d}  {workers:6s}  {path}")
    end = max(t.stop for t in TIMES.values())
    lines.append(f"{sum(t.busy for t in TIMES.values()):8.1f} busy seconds in all; {end - t0:.1f} s from first to last")
    return lines
