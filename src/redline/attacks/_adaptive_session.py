"""One adaptive attack on one case: roles, budgets, requests and the judge."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from typing import Any

from redline.attacks._adaptive_records import AttackBudget, TokenBudget
from redline.attacks._base import _checked_message, last_user_index
from redline.classifiers import Classifier, ClassifierInput, Verdict
from redline.errors import ConfigError
from redline.suites import Case
from redline.targets import (
    GenerationParams,
    Message,
    Target,
    TargetResponse,
    create_target,
)

logger = logging.getLogger(__name__)

# Characters of one earlier message or reply shown to the attacker, so a
# long reply does not crowd the attacker's context.
FEEDBACK_CHARS = 2000
# Characters of an attacker reply searched for a JSON object.
MAX_REPLY_CHARS = 20000


class AttackerReplyError(ValueError):
    """An attacker reply that contains no usable prompt."""


def parse_json_object(text: str, required: Sequence[str]) -> dict[str, Any]:
    """Return the first JSON object in ``text`` with non-empty strings for ``required``.

    Text around the object, such as a Markdown code fence, is ignored.

    Raises:
        AttackerReplyError: No such object was found. The message names
            the problem with the first candidate.
    """
    decoder = json.JSONDecoder()
    text = text[:MAX_REPLY_CHARS]
    # The first brace's problem is reported, because later braces are
    # usually inside the same broken object.
    problems = []
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            problems.append(f"invalid JSON at character {start}: {exc.msg}")
        else:
            if isinstance(value, dict):
                missing = [key for key in required if not _filled(value.get(key))]
                if not missing:
                    return value
                problems.append(
                    f"the JSON object has no non-empty string {missing[0]!r}"
                )
        start = text.find("{", start + 1)
    raise AttackerReplyError(
        problems[0] if problems else "the reply contains no JSON object"
    )


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def clip(text: str, limit: int = FEEDBACK_CHARS) -> str:
    """Return ``text`` cut to ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" [... {len(text) - limit} more characters]"


def success_score(verdict: Verdict, kind: str) -> float:
    """Return the success score of ``verdict``, in [0, 1].

    For refusal detectors (``kind == "refusal"``) that is 1 minus the refusal
    score, and for content classifiers the harmful-content score.
    """
    return 1.0 - verdict.score if kind == "refusal" else verdict.score


class Session:
    """State of one attack on one case: roles, budgets and counters."""

    def __init__(
        self,
        case: Case | Sequence[Message] | str,
        *,
        target: Target,
        attacker: Target,
        judge: Classifier,
        budget: AttackBudget,
        tokens: TokenBudget,
        params: GenerationParams,
        timeout_s: float,
        max_retries: int,
    ):
        self.case_id, self.context, self.goal = split_case(case)
        self.target = target
        self.attacker = attacker
        self.judge = judge
        self.budget = budget
        self.tokens = tokens
        self.target_params = params
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.queries_reserved = 0
        self.queries_sent = 0
        self.attacker_queries = 0

    def reserve_query(self) -> bool:
        limit = self.budget.max_queries_per_case
        if limit is not None and self.queries_reserved >= limit:
            return False
        self.queries_reserved += 1
        return True

    def reserve_attacker(self, reservation: int) -> str | None:
        """Reserve one attacker request; return the budget reason when it does not fit."""
        limit = self.budget.max_attacker_queries
        if limit is not None and self.attacker_queries >= limit:
            return "budget_attacker_queries"
        if not self.tokens.reserve(reservation):
            return "budget_tokens"
        self.attacker_queries += 1
        return None

    async def send(
        self,
        target: Target,
        messages: Sequence[Message],
        params: GenerationParams,
        seed: int,
    ) -> TargetResponse:
        # Imported here because the runner package imports redline.attacks.
        from redline.runner import RunConfig, send_with_retries

        config = RunConfig(timeout_s=self.timeout_s, max_retries=self.max_retries)
        rng = random.Random(seed)
        return await send_with_retries(
            target, messages, params, config, rng, self.case_id or "adaptive"
        )

    async def judge_replies(self, replies: Sequence[str]) -> list[Verdict]:
        """Return one verdict per reply; a failing judge gives error verdicts."""
        if not replies:
            return []
        items = [ClassifierInput(text=reply, prompt=self.goal) for reply in replies]
        try:
            verdicts = await self.judge.classify(items)
        except Exception as exc:  # a classifier plugin bug must not end the attack
            logger.warning("judge %s raised %r", self.judge.name, exc)
            return [self._judge_error(f"judge raised {exc!r}") for _ in replies]
        if len(verdicts) != len(replies):
            error = f"judge returned {len(verdicts)} verdicts for {len(replies)} texts"
            return [self._judge_error(error) for _ in replies]
        return verdicts

    def _judge_error(self, error: str) -> Verdict:
        return Verdict(
            classifier=self.judge.name,
            label="unassessed",
            flagged=False,
            score=0.0,
            error=error,
        )


def split_case(
    case: Case | Sequence[Message] | str,
) -> tuple[str | None, tuple[Message, ...], str]:
    """Return the case id, the messages before the goal, and the goal."""
    if isinstance(case, str):
        if not case.strip():
            raise ConfigError("an adaptive attack needs a non-empty goal")
        return None, (), case
    case_id = case.id if isinstance(case, Case) else None
    messages = case.messages if isinstance(case, Case) else case
    checked = tuple(_checked_message(m, i) for i, m in enumerate(messages))
    index = last_user_index(checked)
    return case_id, checked[:index], checked[index]["content"]


def checked_token_budget(
    budget: AttackBudget, token_budget: TokenBudget | None
) -> TokenBudget:
    if token_budget is None:
        return budget.token_budget()
    if not isinstance(token_budget, TokenBudget):
        raise ConfigError(
            f"token_budget must be a TokenBudget, got {type(token_budget).__name__}"
        )
    if token_budget.limit != budget.max_tokens_per_run:
        raise ConfigError(
            f"token budget limit {token_budget.limit!r} differs from "
            f"max_tokens_per_run {budget.max_tokens_per_run!r}; build it with "
            "budget.token_budget()"
        )
    return token_budget


def attacker_target(
    attacker: Target | str, options: Mapping[str, Any] | None
) -> tuple[Target, bool]:
    """Return the attacker target and whether this call owns its start and close."""
    if isinstance(attacker, Target):
        return attacker, False
    if not isinstance(attacker, str):
        raise ConfigError(
            f"attacker must be a Target or a target spec such as 'local' or "
            f"'openai:MODEL', got {type(attacker).__name__}"
        )
    return create_target(attacker, **dict(options or {})), True
