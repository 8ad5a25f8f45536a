"""A run killed with SIGKILL and resumed equals an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import redline
from redline.testing import FakeOpenAIServer
from tests.conftest import write_jsonl_suite

CASES = 60


def redline_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "redline", "run", "--no-progress", *args]


def stored_attempts(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT case_id, outcome, response_text, refusal_label, flagged "
            "FROM attempts ORDER BY seq"
        ).fetchall()


def count_attempts(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as connection:
            return connection.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


@pytest.fixture
def slow_server():
    with FakeOpenAIServer(latency_s=0.05) as server:
        yield server


def test_sigkill_then_resume_equals_uninterrupted(tmp_path, slow_server):
    suite = write_jsonl_suite(
        tmp_path / "s.jsonl", [f"request number {i}" for i in range(CASES)]
    )
    common = [
        "--suite",
        str(suite),
        "--target",
        "openai:m",
        "--base-url",
        slow_server.base_url,
        "--concurrency",
        "2",
    ]
    killed_db = tmp_path / "killed.db"
    process = subprocess.Popen(
        redline_command(*common, "--db", str(killed_db), "--out", str(tmp_path / "k")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while count_attempts(killed_db) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stored_before = count_attempts(killed_db)
    assert 10 <= stored_before < CASES

    with sqlite3.connect(killed_db) as connection:
        (run_id,) = connection.execute("SELECT run_id FROM runs").fetchone()
    requests_before_resume = slow_server.requests_total
    resumed = subprocess.run(
        redline_command(
            "--resume", run_id, "--db", str(killed_db), "--out", str(tmp_path / "r")
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    # The resumed run sent only the cases that had no stored attempt.
    assert slow_server.requests_total - requests_before_resume == CASES - stored_before

    full_db = tmp_path / "full.db"
    full = subprocess.run(
        redline_command(*common, "--db", str(full_db), "--out", str(tmp_path / "f")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert full.returncode == 0, full.stderr
    assert stored_attempts(killed_db) == stored_attempts(full_db)
    assert len(stored_attempts(killed_db)) == CASES


def test_resume_refuses_changed_suite(tmp_path, fake_server):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a", "b"])
    db = tmp_path / "r.db"
    first = subprocess.run(
        redline_command(
            "--suite",
            str(suite),
            "--target",
            "openai:m",
            "--base-url",
            fake_server.base_url,
            "--db",
            str(db),
            "--out",
            str(tmp_path / "o"),
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 0, first.stderr
    write_jsonl_suite(suite, ["a", "changed"])
    with sqlite3.connect(db) as connection:
        (run_id,) = connection.execute("SELECT run_id FROM runs").fetchone()
        connection.execute("UPDATE runs SET status = 'interrupted'")
    resumed = subprocess.run(
        redline_command("--resume", run_id, "--db", str(db)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode == 2
    assert "changed since run" in resumed.stderr


def test_target_bug_is_unassessed_not_a_hang(tmp_path):
    module = tmp_path / "buggy.py"
    module.write_text("async def reply(messages):\n    raise KeyError('oops')\n")
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a", "b", "c"])
    result = redline.run(suite, target=f"python:{module}:reply", db=tmp_path / "r.db")
    assert result.summary.unassessed_reasons == {"callable_error": 3}


def test_store_failure_stops_run_with_error(tmp_path, fake_server, monkeypatch):
    from redline.errors import StoreError
    from redline.store import Store

    def broken_add(self, attempts):
        raise StoreError("disk full")

    monkeypatch.setattr(Store, "add_attempts", broken_add)
    suite = write_jsonl_suite(tmp_path / "s.jsonl", [f"p{i}" for i in range(40)])
    with pytest.raises(StoreError, match="disk full"):
        redline.run(
            suite,
            target="openai:m",
            target_options={"base_url": fake_server.base_url},
            db=tmp_path / "r.db",
        )


def test_target_plugin_exception_is_unassessed(tmp_path, monkeypatch):
    from redline.targets import Target
    from redline.targets._base import _REGISTRY

    class ExplodingTarget(Target):
        scheme = "exploding-test"
        description = "raises a plain exception"

        async def generate(self, messages, params):
            raise ValueError("plugin bug")

    monkeypatch.setitem(_REGISTRY, ExplodingTarget.scheme, ExplodingTarget)

    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a", "b"])
    result = redline.run(suite, target="exploding-test", db=tmp_path / "r.db")
    assert result.summary.unassessed_reasons == {"target_exception": 2}


def test_resume_of_completed_run_sends_nothing(tmp_path, fake_server):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a", "b"])
    db = tmp_path / "r.db"
    first = redline.run(
        suite,
        target="openai:m",
        db=db,
        target_options={"base_url": fake_server.base_url},
    )
    sent = fake_server.requests_total
    again = redline.resume(first.run_id, db=db)
    assert fake_server.requests_total == sent
    assert again.run.finished_at == first.run.finished_at


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_stop_signal_marks_run_interrupted(tmp_path, slow_server, stop_signal):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", [f"q {i}" for i in range(CASES)])
    db = tmp_path / "r.db"
    process = subprocess.Popen(
        redline_command(
            "--suite",
            str(suite),
            "--target",
            "openai:m",
            "--base-url",
            slow_server.base_url,
            "--concurrency",
            "1",
            "--db",
            str(db),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while count_attempts(db) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(stop_signal)
    _, stderr = process.communicate(timeout=30)
    with sqlite3.connect(db) as connection:
        run_id, status = connection.execute(
            "SELECT run_id, status FROM runs"
        ).fetchone()
    assert process.returncode == 130
    assert status == "interrupted"
    assert f"--resume {run_id}" in stderr
