"""Guard sweeps over unfinished and empty runs, and resumes of moved guards."""

from __future__ import annotations

import json
import sqlite3

import pytest

from redline.testing import FakeOpenAIServer
from tests.guards.functions import COMPLIANCE
from tests.guards.test_guard_cli import CASES, GUARD, invoke, run_suite, sweep
from tests.guards.test_guarded_run import write_suite


@pytest.fixture
def server():
    with FakeOpenAIServer(responder=lambda prompt: COMPLIANCE) as fake:
        yield fake


@pytest.fixture
def files(tmp_path):
    guard = tmp_path / "guard.yaml"
    guard.write_text(GUARD, encoding="utf-8")
    suite = write_suite(tmp_path / "s.jsonl", CASES)
    return {"guard": guard, "suite": suite, "db": tmp_path / "r.db"}


def drop_attempts(db, run_id: str, keep: int) -> None:
    """Keep the first ``keep`` attempts of a run and mark it interrupted."""
    with sqlite3.connect(db) as connection:
        connection.execute(
            "DELETE FROM attempts WHERE run_id = ? AND seq >= ?", (run_id, keep)
        )
        connection.execute(
            "UPDATE runs SET status = 'interrupted' WHERE run_id = ?", (run_id,)
        )


def test_sweep_empty_run_rejected(files, server):
    run_id = run_suite(files, server)
    drop_attempts(files["db"], run_id, keep=0)
    result = sweep(files, run_id)
    assert result.exit_code == 2
    assert f"run {run_id} (interrupted) has no stored attempt" in result.output
    assert f"redline run --resume {run_id}" in result.output


def test_sweep_interrupted_run_noted(files, server):
    run_id = run_suite(files, server)
    drop_attempts(files["db"], run_id, keep=2)
    result = sweep(files, run_id, "--steps", "3")
    assert result.exit_code == 0, result.output
    assert "2 attempts" in result.output
    assert "note: the run is interrupted" in result.output


def test_sweep_json_names_run_status(files, server):
    run_id = run_suite(files, server)
    drop_attempts(files["db"], run_id, keep=2)
    result = sweep(files, run_id, "--steps", "3", "--json")
    assert json.loads(result.output)["run_status"] == "interrupted"


def test_resume_with_moved_guard_names_fix(files, server):
    run_id = run_suite(files, server, "--guard", str(files["guard"]))
    drop_attempts(files["db"], run_id, keep=2)
    files["guard"].rename(files["guard"].with_name("moved.yaml"))
    result = invoke(
        "run",
        "--resume",
        run_id,
        "--base-url",
        server.base_url,
        "--db",
        str(files["db"]),
        "--no-progress",
    )
    assert result.exit_code == 2
    assert "guard.yaml', which is not found" in result.output
    assert "pass its new path with --guard" in result.output
