"""Compare against a candidate whose target failed on every request."""

from __future__ import annotations

import pytest

from redline.compare import compare_runs
from redline.store import Store
from tests.paired_runs import baseline_responder, run_with, write_golden_suite


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """Database, a baseline run and a run whose target returned only empty text."""
    folder = tmp_path_factory.mktemp("broken")
    suite = write_golden_suite(folder / "golden.jsonl")
    db = folder / "r.db"
    base = run_with(baseline_responder, suite, db)
    candidate = run_with(lambda prompt: "", suite, db)
    return db, base, candidate


def test_nothing_assessed_not_comparable(broken):
    db, base, candidate = broken
    with Store(db) as store:
        comparison = compare_runs(store, base, candidate)
    assert comparison.verdict == "not comparable"
    assert comparison.differences[0].startswith(
        "none of the 30 shared cases was assessed in both runs"
    )


def test_nothing_assessed_either_direction(broken):
    db, base, candidate = broken
    with Store(db) as store:
        comparison = compare_runs(store, candidate, base)
    assert comparison.verdict == "not comparable"
