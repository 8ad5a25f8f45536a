"""A stored candidate run of the golden suite, shared by the gate tests."""

from __future__ import annotations

import pytest

from tests.paired_runs import candidate_responder, run_with, write_golden_suite


@pytest.fixture(scope="module")
def candidate_run(tmp_path_factory):
    """Database path and run id of the candidate run (see tests/paired_runs.py)."""
    folder = tmp_path_factory.mktemp("gate")
    suite = write_golden_suite(folder / "golden.jsonl")
    db = folder / "r.db"
    return db, run_with(candidate_responder, suite, db)
