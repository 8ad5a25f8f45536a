from __future__ import annotations

import time

import pytest

import redline
from redline.errors import ConfigError
from redline.targets import create_target, parse_retry_after
from tests.conftest import write_jsonl_suite

FAST_RETRIES = redline.RunConfig(timeout_s=1.0, max_retries=2, backoff_base_s=0.01)


def run_prompts(tmp_path, server, prompts, config=FAST_RETRIES):
    suite = write_jsonl_suite(tmp_path / "faults.jsonl", prompts)
    return redline.run(
        suite,
        target="openai:fake-model",
        target_options={"base_url": server.base_url},
        config=config,
        db=tmp_path / "r.db",
    )


def attempts_by_prompt(result):
    return {a.messages[-1]["content"]: a for a in result.attempts()}


def test_faults_end_unassessed_and_run_completes(tmp_path, fake_server):
    prompts = [
        "plain question",
        "[[500]] x",
        "[[malformed]] x",
        "[[hang]] x",
        "[[empty]] x",
    ]
    result = run_prompts(tmp_path, fake_server, prompts)
    attempts = attempts_by_prompt(result)
    assert result.run.status == "completed"
    assert attempts["plain question"].outcome != "unassessed"
    assert attempts["[[500]] x"].error_kind == "http_500"
    assert attempts["[[malformed]] x"].error_kind == "invalid_response"
    assert attempts["[[hang]] x"].error_kind == "timeout"
    assert attempts["[[empty]] x"].unassessed_reason == "empty output"
    assert result.summary.overall.outcomes["unassessed"] == 4


def test_unassessed_excluded_from_pass_rate(tmp_path, fake_server):
    result = run_prompts(tmp_path, fake_server, ["[[500]] a", "[[500]] b", "[[500]] c"])
    assert result.summary.overall.safety_pass_rate.total == 0
    assert result.summary.overall.unassessed_rate.value == 1.0


def test_429_is_retried_then_answered(tmp_path, fake_server):
    attempt = attempts_by_prompt(run_prompts(tmp_path, fake_server, ["[[429]] q"]))[
        "[[429]] q"
    ]
    assert attempt.requests == 2
    assert attempt.error is None


def test_503_once_is_retried(tmp_path, fake_server):
    attempt = attempts_by_prompt(run_prompts(tmp_path, fake_server, ["[[503-once]] q"]))
    assert attempt["[[503-once]] q"].requests == 2


def test_500_gives_up_after_retry_budget(tmp_path, fake_server):
    attempt = attempts_by_prompt(run_prompts(tmp_path, fake_server, ["[[500]] q"]))[
        "[[500]] q"
    ]
    assert attempt.requests == 3
    assert fake_server.request_counts["[[500]] q"] == 3


def test_malformed_json_is_not_retried(tmp_path, fake_server):
    run_prompts(tmp_path, fake_server, ["[[malformed]] q"])
    assert fake_server.request_counts["[[malformed]] q"] == 1


def test_usage_and_latency_recorded(tmp_path, fake_server):
    attempt = attempts_by_prompt(run_prompts(tmp_path, fake_server, ["tell me"]))[
        "tell me"
    ]
    assert attempt.prompt_tokens == 2
    assert attempt.completion_tokens is not None
    assert attempt.latency_s is not None and attempt.latency_s > 0
    assert attempt.finish_reason == "stop"


def test_connection_refused_is_unassessed(tmp_path):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["hello"])
    result = redline.run(
        suite,
        target="openai:m",
        target_options={"base_url": "http://127.0.0.1:9/v1"},
        config=redline.RunConfig(max_retries=1, backoff_base_s=0.01),
        db=tmp_path / "r.db",
    )
    assert result.summary.unassessed_reasons == {"connection_error": 1}


def test_api_key_not_stored(tmp_path, fake_server):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["hello"])
    redline.run(
        suite,
        target="openai:m",
        target_options={"base_url": fake_server.base_url, "api_key": "sk-secret-123"},
        db=tmp_path / "r.db",
    )
    assert b"sk-secret-123" not in (tmp_path / "r.db").read_bytes()


def test_spec_without_model_rejected():
    with pytest.raises(ConfigError, match="openai:MODEL"):
        create_target("openai:")


def test_unknown_scheme_lists_schemes():
    with pytest.raises(ConfigError, match="gguf, local, openai, python"):
        create_target("ollama:llama3")


def test_retry_after_seconds():
    assert parse_retry_after("3") == 3.0


def test_retry_after_http_date():
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < (parse_retry_after(date) or 0) <= 30


def test_retry_after_garbage_is_none():
    assert parse_retry_after("soon") is None
