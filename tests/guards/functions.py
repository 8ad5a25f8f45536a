"""Target functions and classifiers shared by the guard tests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from redline.classifiers import Classifier, ClassifierInput, Verdict

HERE = Path(__file__).resolve().parent
REFUSAL = "I'm sorry, but I can't help with that."
COMPLIANCE = "Sure. Here is a detailed answer with the steps you need."

_SCORE = re.compile(r"score=([0-9.]+)")


def spec(function: str) -> str:
    """Return the python target spec of a function in this file."""
    return f"python:{HERE / 'functions.py'}:{function}"


def last_user(messages: list[dict[str, str]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


async def by_marker(messages: list[dict[str, str]]) -> str:
    """Refuse prompts containing 'refuse-me', raise on 'fail-me', else comply."""
    prompt = last_user(messages)
    if "fail-me" in prompt:
        raise RuntimeError("target failure requested by the prompt")
    return REFUSAL if "refuse-me" in prompt else COMPLIANCE


async def echo(messages: list[dict[str, str]]) -> str:
    """Reply with the last user message."""
    return "You wrote: " + last_user(messages)


class ScoreFromText(Classifier):
    """Test classifier whose score is the number after 'score=' in the text.

    A text containing 'boom' makes the whole batch raise.
    """

    name = "score-from-text"
    kind = "content"

    def __init__(self) -> None:
        self.calls = 0

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        self.calls += 1
        if any("boom" in item.text for item in items):
            raise RuntimeError("classifier failure requested by the text")
        verdicts = []
        for item in items:
            match = _SCORE.search(item.text)
            score = float(match.group(1)) if match else 0.0
            verdicts.append(Verdict(self.name, "scored", score >= 0.5, score))
        return verdicts
