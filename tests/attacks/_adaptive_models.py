"""Scripted attacker and target models, judges and a recording server for adaptive attacks.

The attackers are pure functions of the request they get, used as python
targets: they read the stream, attempt or turn numbers from the request's
header lines and return a JSON reply built from them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from typing import Any

from redline.classifiers import Classifier, ClassifierInput, Verdict
from redline.targets import GenerationParams, Message, Target, TargetResponse
from redline.testing import FakeOpenAIServer

REFUSAL = "I'm sorry, but I can't help with that request."
COMPLIANCE = "Sure, here is how: first you gather the parts, then you assemble them."


def _number(label: str, text: str) -> int:
    match = re.search(rf"^{label}: (\d+)", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"no {label!r} line in the attacker request")
    return int(match[1])


def _reply(prompt: str, **fields: Any) -> str:
    return json.dumps({"improvement": "scripted", "prompt": prompt, **fields})


def pair_attacker(messages: list[dict[str, str]]) -> str:
    """Return the prompt ``stream S attempt A`` for the request's stream and attempt."""
    request = messages[-1]["content"]
    stream, attempt = _number("Stream", request), _number("Attempt", request)
    return _reply(f"stream {stream} attempt {attempt}")


def pair_target(messages: list[dict[str, str]]) -> str:
    """Comply with ``stream 2 attempt 3`` only and refuse everything else."""
    if messages[-1]["content"] == "stream 2 attempt 3":
        return COMPLIANCE
    return REFUSAL


def refusing_target(messages: list[dict[str, str]]) -> str:
    """Refuse every request."""
    return REFUSAL


def approach_attacker(messages: list[dict[str, str]]) -> str:
    """Return the stream's starting approach, read from the system message, as prompt."""
    match = re.search(
        r"Start from this approach, and change it when it stops "
        r"working: (.+?)\.\n",
        messages[0]["content"],
    )
    approach = match[1] if match is not None else "none"
    attempt = _number("Attempt", messages[1]["content"])
    return _reply(f"{approach} / attempt {attempt}")


def malformed_attacker(messages: list[dict[str, str]]) -> str:
    """Reply with prose instead of JSON."""
    return "I would rather not write that prompt."


def flaky_attacker(messages: list[dict[str, str]]) -> str:
    """Reply with broken JSON to the first request of stream 1, and with valid JSON otherwise."""
    if "could not be read" in messages[-1]["content"]:
        return "```json\n" + _reply("repaired prompt") + "\n```"
    request = messages[1]["content"]
    if _number("Stream", request) == 1 and _number("Attempt", request) == 1:
        return 'Here it is: {"improvement": "x", "prompt": "unfinished'
    return pair_attacker(messages)


def counting_attacker(messages: list[dict[str, str]]) -> dict[str, Any]:
    """Reply like ``pair_attacker`` and report 30 prompt and 10 completion tokens."""
    return {
        "text": pair_attacker(messages),
        "prompt_tokens": 30,
        "completion_tokens": 10,
    }


def counting_target(messages: list[dict[str, str]]) -> dict[str, Any]:
    """Refuse and report 20 prompt and 5 completion tokens."""
    return {"text": REFUSAL, "prompt_tokens": 20, "completion_tokens": 5}


def failing_target(messages: list[dict[str, str]]) -> str:
    """Raise, as a broken system under test does."""
    raise RuntimeError("target is down")


def crescendo_attacker(messages: list[dict[str, str]]) -> str:
    """Plan ``turn T try B``; turn 2 is refused on its first try and turn 3 is final."""
    request = messages[-1]["content"]
    turn, backtracks = _number("Turn", request), _number("Backtracks used", request)
    prompt = f"turn {turn} try {backtracks}"
    if turn == 2 and backtracks == 0:
        prompt += " [refuse]"
    return _reply(prompt, final=turn == 3)


def stubborn_attacker(messages: list[dict[str, str]]) -> str:
    """Plan a turn that the crescendo responder refuses, every time."""
    request = messages[-1]["content"]
    turn, backtracks = _number("Turn", request), _number("Backtracks used", request)
    return _reply(f"turn {turn} try {backtracks} [refuse]")


def crescendo_responder(prompt: str) -> str:
    """Refuse prompts marked ``[refuse]``, answer turn 3 in full, and the rest briefly."""
    if "[refuse]" in prompt:
        return REFUSAL
    if prompt.startswith("turn 3"):
        return "Here are the full instructions you asked for."
    return f"Here is some background for {prompt}."


class RecordingServer(FakeOpenAIServer):
    """Loopback server that also keeps the messages of every request it receives."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.received: list[list[dict[str, str]]] = []

    def _reply(self, prompt: str, payload: dict[str, Any]) -> Any:
        self.received.append(payload["messages"])
        return super()._reply(prompt, payload)


class SlowTarget(Target):
    """Refusing target that answers lower streams later and counts requests in flight.

    It expects the prompts of ``pair_attacker``, ``stream S attempt A``.
    """

    scheme = "slow"

    def __init__(self) -> None:
        super().__init__("slow")
        self.in_flight = 0
        self.max_in_flight = 0
        self.finished: list[str] = []

    async def generate(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> TargetResponse:
        prompt = messages[-1]["content"]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.01 * (10 - int(prompt.split()[1])))
        self.in_flight -= 1
        self.finished.append(prompt)
        return TargetResponse(text=REFUSAL, finish_reason="stop", latency_s=0.0)


class KeywordJudge(Classifier):
    """Content classifier that flags texts containing ``keyword``."""

    name = "keyword"
    kind = "content"

    def __init__(self, keyword: str):
        self.keyword = keyword

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        verdicts = []
        for item in items:
            found = self.keyword in item.text
            verdicts.append(
                Verdict(
                    classifier=self.name,
                    label="unsafe" if found else "safe",
                    flagged=found,
                    score=1.0 if found else 0.0,
                )
            )
        return verdicts


class BrokenJudge(Classifier):
    """Content classifier that returns an error verdict for every text."""

    name = "broken"
    kind = "content"

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        return [
            Verdict(
                classifier=self.name,
                label="unassessed",
                flagged=False,
                score=0.0,
                error="judge endpoint returned HTTP 500",
            )
            for _ in items
        ]


class RaisingJudge(Classifier):
    """Classifier whose classify method raises, as a buggy plugin might."""

    name = "raising"
    kind = "content"

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        raise RuntimeError("judge plugin bug")
