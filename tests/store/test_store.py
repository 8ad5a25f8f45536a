from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest

from redline.errors import StoreError
from redline.store import AttemptRecord, CalibrationRecord, RunRecord, Store
from redline.store._sqlite import _MIGRATIONS


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
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(
            _MIGRATIONS
        )


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


def make_calibration(
    name: str = "refusal", version: str = "1", created_at: float = 10.0
) -> CalibrationRecord:
    return CalibrationRecord(
        created_at=created_at,
        classifier_name=name,
        classifier_version=version,
        classifier_identity={"name": name, "kind": "refusal", "version": version},
        labels_path="/data/labels.jsonl",
        labels_sha256="a" * 64,
        row_count=3,
        metrics={"metrics": {"n": 3}},
        redline_version="0",
    )


def write_v1_database(path) -> None:
    """Write a database with only the first migration's schema, as older redline did."""
    run = make_run()
    attempt = make_attempt(run.run_id, "c0", 0)
    with sqlite3.connect(path) as connection:
        connection.executescript(_MIGRATIONS[0] + "PRAGMA user_version = 1;")
        for table, record in (("runs", run), ("attempts", attempt)):
            columns = {
                row[1] for row in connection.execute(f"PRAGMA table_info({table})")
            }
            values = {
                f.name: _column_value(getattr(record, f.name))
                for f in dataclasses.fields(record)
                if f.name in columns
            }
            connection.execute(
                f"INSERT INTO {table} ({', '.join(values)}) "
                f"VALUES ({', '.join('?' for _ in values)})",
                list(values.values()),
            )
    connection.close()


def _column_value(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return int(value) if isinstance(value, bool) else value


def test_v1_database_migrated_without_losing_runs(tmp_path):
    path = tmp_path / "old.db"
    write_v1_database(path)
    with Store(path) as store:
        run = store.get_run("20260101-000000-abcdef")
        attempts = list(store.iter_attempts(run.run_id))
        assert store.list_calibrations() == []
    assert run == make_run()
    assert attempts == [make_attempt(run.run_id, "c0", 0)]


def test_v1_database_gets_calibrations_table(tmp_path):
    path = tmp_path / "old.db"
    write_v1_database(path)
    Store(path).close()
    with sqlite3.connect(path) as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
    connection.close()
    assert version == len(_MIGRATIONS)
    assert "calibrations" in tables


def test_foreign_database_left_unchanged(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    with pytest.raises(StoreError):
        Store(path)
    with sqlite3.connect(path) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    connection.close()
    assert tables == []
    assert version == 1


def test_calibration_round_trip(tmp_path):
    written = make_calibration()
    with Store(tmp_path / "r.db") as store:
        calibration_id = store.add_calibration(written)
        read = store.list_calibrations()
    assert written.id == calibration_id
    assert read == [written]


def test_calibrations_listed_newest_first(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.add_calibration(make_calibration(created_at=1.0))
        store.add_calibration(make_calibration(created_at=3.0))
        store.add_calibration(make_calibration(created_at=2.0))
        times = [c.created_at for c in store.list_calibrations()]
    assert times == [3.0, 2.0, 1.0]


def test_calibrations_filtered_by_classifier(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.add_calibration(make_calibration("refusal"))
        store.add_calibration(make_calibration("toxicity"))
        names = [c.classifier_name for c in store.list_calibrations("toxicity")]
    assert names == ["toxicity"]


def test_latest_calibration_matches_name_and_version(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.add_calibration(make_calibration(version="1", created_at=1.0))
        store.add_calibration(make_calibration(version="1", created_at=2.0))
        store.add_calibration(make_calibration(version="2", created_at=5.0))
        latest = store.latest_calibration("refusal", "1")
        other = store.latest_calibration("toxicity", "1")
    assert latest is not None
    assert latest.created_at == 2.0
    assert other is None


def test_latest_calibration_tie_takes_last_added(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.add_calibration(make_calibration(created_at=1.0))
        second = store.add_calibration(make_calibration(created_at=1.0))
        latest = store.latest_calibration("refusal", "1")
    assert latest is not None
    assert latest.id == second
