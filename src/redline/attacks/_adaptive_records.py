"""Budgets and per-turn records of adaptive attacks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from redline.targets import Message, TargetResponse

ADAPTIVE_FORMAT_VERSION = 1
"""Version of the layout of :meth:`AdaptiveResult.to_dict`."""

CHARS_PER_TOKEN = 4
"""Characters counted as one token when a model reports no token counts.

About four characters per token is a common rule of thumb for English text
with GPT-style tokenizers. Counts from it are marked as estimates.
"""

STOP_REASONS: tuple[str, ...] = (
    "success",
    "budget_tokens",
    "budget_queries",
    "budget_attacker_queries",
    "iterations_exhausted",
    "turns_exhausted",
    "backtracks_exhausted",
    "attacker_failed",
    "target_failed",
    "stopped_after_success",
)
"""Reasons a stream stops. The attack's reason is the first of its streams'
reasons in this order, so a success or a budget outranks a stream that ran
out of steps."""

OUTCOMES: tuple[str, ...] = (
    "success",
    "failure",
    "unassessed",
    "not_judged",
    "not_sent",
)
"""Outcomes of one turn. ``success`` and ``failure`` come from the judge.
A turn is ``unassessed`` when the judge returned an error verdict or the
target request failed. ``not_judged`` marks a Crescendo turn that a refusal
judge does not score, because it does not ask for the goal. ``not_sent``
marks a turn whose request never reached the target."""


class AttackBudget(BaseModel):
    """Hard limits of an adaptive attack; None leaves a limit off.

    An attack checks each limit before a request and stops, with the
    matching ``budget_*`` reason, when the request could exceed it.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True
    )

    max_queries_per_case: int | None = Field(default=None, ge=1)
    """Requests to the target per case. Transport retries of one request
    (HTTP 429 or 5xx, timeouts) are recorded in ``attempts`` and not counted."""
    max_tokens_per_run: int | None = Field(default=None, ge=1)
    """Prompt plus completion tokens of attacker and target together, over
    all cases that share one :class:`TokenBudget`."""
    max_attacker_queries: int | None = Field(default=None, ge=1)
    """Requests to the attacker model per case, retries after unreadable
    replies included."""

    def token_budget(self) -> TokenBudget:
        """Return a new token budget with this budget's token limit."""
        return TokenBudget(self.max_tokens_per_run)

    def to_dict(self) -> dict[str, Any]:
        """Return the limits as JSON-ready data."""
        return self.model_dump(mode="json")


class TokenBudget:
    """Tokens that the cases of one run may spend, shared across those cases.

    Before a request, an attack reserves its estimated prompt tokens plus the
    request's ``max_tokens``. The reservation is replaced by the counted
    tokens once the response arrives, and released when no request is sent.
    A request is refused when spent plus reserved tokens would pass the limit.

    NOTE: the limit is exact when targets count no more prompt tokens
    than the chars/4 estimate and no more completion tokens than
    ``max_tokens``. A target that counts more can pass the limit by the
    difference on its last request.

    Args:
        limit: Maximum tokens, or None for no limit.
    """

    def __init__(self, limit: int | None):
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ValueError(f"token limit must be an integer >= 1, got {limit!r}")
        self.limit = limit
        self.spent = 0
        self.reserved = 0

    def reserve(self, tokens: int) -> bool:
        """Reserve ``tokens`` for a request; return False when they do not fit."""
        if self.limit is not None and self.spent + self.reserved + tokens > self.limit:
            return False
        self.reserved += tokens
        return True

    def settle(self, reserved: int, used: int) -> None:
        """Replace a reservation of ``reserved`` tokens with ``used`` spent tokens."""
        self.reserved -= reserved
        self.spent += used

    def release(self, reserved: int) -> None:
        """Drop a reservation whose request was not sent."""
        self.reserved -= reserved

    def to_dict(self) -> dict[str, Any]:
        """Return the limit and the tokens spent as JSON-ready data."""
        return {"limit": self.limit, "spent": self.spent}

    def __repr__(self) -> str:
        return f"TokenBudget(limit={self.limit!r}, spent={self.spent})"


def estimate_tokens(text: str) -> int:
    """Return the token estimate for ``text``: its length over :data:`CHARS_PER_TOKEN`, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_message_tokens(messages: Sequence[Message]) -> int:
    """Return the token estimate for the contents of ``messages`` together."""
    return estimate_tokens("".join(message["content"] for message in messages))


@dataclass(slots=True)
class ModelCall:
    """One request to the attacker or the target and its response.

    Attributes:
        messages: Exact chat messages sent.
        text: Response text; empty when the request failed.
        error: Why no response came back, or None.
        error_kind: Short machine-readable reason, such as ``http_500``.
        finish_reason: Reason the model gave for stopping, when given.
        latency_s: Wall time of the successful request in seconds.
        prompt_tokens: Prompt tokens, as reported or estimated; None when the
            request failed.
        completion_tokens: Completion tokens, as reported or estimated; None
            when the request failed.
        tokens_estimated: Whether a token count above is an estimate
            (:data:`CHARS_PER_TOKEN`) because the model reported none.
        attempts: Requests sent, transport retries included.
    """

    messages: tuple[Mapping[str, str], ...]
    text: str = ""
    error: str | None = None
    error_kind: str | None = None
    finish_reason: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    attempts: int = 0

    @classmethod
    def from_response(
        cls, messages: Sequence[Message], response: TargetResponse
    ) -> ModelCall:
        """Record ``response`` to ``messages``, estimating missing token counts."""
        call = cls(
            messages=tuple(
                {"role": m["role"], "content": m["content"]} for m in messages
            ),
            text=response.text,
            error=response.error,
            error_kind=response.error_kind,
            finish_reason=response.finish_reason,
            latency_s=response.latency_s,
            attempts=response.attempts,
        )
        if response.error is None:
            call.prompt_tokens = response.prompt_tokens
            call.completion_tokens = response.completion_tokens
            if call.prompt_tokens is None:
                call.prompt_tokens = estimate_message_tokens(messages)
                call.tokens_estimated = True
            if call.completion_tokens is None:
                call.completion_tokens = estimate_tokens(response.text)
                call.tokens_estimated = True
        return call

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens; 0 when the request failed."""
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    def to_dict(self) -> dict[str, Any]:
        """Return the call as JSON-ready data."""
        return {
            "messages": [dict(m) for m in self.messages],
            "text": self.text,
            "error": self.error,
            "error_kind": self.error_kind,
            "finish_reason": self.finish_reason,
            "latency_s": self.latency_s,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_estimated": self.tokens_estimated,
            "attempts": self.attempts,
        }


@dataclass(slots=True)
class AttackerCall:
    """One request to the attacker model and what was read from its reply.

    Attributes:
        call: The request and the raw reply.
        parsed: Fields read from the reply, or None when it was unreadable.
        parse_error: Why the reply could not be read, or None.
    """

    call: ModelCall
    parsed: dict[str, Any] | None = None
    parse_error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the reply gave a usable prompt."""
        return self.parsed is not None

    def to_dict(self) -> dict[str, Any]:
        """Return the call as JSON-ready data."""
        return {
            "request": [dict(m) for m in self.call.messages],
            "reply": self.call.text,
            "parsed": self.parsed,
            "parse_error": self.parse_error,
            **{
                key: value
                for key, value in self.call.to_dict().items()
                if key not in ("messages", "text")
            },
        }


@dataclass(slots=True)
class AdaptiveTurn:
    """One step of a stream: the attacker's requests, the target query and the verdict.

    Attributes:
        stream: Stream number, from 1.
        iteration: Step number within the stream, from 1, backtracked
            steps included.
        attacker_calls: Every attacker request of this step, in order.
        prompt: Attack prompt read from the attacker, or None when it failed.
        query_index: Position of this turn's target query among all target
            queries of the case, from 1, or None when none was sent.
        target_call: The request to the target, or None when none was sent.
        verdict: The judge's verdict as :meth:`Verdict.to_dict` data, or None.
        outcome: One of :data:`OUTCOMES`.
        details: Fields of one attack, such as PAIR's ``improvement`` or
            Crescendo's ``refusal`` verdict and ``backtracked`` flag.
    """

    stream: int
    iteration: int
    attacker_calls: list[AttackerCall] = field(default_factory=list)
    prompt: str | None = None
    query_index: int | None = None
    target_call: ModelCall | None = None
    verdict: dict[str, Any] | None = None
    outcome: str = "not_sent"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def reply(self) -> str | None:
        """Target's reply text, or None when no request was sent."""
        return self.target_call.text if self.target_call is not None else None

    def to_dict(self) -> dict[str, Any]:
        """Return the turn as JSON-ready data."""
        target = self.target_call
        return {
            "stream": self.stream,
            "iteration": self.iteration,
            "query_index": self.query_index,
            "attacker_calls": [call.to_dict() for call in self.attacker_calls],
            "prompt": self.prompt,
            "target": target.to_dict() if target is not None else None,
            "verdict": self.verdict,
            "outcome": self.outcome,
            "details": dict(self.details),
        }


@dataclass(slots=True)
class AdaptiveStream:
    """One independent line of attack and its turns.

    Attributes:
        index: Stream number, from 1.
        seed: Seed of this stream's random draws and attacker sampling.
        turns: Steps in order.
        stopped_reason: One of :data:`STOP_REASONS`, or None while running.
        details: Fields of one attack, such as the approach a PAIR stream
            started from or Crescendo's backtrack count.
    """

    index: int
    seed: int
    turns: list[AdaptiveTurn] = field(default_factory=list)
    stopped_reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """Whether a turn of this stream succeeded."""
        return any(turn.outcome == "success" for turn in self.turns)

    def to_dict(self) -> dict[str, Any]:
        """Return the stream as JSON-ready data."""
        return {
            "index": self.index,
            "seed": self.seed,
            "stopped_reason": self.stopped_reason,
            "success": self.success,
            "details": dict(self.details),
            "turns": [turn.to_dict() for turn in self.turns],
        }


@dataclass(slots=True)
class AdaptiveResult:
    """Record of one adaptive attack on one case, with every turn.

    Attributes:
        attack: Registry name of the attack, such as ``pair``.
        params: The attack's parameters as plain data.
        case_id: Id of the case, or None when a plain goal was given.
        goal: The request the attack tries to get the target to carry out.
        seed: Seed of the attack's random draws.
        budget: The limits as :meth:`AttackBudget.to_dict` data.
        streams: Every stream in order.
        target: Identity of the target.
        attacker: Identity of the attacker model.
        judge: Identity of the judge classifier.
        target_queries: Requests sent to the target.
        attacker_queries: Requests sent to the attacker.
        stopped_reason: One of :data:`STOP_REASONS`, the first in that order
            among the streams' reasons.
    """

    attack: str
    params: dict[str, Any]
    case_id: str | None
    goal: str
    seed: int
    budget: dict[str, Any]
    streams: list[AdaptiveStream]
    target: dict[str, Any]
    attacker: dict[str, Any]
    judge: dict[str, Any]
    target_queries: int = 0
    attacker_queries: int = 0
    stopped_reason: str = ""

    @property
    def turns(self) -> list[AdaptiveTurn]:
        """Every turn of every stream, round by round and in stream order.

        All streams step once per round, so this is also the order of the
        target queries.
        """
        every = [turn for stream in self.streams for turn in stream.turns]
        return sorted(every, key=lambda turn: (turn.iteration, turn.stream))

    @property
    def success(self) -> bool:
        """Whether any turn succeeded."""
        return any(stream.success for stream in self.streams)

    @property
    def first_success(self) -> AdaptiveTurn | None:
        """The successful turn with the lowest query index, or None."""
        for turn in self.turns:
            if turn.outcome == "success":
                return turn
        return None

    @property
    def queries_to_first_success(self) -> int | None:
        """Target queries sent up to and including the first success, or None.

        Queries are numbered round by round, and in stream order within a
        round, so the number does not depend on which request finished first.
        """
        first = self.first_success
        return first.query_index if first is not None else None

    @property
    def unassessed_turns(self) -> int:
        """Turns whose verdict was an error or whose target request failed."""
        return sum(turn.outcome == "unassessed" for turn in self.turns)

    def token_totals(self) -> dict[str, Any]:
        """Return prompt, completion and total tokens of attacker and target."""
        calls = [
            call
            for turn in self.turns
            for call in [a.call for a in turn.attacker_calls] + [turn.target_call]
            if call is not None
        ]
        prompt = sum(call.prompt_tokens or 0 for call in calls)
        completion = sum(call.completion_tokens or 0 for call in calls)
        return {
            "prompt": prompt,
            "completion": completion,
            "total": prompt + completion,
            "estimated": any(call.tokens_estimated for call in calls),
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        first = self.first_success
        return {
            "format_version": ADAPTIVE_FORMAT_VERSION,
            "attack": self.attack,
            "params": dict(self.params),
            "case_id": self.case_id,
            "goal": self.goal,
            "seed": self.seed,
            "budget": dict(self.budget),
            "target": dict(self.target),
            "attacker": dict(self.attacker),
            "judge": dict(self.judge),
            "success": self.success,
            "stopped_reason": self.stopped_reason,
            "target_queries": self.target_queries,
            "attacker_queries": self.attacker_queries,
            "queries_to_first_success": self.queries_to_first_success,
            "first_success": (
                {"stream": first.stream, "iteration": first.iteration}
                if first is not None
                else None
            ),
            "unassessed_turns": self.unassessed_turns,
            "tokens": self.token_totals(),
            "streams": [stream.to_dict() for stream in self.streams],
        }
