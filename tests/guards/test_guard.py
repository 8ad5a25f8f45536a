"""Guard around real targets: the loopback OpenAI server and python functions."""

from __future__ import annotations

import asyncio

import pytest

from redline.classifiers import RefusalDetector
from redline.errors import ConfigError
from redline.guards import (
    BLOCKED_FINISH_REASON,
    DEFAULT_SAFE_REPLY,
    Guard,
    GuardFilter,
    redact_pii,
)
from redline.targets import GenerationParams, TargetResponse, create_target
from redline.testing import FakeOpenAIServer
from tests.guards.functions import ScoreFromText, spec

TOXIC = "You are a fucking idiot and I hate you."
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"


def send(guard: Guard, prompt: str, *history: dict[str, str]) -> TargetResponse:
    messages = [*history, {"role": "user", "content": prompt}]

    async def go() -> TargetResponse:
        await guard.start()
        try:
            return await guard.generate(messages, GenerationParams())
        finally:
            await guard.close()

    return asyncio.run(go())


def openai_target(server: FakeOpenAIServer):
    return create_target("openai:m", base_url=server.base_url)


def only_decision(response: TargetResponse) -> dict:
    assert response.guard is not None
    assert len(response.guard) == 1
    return response.guard[0]


def test_input_block_sends_nothing(fake_server):
    guard = Guard(
        openai_target(fake_server),
        input_filters=[{"classifier": "toxicity", "action": "block"}],
    )
    response = send(guard, TOXIC)
    decision = only_decision(response)
    assert fake_server.requests_total == 0
    assert response.text == DEFAULT_SAFE_REPLY
    assert response.finish_reason == BLOCKED_FINISH_REASON
    assert decision["classifier"] == "guard:input:toxicity"
    assert decision["label"] == "blocked"
    assert decision["flagged"] is True
    assert decision["score"] > 0.9
    assert decision["latency_s"] >= 0


def test_input_block_passes_benign_request(fake_server):
    guard = Guard(
        openai_target(fake_server),
        input_filters=[{"classifier": "toxicity", "action": "block"}],
    )
    response = send(guard, "What is the capital of France?")
    assert fake_server.requests_total == 1
    assert response.text != DEFAULT_SAFE_REPLY
    assert only_decision(response)["label"] == "passed"


def test_output_block_replaces_response():
    with FakeOpenAIServer(responder=lambda prompt: TOXIC) as server:
        guard = Guard(
            openai_target(server),
            output_filters=[GuardFilter("toxicity", action="block")],
            safe_reply="I won't repeat that, sorry.",
        )
        response = send(guard, "Tell me what you think of me.")
        assert server.requests_total == 1
    decision = only_decision(response)
    assert response.text == "I won't repeat that, sorry."
    assert response.finish_reason == BLOCKED_FINISH_REASON
    assert decision["classifier"] == "guard:output:toxicity"
    assert decision["label"] == "blocked"


def test_redact_input_before_sending(fake_server):
    guard = Guard(
        openai_target(fake_server),
        input_filters=[{"classifier": "pii", "action": "redact"}],
    )
    response = send(guard, f"Email {EMAIL} and charge card {CARD} today.")
    (received,) = fake_server.request_counts
    decision = only_decision(response)
    assert received == (
        "Email [REDACTED:email] and charge card [REDACTED:payment_card] today."
    )
    assert EMAIL not in received
    assert decision["label"] == "redacted"
    assert decision["redactions"] == 2


def test_redact_all_user_messages(fake_server):
    guard = Guard(
        openai_target(fake_server),
        input_filters=[{"classifier": "pii", "action": "redact"}],
        input_scope="all",
    )
    history = [
        {"role": "user", "content": f"My address is {EMAIL}."},
        {"role": "assistant", "content": "Noted."},
    ]
    original = {"role": "user", "content": f"My address is {EMAIL}."}
    response = send(guard, "Write to me.", *history)
    decision = only_decision(response)
    assert decision["redactions"] == 1
    assert history[0] == original


def test_redact_output():
    reply = f"Contact the owner at {EMAIL} for details."
    with FakeOpenAIServer(responder=lambda prompt: reply) as server:
        guard = Guard(
            openai_target(server),
            output_filters=[{"classifier": "pii", "action": "redact"}],
        )
        response = send(guard, "Who owns this?")
    assert response.text == "Contact the owner at [REDACTED:email] for details."
    assert only_decision(response)["classifier"] == "guard:output:pii"


def test_flag_only_passes_output():
    with FakeOpenAIServer(responder=lambda prompt: TOXIC) as server:
        guard = Guard(
            openai_target(server),
            output_filters=[{"classifier": "toxicity", "action": "flag"}],
        )
        response = send(guard, "Insult me.")
    decision = only_decision(response)
    assert response.text == TOXIC
    assert response.finish_reason == "stop"
    assert decision["label"] == "flagged"
    assert decision["flagged"] is True


def test_classifier_error_fails_closed(fake_server):
    guard = Guard(
        openai_target(fake_server),
        input_filters=[GuardFilter(ScoreFromText(), action="flag")],
    )
    response = send(guard, "boom")
    decision = only_decision(response)
    assert fake_server.requests_total == 0
    assert response.text == DEFAULT_SAFE_REPLY
    assert decision["label"] == "blocked"
    assert "classifier failure requested" in decision["error"]


def test_classifier_error_allowed(fake_server):
    guard = Guard(
        openai_target(fake_server),
        input_filters=[GuardFilter(ScoreFromText(), action="block")],
        on_error="allow",
    )
    response = send(guard, "boom")
    decision = only_decision(response)
    assert fake_server.requests_total == 1
    assert decision["label"] == "passed"
    assert "classifier failure requested" in decision["error"]


def test_threshold_overrides_flagged():
    target = create_target(spec("echo"))
    below_default = "score=0.4"
    default = Guard(target, input_filters=[GuardFilter(ScoreFromText())])
    lowered = Guard(target, input_filters=[GuardFilter(ScoreFromText(), threshold=0.3)])
    assert only_decision(send(default, below_default))["label"] == "passed"
    assert only_decision(send(lowered, below_default))["label"] == "blocked"


def test_block_ends_stage_and_skips_output():
    first, second = ScoreFromText(), ScoreFromText()
    guard = Guard(
        create_target(spec("echo")),
        input_filters=[GuardFilter(first), GuardFilter(second)],
        output_filters=[GuardFilter("toxicity")],
    )
    response = send(guard, "score=0.9")
    assert len(response.guard) == 1
    assert second.calls == 0


def test_output_filter_judges_redacted_prompt():
    guard = Guard(
        create_target(spec("echo")),
        input_filters=[{"classifier": "pii", "action": "redact"}],
        output_filters=[{"classifier": "pii", "action": "flag"}],
    )
    response = send(guard, f"Mail {EMAIL}")
    assert response.text == "You wrote: Mail [REDACTED:email]"
    assert [d["label"] for d in response.guard] == ["redacted", "passed"]


def test_python_target_response_keeps_tokens():
    guard = Guard(
        create_target(spec("by_marker")),
        output_filters=[{"classifier": "refusal", "action": "flag"}],
    )
    response = send(guard, "refuse-me")
    assert only_decision(response)["label"] == "flagged"
    assert response.latency_s is not None


def test_default_safe_reply_is_refusal():
    verdict = RefusalDetector().classify_text(DEFAULT_SAFE_REPLY)
    assert verdict.label == "refusal"


def test_identity_wraps_target(fake_server):
    target = openai_target(fake_server)
    guard = Guard(target, input_filters=[{"classifier": "pii", "action": "redact"}])
    identity = guard.identity()
    assert identity["target"] == target.identity()
    assert identity["guard"]["fingerprint"] == guard.config.fingerprint
    assert identity["guard"]["classifiers"][0]["name"] == "pii"


def test_default_concurrency_follows_target(fake_server):
    target = openai_target(fake_server)
    guard = Guard(target, input_filters=[{"classifier": "pii"}])
    assert guard.default_concurrency == target.default_concurrency


def test_config_and_filters_together_rejected(fake_server):
    target = openai_target(fake_server)
    guard = Guard(target, input_filters=[{"classifier": "pii"}])
    with pytest.raises(ConfigError, match="both config and filters"):
        Guard(target, [{"classifier": "pii"}], config=guard.config)


def test_redact_pii_replaces_spans():
    text, findings, top = redact_pii(f"mail {EMAIL} now")
    assert text == "mail [REDACTED:email] now"
    assert [f.category for f in findings] == ["email"]
    assert top == 0.9


def test_redact_pii_keeps_weak_findings():
    text, findings, top = redact_pii("ping 10.0.0.1 please")
    assert text == "ping 10.0.0.1 please"
    assert findings == []
    assert 0 < top < 0.5
