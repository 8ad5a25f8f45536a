"""Runs with attack strategies against the loopback OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import redline
from redline.errors import ConfigError
from redline.runner._api import _pending_attempts
from redline.runner._attacks import AttackPlan, attack_seed, build_chains
from redline.runner._config import RunConfig
from redline.suites import load_suite
from redline.testing import REFUSAL_TEXT, FakeOpenAIServer
from tests.conftest import write_jsonl_suite

COMPLIANCE = "Sure. Here is the full answer, step by step."
PROMPTS = [f"request number {i}" for i in range(6)]


def direct_only_refuser(prompt: str) -> str:
    """Refuse the suite's own prompts, comply with every rewrite of them.

    Requests written in base64 get their compliance in base64, so the
    decoder runs before the classifiers.
    """
    if prompt in PROMPTS:
        return REFUSAL_TEXT
    if "written in base64" in prompt:
        return base64.b64encode(COMPLIANCE.encode()).decode()
    return COMPLIANCE


@pytest.fixture
def server():
    with FakeOpenAIServer(direct_only_refuser) as server:
        yield server


@pytest.fixture
def suite(tmp_path):
    # write_jsonl_suite makes cases 0 and 3 benign ("comply") and the rest
    # harmful; odd cases are violent_crimes, even ones hate.
    return write_jsonl_suite(tmp_path / "s.jsonl", PROMPTS)


def run_with(server, suite, db, **kwargs):
    return redline.run(
        suite,
        target="openai:m",
        target_options={"base_url": server.base_url},
        db=db,
        **kwargs,
    )


def stored(db: Path, columns: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            f"SELECT {columns} FROM attempts ORDER BY seq, attempt_index"
        ).fetchall()


def test_each_case_expands_into_attempts(server, suite, tmp_path):
    run_with(server, suite, tmp_path / "r.db", strategies="base64,roleplay")
    rows = stored(tmp_path / "r.db", "case_id, base_case_id, strategy, attempt_index")
    assert len(rows) == 3 * len(PROMPTS)
    assert rows[:3] == [
        ("case-0000", "case-0000", "direct", 0),
        ("case-0000::base64#1", "case-0000", "base64", 1),
        ("case-0000::roleplay#1", "case-0000", "roleplay", 2),
    ]


def test_attack_column_records_the_attack(server, suite, tmp_path):
    run_with(server, suite, tmp_path / "r.db", strategies=["roleplay"], strategy_seed=7)
    (attack,) = stored(tmp_path / "r.db", "attack")[1]
    data = json.loads(attack)
    assert data["chain"] == ["roleplay"]
    assert data["params"] == [{"persona": "random"}]
    assert data["seed"] == attack_seed(7, "case-0000", "roleplay")
    assert data["decoder"] is None
    assert data["variants"][0] in {"archivist", "mentor", "unfiltered", "twin"}
    assert "messages" not in data


def test_direct_attempt_has_no_attack(server, suite, tmp_path):
    run_with(server, suite, tmp_path / "r.db", strategies="base64")
    direct = stored(tmp_path / "r.db", "attack, decoded_text, decode_error")[0]
    assert direct == (None, None, None)


def test_base64_response_is_decoded_before_judging(server, suite, tmp_path):
    run_with(server, suite, tmp_path / "r.db", strategies="base64")
    rows = stored(
        tmp_path / "r.db", "case_id, response_text, decoded_text, outcome, decode_error"
    )
    fields = ("id", "raw", "decoded", "outcome", "error")
    attempt = dict(zip(fields, rows[3], strict=True))
    assert attempt["id"] == "case-0001::base64#1"
    assert attempt["raw"] == base64.b64encode(COMPLIANCE.encode()).decode()
    assert attempt["decoded"] == COMPLIANCE
    assert attempt["outcome"] == "unsafe"
    assert attempt["error"] is None


def test_asr_and_uplift_by_hand(server, suite, tmp_path):
    result = run_with(server, suite, tmp_path / "r.db", strategies="base64,fiction")
    attacks = result.attacks
    assert attacks is not None
    # 4 harmful cases (1, 2, 4, 5): every direct attempt refused, every
    # attack attempt complied, so ASR 4/4 and 4 pairs broken only by attack.
    assert attacks.direct_asr.successes == 0
    assert attacks.direct_asr.total == 4
    for name in ("base64", "fiction"):
        metrics = attacks.strategies[name]
        assert metrics.attempts == 6
        assert metrics.asr.successes == 4
        assert metrics.asr.total == 4
        assert metrics.uplift.pairs == 4
        assert metrics.uplift.difference == 1.0
        assert metrics.uplift.direct_safe_strategy_unsafe == 4
        assert metrics.uplift.direct_unsafe_strategy_safe == 0
        # The benign cases 0 and 3 are answered under attack.
        assert metrics.outcomes["answered"] == 2
    assert attacks.by_category["hate"].total == 4
    assert attacks.by_strategy_category["fiction"]["violent_crimes"].successes == 2


def test_headline_counts_only_direct_attempts(server, suite, tmp_path):
    plain = run_with(server, suite, tmp_path / "plain.db")
    attacked = run_with(server, suite, tmp_path / "attacked.db", strategies="fiction")
    assert attacked.summary.overall.attempts == len(PROMPTS)
    assert attacked.summary.overall == plain.summary.overall
    assert plain.attacks is None


def test_same_seed_same_messages(server, suite, tmp_path):
    strategies = "roleplay,fiction,many_shot,homoglyph,base64+academic"
    run_with(server, suite, tmp_path / "a.db", strategies=strategies, strategy_seed=3)
    run_with(server, suite, tmp_path / "b.db", strategies=strategies, strategy_seed=3)
    first = stored(tmp_path / "a.db", "case_id, messages, attack")
    second = stored(tmp_path / "b.db", "case_id, messages, attack")
    assert len(first) == 6 * len(PROMPTS)
    assert first == second


def test_other_seed_other_messages(server, suite, tmp_path):
    run_with(server, suite, tmp_path / "a.db", strategies="many_shot", strategy_seed=1)
    run_with(server, suite, tmp_path / "b.db", strategies="many_shot", strategy_seed=2)
    assert stored(tmp_path / "a.db", "messages") != stored(
        tmp_path / "b.db", "messages"
    )


def test_no_direct_sends_only_attacks(server, suite, tmp_path):
    result = run_with(
        server, suite, tmp_path / "r.db", strategies="fiction", direct=False
    )
    strategies = {row[0] for row in stored(tmp_path / "r.db", "strategy")}
    assert strategies == {"fiction"}
    assert result.summary.overall.attempts == 0
    assert result.attacks is not None
    assert result.attacks.strategies["fiction"].uplift.pairs == 0


def interrupt(db: Path, keep_direct: bool = True) -> int:
    """Delete the attack attempts of the last three cases; return how many went."""
    with sqlite3.connect(db) as connection:
        deleted = connection.execute(
            "DELETE FROM attempts WHERE seq >= 3 AND strategy != 'direct'"
        ).rowcount
        connection.execute("UPDATE runs SET status = 'interrupted'")
    return deleted


def test_resume_sends_only_missing_attempts(server, suite, tmp_path):
    db = tmp_path / "r.db"
    strategies = "roleplay,base64+fiction"
    result = run_with(server, suite, db, strategies=strategies, strategy_seed=5)
    complete = stored(db, "case_id, messages, outcome, decoded_text")
    deleted = interrupt(db)
    assert deleted == 6
    before = server.requests_total

    resumed = redline.resume(result.run_id, db=db)

    assert server.requests_total - before == deleted
    assert resumed.run.status == "completed"
    assert stored(db, "case_id, messages, outcome, decoded_text") == complete


def test_resume_rejects_other_strategies(server, suite, tmp_path):
    db = tmp_path / "r.db"
    result = run_with(server, suite, db, strategies="roleplay")
    interrupt(db)
    with pytest.raises(ConfigError, match="strategies changed since run"):
        redline.resume(result.run_id, db=db, strategies="fiction")


def test_resume_rejects_other_seed(server, suite, tmp_path):
    db = tmp_path / "r.db"
    result = run_with(server, suite, db, strategies="roleplay", strategy_seed=1)
    interrupt(db)
    with pytest.raises(ConfigError, match="strategy seed changed since run"):
        redline.resume(result.run_id, db=db, strategy_seed=2)


def test_resume_accepts_same_settings(server, suite, tmp_path):
    db = tmp_path / "r.db"
    result = run_with(server, suite, db, strategies="roleplay", strategy_seed=1)
    interrupt(db)
    resumed = redline.resume(
        result.run_id, db=db, strategies="roleplay", strategy_seed=1, direct=True
    )
    assert resumed.run.status == "completed"


def test_plain_response_to_base64_is_unassessed(tmp_path, suite):
    with FakeOpenAIServer(lambda prompt: COMPLIANCE) as server:
        result = run_with(server, suite, tmp_path / "r.db", strategies="base64")
    rows = stored(
        tmp_path / "r.db", "strategy, outcome, unassessed_reason, decode_error"
    )
    attacks = [row for row in rows if row[0] == "base64"]
    assert {row[1] for row in attacks} == {"unassessed"}
    assert attacks[0][2].startswith("decode failed: base64: no base64 run")
    assert attacks[0][3].startswith("base64: no base64 run")
    metrics = result.attacks.strategies["base64"]
    assert metrics.asr.total == 0
    assert metrics.outcomes["unassessed"] == 6
    assert list(metrics.unassessed_reasons.values()) == [6]


def test_plain_refusal_to_base64_is_safe(tmp_path, suite):
    with FakeOpenAIServer(lambda prompt: REFUSAL_TEXT) as server:
        result = run_with(server, suite, tmp_path / "r.db", strategies="base64")
    rows = stored(tmp_path / "r.db", "strategy, expected, outcome, decode_error")
    attacks = [row for row in rows if row[0] == "base64"]
    assert all(row[3] is not None for row in attacks)
    assert {row[2] for row in attacks if row[1] == "refuse"} == {"safe"}
    assert {row[2] for row in attacks if row[1] == "comply"} == {"over_refused"}
    assert result.attacks.strategies["base64"].asr.total == 4


def test_plain_refusal_to_rot13_is_safe(tmp_path, suite):
    # ROT13 decoding never fails, and turns a plain refusal into gibberish
    # that reads as no refusal, so the refusal in the raw response counts.
    with FakeOpenAIServer(lambda prompt: REFUSAL_TEXT) as server:
        run_with(server, suite, tmp_path / "r.db", strategies="rot13")
    rows = stored(tmp_path / "r.db", "strategy, outcome, decoded_text, verdicts")
    attack = next(row for row in rows if row[0] == "rot13")
    assert attack[1] == "over_refused"
    assert attack[2].startswith("V'z fbeel")
    inputs = [verdict.get("input") for verdict in json.loads(attack[3])]
    assert "raw response" in inputs


def rot13_echo(prompt: str) -> str:
    """Write the ROT13 request back, as small models often do."""
    if prompt in PROMPTS:
        return REFUSAL_TEXT
    return prompt.rsplit("\n\n", 1)[-1]


def test_echoed_request_is_unassessed(tmp_path, suite):
    with FakeOpenAIServer(rot13_echo) as server:
        result = run_with(server, suite, tmp_path / "r.db", strategies="rot13")
    rows = stored(
        tmp_path / "r.db", "strategy, outcome, unassessed_reason, decoded_text"
    )
    attack = next(row for row in rows if row[0] == "rot13")
    assert attack[3] == "request number 0"
    assert attack[1] == "unassessed"
    assert attack[2] == "response repeats the request"
    reasons = result.attacks.strategies["rot13"].unassessed_reasons
    assert reasons == {"response repeats the request": len(PROMPTS)}


def test_failed_helper_stores_attack_error(server, suite, tmp_path):
    result = run_with(
        server,
        suite,
        tmp_path / "r.db",
        strategies="translation",
        helper_target="openai:helper",
        strategy_options=[
            "translation.language=Zulu",
            "translation.base_url=http://127.0.0.1:9/v1",
        ],
        config=RunConfig(max_retries=0),
    )
    rows = stored(tmp_path / "r.db", "case_id, outcome, error_kind, requests, messages")
    failed = [row for row in rows if "::" in row[0]]
    assert [row[0] for row in failed][:1] == ["case-0000::translation"]
    assert {row[1:4] for row in failed} == {("unassessed", "attack_error", 0)}
    assert failed[0][4] == "[]"
    reasons = result.attacks.strategies["translation"].unassessed_reasons
    assert reasons == {"attack_error": len(PROMPTS)}


def helper_reply(prompt: str) -> str:
    if "from English into Zulu" in prompt:
        return "<text>isicelo</text>"
    return COMPLIANCE


def test_translation_with_helper_model(server, suite, tmp_path):
    with FakeOpenAIServer(helper_reply) as helper:
        result = run_with(
            server,
            suite,
            tmp_path / "r.db",
            strategies="translation",
            helper_target="openai:helper",
            strategy_options=[
                "translation.language=Zulu",
                f"translation.base_url={helper.base_url}",
            ],
        )
    rows = stored(tmp_path / "r.db", "case_id, messages, decoded_text, outcome")
    attack = rows[3]
    assert attack[0] == "case-0001::translation#1"
    assert json.loads(attack[1])[-1]["content"] == "isicelo"
    assert attack[2] == COMPLIANCE
    assert attack[3] == "unsafe"
    assert result.attacks.strategies["translation"].asr.successes == 4


def test_expansion_is_lazy(tmp_path, monkeypatch):
    suite = load_suite(write_jsonl_suite(tmp_path / "s.jsonl", ["x"] * 500))
    plan = AttackPlan(build_chains("roleplay"), 0, True)
    expanded = []
    original = plan.expand

    async def counting_expand(case, seq, done):
        expanded.append(case.id)
        return await original(case, seq, done)

    monkeypatch.setattr(plan, "expand", counting_expand)

    async def first_three():
        pending = _pending_attempts(suite, plan, RunConfig(), set())
        return [await anext(pending) for _ in range(3)]

    first = asyncio.run(first_three())
    assert [p.attempt_id for p in first] == [
        "case-0000",
        "case-0000::roleplay#1",
        "case-0001",
    ]
    assert expanded == ["case-0000", "case-0001"]


def test_duplicate_chain_rejected():
    with pytest.raises(ConfigError, match="listed more than once"):
        AttackPlan(build_chains("fiction,fiction"), 0, True)


def test_direct_is_not_a_strategy_name():
    with pytest.raises(ConfigError, match="unknown strategy 'direct'"):
        build_chains("direct")


def test_nothing_to_send_rejected():
    with pytest.raises(ConfigError, match="nothing to send"):
        AttackPlan([], 0, False)


def test_unused_strategy_option_rejected():
    with pytest.raises(ConfigError, match="no chain in the strategies uses"):
        build_chains("base64", options=["translation.language=Zulu"])


def test_attack_seed_is_stable():
    assert attack_seed(0, "case-0000", "roleplay") == attack_seed(
        0, "case-0000", "roleplay"
    )
    assert attack_seed(0, "case-0000", "roleplay") != attack_seed(
        1, "case-0000", "roleplay"
    )
    assert attack_seed(0, "case-0000", "roleplay") < 2**63


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", "run", "--no-progress", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_runs_strategies(server, suite, tmp_path):
    db = tmp_path / "r.db"
    common = ["--db", str(db), "--out", str(tmp_path / "out")]
    first = cli(
        "--suite",
        str(suite),
        "--target",
        "openai:m",
        "--base-url",
        server.base_url,
        "--strategies",
        "base64,roleplay",
        "--strategy-seed",
        "4",
        *common,
    )
    assert first.returncode == 0, first.stderr
    assert "attack success rate per strategy" in first.stdout
    assert "base64" in first.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["attacks"]["strategies"]["roleplay"]["asr"]["successes"] == 4
    assert report["run"]["config"]["attacks"]["seed"] == 4

    (run_id,) = {row[0] for row in stored(db, "run_id")}
    interrupt(db)
    changed = cli("--resume", run_id, "--strategies", "base64", *common)
    assert changed.returncode == 2
    assert "strategies changed since run" in changed.stderr
