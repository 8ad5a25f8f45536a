"""Responses of the wrong type or range are cleaned or rejected, never crash a run."""

from __future__ import annotations

import json

import pytest

import redline
from redline.errors import ConfigError, TargetError
from redline.targets import GenerationParams, TargetResponse, create_target
from redline.targets._base import sanitize_response
from redline.targets._openai import _parse_completion
from tests.conftest import write_jsonl_suite


def completion(**overrides) -> bytes:
    body = {
        "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    }
    body.update(overrides)
    return json.dumps(body).encode()


@pytest.mark.parametrize("usage", [[1, 2], "lots", 7])
def test_usage_of_wrong_shape_is_invalid(usage):
    with pytest.raises(TargetError) as info:
        _parse_completion(completion(usage=usage), 0.1)
    assert info.value.kind == "invalid_response"


def test_lone_surrogate_text_replaced():
    response = sanitize_response(TargetResponse(text="Sure \ud800 step"))
    assert response.text.encode("utf-8")
    assert "\ufffd" in response.text


@pytest.mark.parametrize("value", [10**30, -7, True, 1.5, "12"])
def test_impossible_token_counts_dropped(value):
    assert (
        sanitize_response(TargetResponse(text="x", prompt_tokens=value)).prompt_tokens
        is None
    )


def test_non_string_finish_reason_dropped():
    response = sanitize_response(TargetResponse(text="x", finish_reason={"why": "x"}))
    assert response.finish_reason is None


def test_hostile_python_target_run_completes(tmp_path):
    module = tmp_path / "hostile.py"
    module.write_text(
        "def reply(messages):\n"
        "    return {'text': 'Sure \\udc80 step', 'finish_reason': ['x'],\n"
        "            'prompt_tokens': 10**30, 'completion_tokens': -3}\n"
    )
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a", "b"])
    result = redline.run(suite, target=f"python:{module}:reply", db=tmp_path / "r.db")
    attempts = list(result.attempts())
    assert result.run.status == "completed"
    assert len(attempts) == 2
    assert attempts[0].prompt_tokens is None


@pytest.mark.parametrize("url", ["not a url", "http://[::1", "ftp://host/v1"])
def test_invalid_base_url_rejected(url):
    with pytest.raises(ConfigError, match="invalid base URL"):
        create_target("openai:m", base_url=url)


@pytest.mark.parametrize(
    "options",
    [
        {"max_tokens": -5},
        {"temperature": float("nan")},
        {"temperature": -1.0},
        {"max_tokens": True},
        {"seed": "1"},
    ],
)
def test_generation_params_checked(options):
    with pytest.raises(ConfigError):
        GenerationParams(**options)


@pytest.mark.parametrize(
    "options",
    [
        {"timeout_s": float("nan")},
        {"timeout_s": 0},
        {"timeout_s": "5"},
        {"concurrency": 100_000_000},
        {"classify_wait_s": -1.0},
        {"limit": 0},
    ],
)
def test_run_config_checked(options):
    with pytest.raises(ConfigError):
        redline.RunConfig(**options)
