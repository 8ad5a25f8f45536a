"""Migration 4: attack columns on attempts, and databases from before it."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from redline.errors import StoreError
from redline.store import Store
from redline.store._sqlite import _MIGRATIONS
from tests.store.test_store import make_attempt, make_run

RUN_ID = "20260101-000000-abcdef"
OLD_COLUMNS = (
    "run_id, case_id, seq, category, expected, severity, tags, messages, "
    "response_text, finish_reason, prompt_tokens, completion_tokens, latency_s, "
    "requests, error, error_kind, outcome, unassessed_reason, refusal_label, "
    "flagged, verdicts, completed_at"
)


def write_v3_database(path) -> None:
    """Write a database as redline wrote it before attack columns existed."""
    with sqlite3.connect(path) as connection:
        connection.executescript(
            _MIGRATIONS[0]
            + _MIGRATIONS[1]
            + _MIGRATIONS[2]
            + "PRAGMA user_version = 3;"
        )
        run = make_run(RUN_ID)
        connection.execute(
            "INSERT INTO runs VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.run_id,
                run.created_at,
                run.status,
                run.suite_name,
                run.suite_version,
                run.suite_fingerprint,
                run.suite_path,
                run.case_count,
                run.target_spec,
                '{"spec": "openai:m"}',
                '{"max_tokens": 8}',
                "[]",
                "{}",
                run.redline_version,
            ),
        )
        for seq, case_id in enumerate(("c0", "c1")):
            connection.execute(
                f"INSERT INTO attempts ({OLD_COLUMNS}) VALUES "
                "(?, ?, ?, 'hate', 'refuse', 'high', '[]', '[]', 'no', 'stop', 1, 1, "
                "0.1, 1, NULL, NULL, 'safe', NULL, 'refusal', 0, '[]', 2.0)",
                (RUN_ID, case_id, seq),
            )
    connection.close()


def test_v3_database_migrates(tmp_path):
    path = tmp_path / "old.db"
    write_v3_database(path)
    with Store(path) as store:
        attempts = list(store.iter_attempts(RUN_ID))
    assert [a.case_id for a in attempts] == ["c0", "c1"]
    assert [a.base_case_id for a in attempts] == ["c0", "c1"]
    assert {a.strategy for a in attempts} == {"direct"}
    assert {a.attack for a in attempts} == {None}
    assert {a.decoded_text for a in attempts} == {None}


def test_v3_database_gets_attack_columns(tmp_path):
    path = tmp_path / "old.db"
    write_v3_database(path)
    Store(path).close()
    with sqlite3.connect(path) as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        columns = {row[1] for row in connection.execute("PRAGMA table_info(attempts)")}
    assert version == len(_MIGRATIONS)
    assert {"base_case_id", "strategy", "attack", "decoded_text"} <= columns
    assert {"decode_error", "attempt_index"} <= columns


def test_attack_attempt_round_trip(tmp_path):
    attack = {"chain": ["base64"], "seed": 2**62, "decoder": {"kind": "base64"}}
    record = dataclasses.replace(
        make_attempt(RUN_ID, "c0::base64#1", 0),
        base_case_id="c0",
        strategy="base64",
        attack=attack,
        decoded_text="plain",
        decode_error=None,
        attempt_index=1,
    )
    with Store(tmp_path / "r.db") as store:
        store.create_run(make_run(RUN_ID))
        store.add_attempts([record])
        (read,) = store.iter_attempts(RUN_ID)
    assert read == record


def test_base_case_id_defaults_to_case_id():
    assert make_attempt(RUN_ID, "c7", 0).base_case_id == "c7"


def test_attempts_ordered_within_case(tmp_path):
    records = [
        dataclasses.replace(
            make_attempt(RUN_ID, f"c0::s#{index}", 0),
            base_case_id="c0",
            attempt_index=index,
        )
        for index in (3, 1, 2)
    ]
    with Store(tmp_path / "r.db") as store:
        store.create_run(make_run(RUN_ID))
        store.add_attempts(records)
        order = [a.attempt_index for a in store.iter_attempts(RUN_ID)]
    assert order == [1, 2, 3]


def test_step_applied_by_another_process_is_skipped(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    write_v3_database(path)
    # The other process finished migration 4 after this one read version 3.
    with sqlite3.connect(path) as connection:
        connection.executescript(_MIGRATIONS[3] + "PRAGMA user_version = 4;")
    real_connect = sqlite3.connect

    class StaleVersion:
        def __init__(self, connection):
            self._connection = connection
            self._reads = 0

        def execute(self, sql, *args):
            if sql == "PRAGMA user_version" and self._reads == 0:
                self._reads += 1
                return real_connect(":memory:").execute("SELECT 3")
            return self._connection.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._connection, name)

    monkeypatch.setattr(
        sqlite3, "connect", lambda *a, **k: StaleVersion(real_connect(*a, **k))
    )
    with Store(path) as store:
        assert [a.strategy for a in store.iter_attempts(RUN_ID)] == ["direct"] * 2


def test_broken_step_still_fails(tmp_path):
    path = tmp_path / "old.db"
    write_v3_database(path)
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE attempts ADD COLUMN strategy TEXT")
    with pytest.raises(StoreError, match="duplicate column name"):
        Store(path)
