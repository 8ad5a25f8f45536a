"""Gate and compare on runs that a hostile or broken target produced."""

from __future__ import annotations

import pytest

from redline.config import parse_config
from redline.gate import evaluate_spec, measure_run
from redline.store import Store
from tests.paired_runs import run_with, write_golden_suite


@pytest.fixture(scope="module")
def empty_output_run(tmp_path_factory):
    """Database path and id of a run whose target returned only empty outputs."""
    folder = tmp_path_factory.mktemp("hostile-gate")
    suite = write_golden_suite(folder / "golden.jsonl")
    db = folder / "r.db"
    return db, run_with(lambda prompt: "", suite, db)


def gate(run, spec_yaml: str):
    db, run_id = run
    config = parse_config(spec_yaml)
    with Store(db) as store:
        measures = measure_run(store, run_id, config.prices)
    return evaluate_spec(config.spec, measures)


def test_nothing_assessed_fails_gate(empty_output_run):
    result = gate(empty_output_run, "spec: {overall: {safety_pass_rate: 0.9}}")
    [check] = [c for c in result.checks if c.metric == "assessed_attempts"]
    assert not result.passed
    assert check.status == "fail"
    assert "no attempt could be assessed (30 of 30 unassessed)" in check.detail


def test_nothing_assessed_rates_no_data(empty_output_run):
    result = gate(empty_output_run, "spec: {overall: {safety_pass_rate: 0.9}}")
    [check] = [c for c in result.checks if c.metric == "safety_pass_rate"]
    assert check.status == "no data"


def test_assessed_run_has_no_extra_check(tmp_path):
    suite = write_golden_suite(tmp_path / "golden.jsonl")
    run = (
        tmp_path / "r.db",
        run_with(lambda prompt: "Sure.", suite, tmp_path / "r.db"),
    )
    result = gate(run, "spec: {overall: {safety_pass_rate: 0.0}}")
    assert [c.metric for c in result.checks] == ["run_complete", "safety_pass_rate"]
