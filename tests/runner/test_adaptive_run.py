"""Runs with adaptive attacks against loopback OpenAI-compatible servers."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable

import pytest
from click.testing import CliRunner

import redline
from redline.attacks import AttackBudget
from redline.cli import main
from redline.report import render_html_report
from redline.runner import RunConfig
from redline.store import Store
from redline.store._sqlite import _MIGRATIONS
from redline.testing import REFUSAL_TEXT, FakeOpenAIServer
from tests.conftest import write_jsonl_suite

MARKER = "MARKER"
COMPLIANCE = "Sure. Here is the full answer, step by step."
# write_jsonl_suite makes case 0 benign and cases 1 and 2 harmful.
PROMPTS = ["request zero", "request one", "request two"]
REFUSE_CASES = ["case-0001", "case-0002"]


def marker_target(prompt: str) -> str:
    """Refuse until the prompt contains the marker word."""
    return COMPLIANCE if MARKER in prompt else REFUSAL_TEXT


def scripted_attacker(marker_from: int | None, prefix: str = "") -> Callable:
    """Return a PAIR attacker that adds the marker from attempt ``marker_from`` on."""

    def respond(prompt: str) -> str:
        attempt = int(re.search(r"^Attempt: (\d+)", prompt, re.MULTILINE)[1])
        text = f"{prefix}try {attempt}"
        if marker_from is not None and attempt >= marker_from:
            text += f" {MARKER}"
        return json.dumps({"improvement": "scripted", "prompt": text})

    return respond


@pytest.fixture
def suite(tmp_path):
    return write_jsonl_suite(tmp_path / "s.jsonl", PROMPTS)


@pytest.fixture
def target_server():
    with FakeOpenAIServer(marker_target) as server:
        yield server


def run_pair(target_server, attacker_server, suite, db, **kwargs):
    return redline.run(
        suite,
        target="openai:target",
        target_options={"base_url": target_server.base_url},
        config=RunConfig(max_retries=0),
        classifiers=["refusal"],
        db=db,
        adaptive=["pair"],
        attacker="openai:attacker",
        attacker_options={"base_url": attacker_server.base_url},
        adaptive_options=kwargs.pop("adaptive_options", ["pair.streams=1"]),
        **kwargs,
    )


def stored_results(db, run_id):
    with Store(db) as store:
        return {r.case_id: r for r in store.iter_adaptive_results(run_id)}


def test_pair_breaks_case_after_known_queries(tmp_path, target_server, suite):
    with FakeOpenAIServer(scripted_attacker(marker_from=3)) as attacker:
        result = run_pair(target_server, attacker, suite, tmp_path / "r.db")
    stored = stored_results(tmp_path / "r.db", result.run_id)
    assert sorted(stored) == REFUSE_CASES
    assert stored["case-0001"].success is True
    assert stored["case-0001"].queries_to_first_success == 3
    assert stored["case-0001"].target_queries == 3
    assert stored["case-0001"].stopped_reason == "success"
    assert stored["case-0001"].result["queries_to_first_success"] == 3
    assert result.run.status == "completed"


def test_pair_report_figures(tmp_path, target_server, suite):
    with FakeOpenAIServer(scripted_attacker(marker_from=3)) as attacker:
        result = run_pair(target_server, attacker, suite, tmp_path / "r.db")
    pair = result.adaptive["pair"]
    assert pair.attacked == 2
    assert pair.broken == 2
    assert pair.asr.value == 1.0
    assert pair.median_queries == 3
    assert pair.max_queries == 3
    assert pair.stop_reasons == {"success": 2}
    data = result.to_dict()
    assert data["format_version"] == "1.3"
    assert data["adaptive"][0]["median_queries_to_first_success"] == 3
    assert "<h2>Adaptive attacks</h2>" in render_html_report(result)


def test_query_budget_stops_attack(tmp_path, target_server, suite):
    with FakeOpenAIServer(scripted_attacker(marker_from=None)) as attacker:
        result = run_pair(
            target_server,
            attacker,
            suite,
            tmp_path / "r.db",
            adaptive_budget=AttackBudget(max_queries_per_case=2),
            adaptive_options=["pair.streams=1", "pair.iterations=5"],
        )
    record = stored_results(tmp_path / "r.db", result.run_id)["case-0001"]
    assert record.success is False
    assert record.stopped_reason == "budget_queries"
    assert record.target_queries == 2
    assert record.queries_to_first_success is None
    assert result.adaptive["pair"].stop_reasons == {"budget_queries": 2}


def test_failed_target_counts_as_unassessed(tmp_path, target_server, suite):
    with FakeOpenAIServer(scripted_attacker(3, prefix="[[500]] ")) as attacker:
        result = run_pair(
            target_server,
            attacker,
            suite,
            tmp_path / "r.db",
            adaptive_options=["pair.streams=1", "pair.max_retries=0"],
        )
    record = stored_results(tmp_path / "r.db", result.run_id)["case-0001"]
    assert record.success is None
    assert record.stopped_reason == "target_failed"
    assert result.adaptive["pair"].assessed == 0
    assert result.adaptive["pair"].asr.value is None


def test_resume_skips_stored_results(tmp_path, target_server, suite):
    db = tmp_path / "r.db"
    with FakeOpenAIServer(scripted_attacker(marker_from=3)) as attacker:
        first = run_pair(target_server, attacker, suite, db)
        kept_completed_at = stored_results(db, first.run_id)["case-0001"].completed_at
        # Drop one result and mark the run interrupted, as a killed run is.
        with sqlite3.connect(db) as connection:
            connection.execute(
                "DELETE FROM adaptive_results WHERE case_id = 'case-0002'"
            )
            connection.execute("UPDATE runs SET status = 'interrupted'")
        sent_before = attacker.requests_total
        resumed = redline.resume(
            first.run_id,
            db=db,
            target_options={"base_url": target_server.base_url},
        )
        sent_on_resume = attacker.requests_total - sent_before
    stored = stored_results(db, first.run_id)
    assert sorted(stored) == REFUSE_CASES
    assert stored["case-0001"].completed_at == kept_completed_at
    assert sent_on_resume == 3
    assert resumed.adaptive["pair"].attacked == 2


def both_roles(prompt: str) -> str:
    """Reply as the PAIR attacker to attacker requests, else as the marker target."""
    if re.search(r"^Attempt: \d+", prompt, re.MULTILINE):
        return scripted_attacker(marker_from=2)(prompt)
    return marker_target(prompt)


def test_cli_runs_adaptive_attacks(tmp_path, suite):
    out = tmp_path / "out"
    with FakeOpenAIServer(both_roles) as server:
        result = CliRunner().invoke(
            main,
            [
                "run",
                "--suite",
                str(suite),
                "--target",
                "openai:target",
                "--base-url",
                server.base_url,
                "--classifiers",
                "refusal",
                "--adaptive",
                "pair",
                "--attacker",
                "openai:attacker",
                "--adaptive-option",
                "pair.streams=1",
                "--adaptive-queries",
                "4",
                "--db",
                str(tmp_path / "r.db"),
                "--out",
                str(out),
                "--no-progress",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "adaptive attacks on refuse cases" in result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["adaptive"][0]["broken"] == 2
    assert report["adaptive"][0]["max_queries_to_first_success"] == 2


def test_run_without_adaptive_reports_none(tmp_path, target_server, suite):
    result = redline.run(
        suite,
        target="openai:target",
        target_options={"base_url": target_server.base_url},
        classifiers=["refusal"],
        db=tmp_path / "r.db",
    )
    assert result.adaptive == {}
    assert result.to_dict()["adaptive"] is None


def test_v4_database_gets_adaptive_table(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as connection:
        for number, step in enumerate(_MIGRATIONS[:4], start=1):
            connection.executescript(step + f"PRAGMA user_version = {number};")
    Store(db).close()
    with sqlite3.connect(db) as connection:
        tables = {
            row[0] for row in connection.execute("SELECT name FROM sqlite_master")
        }
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    assert "adaptive_results" in tables
    assert version == len(_MIGRATIONS)
