"""Stores whose JSON columns were changed outside redline."""

from __future__ import annotations

import sqlite3

import pytest

from redline.errors import StoreError
from redline.store import Store
from tests.store.test_store import make_attempt, make_run

RUN_ID = "20260101-000000-abcdef"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "r.db"
    with Store(path) as store:
        store.create_run(make_run(RUN_ID))
        store.add_attempts([make_attempt(RUN_ID, "a", 0), make_attempt(RUN_ID, "b", 1)])
    return path


def tamper(db, sql: str) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(sql)


def test_bad_attempt_json_names_row(db):
    tamper(db, "UPDATE attempts SET verdicts = '{not json' WHERE case_id = 'b'")
    with Store(db) as store, pytest.raises(StoreError) as caught:
        list(store.iter_attempts(RUN_ID))
    message = str(caught.value)
    assert f"attempt of case 'b' in run {RUN_ID}" in message
    assert "column 'verdicts' is not valid JSON" in message


def test_bad_attempt_json_keeps_other_rows(db):
    tamper(db, "UPDATE attempts SET verdicts = '{not json' WHERE case_id = 'b'")
    with Store(db) as store:
        attempts = store.iter_attempts(RUN_ID)
        assert next(attempts).case_id == "a"


def test_bad_run_json_names_run(db):
    tamper(db, "UPDATE runs SET params = '[' ")
    with Store(db) as store, pytest.raises(StoreError) as caught:
        store.get_run(RUN_ID)
    assert f"run {RUN_ID}: column 'params' is not valid JSON" in str(caught.value)
