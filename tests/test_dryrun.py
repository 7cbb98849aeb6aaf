"""Dry runs of the real Snakefile from an empty work folder: which jobs a config schedules.

Fast (seconds each): nothing is computed, Snakemake only builds the DAG.
"""

from __future__ import annotations

import pytest
from helpers import job_counts, make_workdir, snakemake, write_config


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return make_workdir(tmp_path_factory.mktemp("dry"))


def dry_counts(workdir, edit) -> dict[str, int]:
    cfg = write_config(workdir, "dry.yaml", edit)
    return job_counts(snakemake(workdir, "--configfile", cfg, "--dry-run").stdout)


def test_crosscheck_switch_schedules_ultralytics_benchmark_per_variant(workdir):
    on = dry_counts(workdir, lambda c: c["benchmark"].update(crosscheck=True))
    assert on.get("ultralytics_crosscheck") == 2, on  # w0.25 and w0.125
    off = dry_counts(workdir, lambda c: c["benchmark"].update(crosscheck=False))
    assert "ultralytics_crosscheck" not in off and off.get("latency") == 18, off
