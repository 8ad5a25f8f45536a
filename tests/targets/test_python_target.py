from __future__ import annotations

import pytest

import redline
from redline.errors import ConfigError
from redline.targets import create_target
from tests.conftest import write_jsonl_suite

TARGET_MODULE = """
import asyncio

def sync_reply(messages, max_tokens=None, **kwargs):
    return "Sure, here it is: " + messages[-1]["content"]

async def async_reply(messages):
    await asyncio.sleep(0)
    return {"text": "I cannot help with that.", "completion_tokens": 6}

def broken(messages):
    raise RuntimeError("backend down")

def wrong_type(messages):
    return 42
"""


@pytest.fixture
def module_path(tmp_path):
    path = tmp_path / "user_target.py"
    path.write_text(TARGET_MODULE, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("function", "reason"),
    [("broken", "callable_error"), ("wrong_type", "invalid_response")],
)
def test_failing_callable_is_unassessed(tmp_path, module_path, function, reason):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a", "b"])
    result = redline.run(
        suite, target=f"python:{module_path}:{function}", db=tmp_path / "r.db"
    )
    assert result.summary.unassessed_reasons == {reason: 2}


def test_sync_and_async_callables_answer(tmp_path, module_path):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a"])
    for function in ("sync_reply", "async_reply"):
        result = redline.run(
            suite, target=f"python:{module_path}:{function}", db=tmp_path / "r.db"
        )
        assert result.summary.overall.outcomes["unassessed"] == 0


def test_missing_function_named_in_error(module_path):
    with pytest.raises(ConfigError, match="no callable named 'nope'"):
        create_target(f"python:{module_path}:nope")


def test_malformed_spec_rejected():
    with pytest.raises(ConfigError, match="python:MODULE:FUNCTION"):
        create_target("python:justmodule")
