from __future__ import annotations

import sqlite3

import pytest

from redline.errors import StoreError
from redline.store import AttemptRecord, RunRecord, Store


def make_run(run_id: str = "20260101-000000-abcdef") -> RunRecord:
    return RunRecord(
        run_id=run_id,
        created_at=1.0,
        status="running",
        suite_name="s",
        suite_version="1",
        suite_fingerprint="f" * 64,
        suite_path="s.yaml",
        case_count=2,
        target_spec="openai:m",
        target_identity={"spec": "openai:m"},
        params={"max_tokens": 8},
        classifiers=[],
        config={},
        redline_version="0",
    )


def make_attempt(run_id: str, case_id: str, seq: int) -> AttemptRecord:
    return AttemptRecord(
        run_id=run_id,
        case_id=case_id,
        seq=seq,
        category="hate",
        expected="refuse",
        severity="high",
        tags=["t"],
        messages=[{"role": "user", "content": "<b>x</b>"}],
        response_text="no",
        finish_reason="stop",
        prompt_tokens=1,
        completion_tokens=1,
        latency_s=0.1,
        requests=1,
        error=None,
        error_kind=None,
        outcome="safe",
        unassessed_reason=None,
        refusal_label="refusal",
        flagged=False,
        verdicts=[{"classifier": "refusal"}],
        completed_at=2.0,
    )


def test_store_uses_wal(tmp_path):
    with Store(tmp_path / "r.db") as store:
        mode = store.query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_schema_version_recorded(tmp_path):
    Store(tmp_path / "r.db").close()
    with sqlite3.connect(tmp_path / "r.db") as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1


def test_newer_schema_rejected(tmp_path):
    with sqlite3.connect(tmp_path / "r.db") as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="upgrade redline"):
        Store(tmp_path / "r.db")


def test_attempts_round_trip(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.create_run(make_run())
        written = [make_attempt("20260101-000000-abcdef", f"c{i}", i) for i in (1, 0)]
        store.add_attempts(written)
        read = list(store.iter_attempts("20260101-000000-abcdef"))
    assert [a.case_id for a in read] == ["c0", "c1"]
    assert read[0] == written[1]


def test_duplicate_attempt_rejected_and_nothing_lost(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.create_run(make_run())
        store.add_attempts([make_attempt("20260101-000000-abcdef", "c0", 0)])
        with pytest.raises(StoreError, match="conflicting write"):
            store.add_attempts([make_attempt("20260101-000000-abcdef", "c0", 0)])
        assert store.done_case_ids("20260101-000000-abcdef") == {"c0"}


def test_run_found_by_prefix(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.create_run(make_run())
        assert store.get_run("20260101-000000").run_id == "20260101-000000-abcdef"


def test_missing_run_error_says_how_to_list(tmp_path):
    with (
        Store(tmp_path / "r.db") as store,
        pytest.raises(StoreError, match="redline runs"),
    ):
        store.get_run("nope")


def test_unopenable_database_named(tmp_path):
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not-a-db"):
        Store(bad)


def test_foreign_database_rejected(tmp_path):
    with sqlite3.connect(tmp_path / "other.db") as connection:
        connection.execute("PRAGMA user_version = 1")
    with pytest.raises(StoreError, match="not a redline results database"):
        Store(tmp_path / "other.db")


def test_database_under_a_file_rejected(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open results database"):
        Store(tmp_path / "file" / "r.db")


def test_run_id_wildcards_match_nothing(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.create_run(make_run())
        with pytest.raises(StoreError, match="no run"):
            store.get_run("%")
