"""Dry runs of the real Snakefile from an empty work folder: which jobs a config schedules.

Fast (seconds each): nothing is computed, Snakemake only builds the DAG.
"""

from __future__ import annotations

import re

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


def test_a_distilled_student_waits_for_its_teachers_training(workdir):
    cfg = write_config(workdir, "kd.yaml", lambda c: c["train"].update(distill={"teacher": "w0.25"}))
    out = snakemake(workdir, "--configfile", cfg, "--dry-run").stdout
    jobs = re.findall(r"rule train:\n    input: ([^\n]*)\n    output: ([^\n]*)", out)
    inputs = {output: set(inp.split(", ")) for inp, output in jobs}
    # w0.125 is the only other grid point: its student, one per seed of the tiny config
    students = {o for o in inputs if "-kd" in o}
    assert students == {"results/train/w0.125-kd/train_info.json", "results/train/w0.125-kd-seed1/train_info.json"}
    for student in students:
        assert "results/train/w0.25/train_info.json" in inputs[student], inputs[student]  # the teacher's primary run
    assert not any("train_info" in i for o, ins in inputs.items() if o not in students for i in ins)
