"""Adaptive attacks: an attacker model rewrites the attack from the target's replies.

An adaptive attack runs one or more independent *streams*. In each round,
every active stream takes one step: the attacker model writes the next
prompt, the target answers it, and a judge classifier decides whether the
goal was reached. The streams of a round run concurrently, but budgets are
checked and query numbers are given out in stream order, so a result
depends only on the seed and on what the models return.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import random
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from redline.attacks._adaptive_records import (
    STOP_REASONS,
    AdaptiveResult,
    AdaptiveStream,
    AdaptiveTurn,
    AttackBudget,
    AttackerCall,
    ModelCall,
    TokenBudget,
    estimate_message_tokens,
)
from redline.attacks._adaptive_session import (
    AttackerReplyError,
    Session,
    attacker_target,
    checked_token_budget,
    clip,
    parse_json_object,
    success_score,
)
from redline.attacks._base import StrategyParams, build_params
from redline.classifiers import Classifier, RefusalDetector, Verdict
from redline.errors import ConfigError
from redline.suites import Case
from redline.targets import GenerationParams, Message, Target

logger = logging.getLogger(__name__)

DEFAULT_ATTACKER = "local"
"""Target spec of the attacker model when none is given."""


class AdaptiveParams(StrategyParams):
    """Parameters that every adaptive attack takes."""

    success_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    """Success score at or above which a turn succeeds; None uses the judge's
    flag. The success score is the judge's score for content classifiers and
    1 minus the refusal score for refusal detectors."""
    stop_on_success: bool = True
    """End every stream after the round in which one stream succeeds."""
    concurrency: int = Field(4, ge=1, le=64)
    """Streams whose requests are in flight at once."""
    attacker_retries: int = Field(1, ge=0, le=5)
    """Extra attacker requests per step after a reply without a usable prompt."""
    attacker_max_tokens: int = Field(1024, ge=16, le=16384)
    """Maximum tokens of one attacker reply."""
    attacker_temperature: float = Field(1.0, ge=0.0, le=2.0)
    """Sampling temperature of the attacker; above 0 so that streams differ."""
    max_retries: int = Field(2, ge=0, le=10)
    """Transport retries of one request after HTTP 429, 5xx or a timeout."""
    timeout_s: float = Field(120.0, gt=0.0, le=3600.0)
    """Seconds one request to the attacker or the target may take."""


@dataclass(slots=True)
class _Step:
    stream: AdaptiveStream
    turn: AdaptiveTurn
    stopped: str | None = None
    reservation: int = 0


class AdaptiveAttack(abc.ABC):
    """Base class of attacks in which an attacker model adapts to the target.

    Subclasses set the class attributes, declare :attr:`Params`, and
    implement the hooks that write the attacker's request, read its reply,
    build the target's messages and update a stream after each turn.

    Args:
        **params: Values for the fields of :attr:`Params`.

    Raises:
        ConfigError: A parameter is unknown, of the wrong type or out of range.
    """

    name: ClassVar[str]
    """Registry name, such as ``pair``."""
    description: ClassVar[str]
    """One-line description for listings."""
    Params: ClassVar[type[AdaptiveParams]] = AdaptiveParams
    """Parameter model; its fields are the accepted parameters."""
    reply_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    """Fields the attacker's JSON reply must contain as non-empty strings."""

    def __init__(self, **params: Any):
        checked = build_params(self.name, self.Params, params)
        assert isinstance(checked, AdaptiveParams)
        self.params: AdaptiveParams = checked

    @property
    @abc.abstractmethod
    def stream_count(self) -> int:
        """Streams the attack runs."""

    @property
    @abc.abstractmethod
    def max_iterations(self) -> int:
        """Steps after which a stream stops with ``iterations_exhausted``."""

    def prepare_streams(  # noqa: B027 - optional hook
        self, streams: Sequence[AdaptiveStream], rng: random.Random
    ) -> None:
        """Set up the streams before the first round, drawing from ``rng``."""

    @abc.abstractmethod
    def attacker_messages(
        self, goal: str, stream: AdaptiveStream, iteration: int
    ) -> list[Message]:
        """Return the request to the attacker for the next step of ``stream``."""

    def parse_reply(self, text: str) -> dict[str, Any]:
        """Read the attacker's reply into fields, ``prompt`` among them.

        Raises:
            AttackerReplyError: The reply contains no usable prompt.
        """
        return parse_json_object(text, self.reply_fields)

    @abc.abstractmethod
    def target_messages(
        self, context: Sequence[Message], stream: AdaptiveStream, prompt: str
    ) -> tuple[Message, ...]:
        """Return the exact messages to send to the target for ``prompt``."""

    def judges_turn(
        self, stream: AdaptiveStream, turn: AdaptiveTurn, kind: str
    ) -> bool:
        """Return whether a judge of classifier ``kind`` scores this turn."""
        return True

    def advance(  # noqa: B027 - optional hook
        self, stream: AdaptiveStream, turn: AdaptiveTurn
    ) -> None:
        """Update ``stream`` after ``turn``, its last turn, got a reply.

        Set ``stream.stopped_reason`` to end the stream. A successful turn
        ends it with ``success`` whatever this hook sets.
        """

    def identity(self) -> dict[str, Any]:
        """Return the name and parameters, as stored with each result."""
        return {"name": self.name, "params": self.params.to_dict()}

    async def run(
        self,
        case: Case | Sequence[Message] | str,
        *,
        target: Target,
        attacker: Target | str = DEFAULT_ATTACKER,
        judge: Classifier | None = None,
        budget: AttackBudget | None = None,
        token_budget: TokenBudget | None = None,
        seed: int = 0,
        params: GenerationParams | None = None,
        attacker_options: Mapping[str, Any] | None = None,
    ) -> AdaptiveResult:
        """Attack ``target`` on one case and record every turn.

        The goal is the last user message of the case. Messages before it,
        such as a system prompt, open every conversation sent to the target,
        and messages after it are dropped.

        Args:
            case: A case, its messages, or the goal as plain text.
            target: The system under test, already started by the caller.
            attacker: Attacker model as a started :class:`Target`, or a spec
                that is built, started and closed around this call.
            judge: Classifier that decides success. None uses the
                ``refusal`` detector, for which a reply that is not a
                refusal succeeds. For content classifiers a flagged reply
                succeeds. An error verdict leaves the turn unassessed.
            budget: Hard limits; None sets none besides the attack's own
                streams and steps.
            token_budget: Token allowance shared with other cases of a run;
                None starts a new one from ``budget.max_tokens_per_run``.
            seed: Seed of every random draw of the attack.
            params: Sampling settings of the target requests.
            attacker_options: Options for building the attacker from a spec,
                such as ``base_url``.

        Raises:
            ConfigError: A role is of the wrong type, the seed is not an
                integer, the case has no user message, or the token budget
                disagrees with ``budget``.
            TargetError: An attacker built from a spec failed to start.
        """
        budget = budget if budget is not None else AttackBudget()
        tokens = checked_token_budget(budget, token_budget)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"attack seed must be an integer, got {seed!r}")
        if not isinstance(target, Target):
            raise ConfigError(
                f"adaptive attack target must be a Target, got {type(target).__name__}"
            )
        judge = judge if judge is not None else RefusalDetector()
        if not isinstance(judge, Classifier):
            raise ConfigError(
                f"adaptive attack judge must be a Classifier, got {type(judge).__name__}"
            )
        attacker_model, owned = attacker_target(attacker, attacker_options)
        if owned:
            await attacker_model.start()
        try:
            session = Session(
                case,
                target=target,
                attacker=attacker_model,
                judge=judge,
                budget=budget,
                tokens=tokens,
                params=params if params is not None else GenerationParams(),
                timeout_s=self.params.timeout_s,
                max_retries=self.params.max_retries,
            )
            return await self._attack(session, seed)
        finally:
            if owned:
                await attacker_model.close()

    def run_sync(
        self, case: Case | Sequence[Message] | str, **options: Any
    ) -> AdaptiveResult:
        """Run :meth:`run` in a new event loop; takes the same arguments.

        Raises:
            RuntimeError: An event loop is running in this thread. Await
                :meth:`run` there instead.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run(case, **options))
        raise RuntimeError(
            f"adaptive attack {self.name!r} cannot run synchronously inside a "
            "running event loop; use 'await attack.run(...)' instead"
        )

    async def _attack(self, session: Session, seed: int) -> AdaptiveResult:
        rng = random.Random(seed)
        streams = [
            AdaptiveStream(index=index + 1, seed=rng.randrange(2**31))
            for index in range(self.stream_count)
        ]
        self.prepare_streams(streams, rng)
        logger.info(
            "adaptive attack %s on case %s: %d stream(s), target %s, attacker %s",
            self.name,
            session.case_id,
            len(streams),
            session.target.spec,
            session.attacker.spec,
        )
        iteration = 0
        while active := [s for s in streams if s.stopped_reason is None]:
            iteration += 1
            await self._run_round(session, active, iteration)
            if self.params.stop_on_success and any(s.success for s in streams):
                _stop_all(streams, "stopped_after_success")
            if iteration >= self.max_iterations:
                _stop_all(streams, "iterations_exhausted")

        result = AdaptiveResult(
            attack=self.name,
            params=self.params.to_dict(),
            case_id=session.case_id,
            goal=session.goal,
            seed=seed,
            budget=session.budget.to_dict(),
            streams=streams,
            target=session.target.identity(),
            attacker=session.attacker.identity(),
            judge=session.judge.identity(),
            target_queries=session.queries_sent,
            attacker_queries=session.attacker_queries,
            stopped_reason=min(
                (s.stopped_reason or "" for s in streams), key=STOP_REASONS.index
            ),
        )
        logger.info(
            "adaptive attack %s on case %s stopped (%s) after %d target queries",
            self.name,
            session.case_id,
            result.stopped_reason,
            result.target_queries,
        )
        return result

    async def _run_round(
        self, session: Session, streams: Sequence[AdaptiveStream], iteration: int
    ) -> None:
        steps = []
        for stream in streams:
            if session.reserve_query():
                steps.append(_Step(stream, AdaptiveTurn(stream.index, iteration)))
            else:
                stream.stopped_reason = "budget_queries"
        await self._ask_attacker(session, steps, iteration)
        sent = await self._query_target(session, steps)
        await self._judge(session, sent)
        for step in steps:
            self._finish(session, step)

    async def _ask_attacker(
        self, session: Session, steps: Sequence[_Step], iteration: int
    ) -> None:
        """Request a prompt for each step, retrying unusable replies."""
        pending = list(steps)
        while pending:
            calls = []
            for step in pending:
                messages = self._attacker_request(session, step, iteration)
                reservation = (
                    estimate_message_tokens(messages) + self.params.attacker_max_tokens
                )
                budget_reason = session.reserve_attacker(reservation)
                if budget_reason is not None:
                    step.stopped = budget_reason
                    continue
                calls.append(self._call_attacker(session, step, messages, reservation))
            await self._bounded(calls)
            pending = [
                step
                for step in pending
                if step.stopped is None
                and step.turn.prompt is None
                and len(step.turn.attacker_calls) <= self.params.attacker_retries
            ]

    def _attacker_request(
        self, session: Session, step: _Step, iteration: int
    ) -> list[Message]:
        if not step.turn.attacker_calls:
            return self.attacker_messages(session.goal, step.stream, iteration)
        # A retry resends a failed request unchanged, and follows an
        # unreadable reply with its parse error.
        last = step.turn.attacker_calls[-1]
        messages = list(last.call.messages)
        if last.call.error is None:
            messages += [
                {"role": "assistant", "content": clip(last.call.text)},
                {
                    "role": "user",
                    "content": f"Your reply could not be read: {last.parse_error}. "
                    "Reply again with the JSON object alone.",
                },
            ]
        return messages

    async def _call_attacker(
        self,
        session: Session,
        step: _Step,
        messages: Sequence[Message],
        reservation: int,
    ) -> None:
        earlier = sum(len(turn.attacker_calls) for turn in step.stream.turns)
        seed = (step.stream.seed + earlier + len(step.turn.attacker_calls)) % 2**31
        sampling = GenerationParams(
            max_tokens=self.params.attacker_max_tokens,
            temperature=self.params.attacker_temperature,
            seed=seed,
        )
        response = await session.send(session.attacker, messages, sampling, seed)
        call = ModelCall.from_response(messages, response)
        session.tokens.settle(reservation, call.tokens)
        record = AttackerCall(call)
        if call.error is not None:
            record.parse_error = f"attacker request failed: {call.error}"
        else:
            try:
                record.parsed = self.parse_reply(call.text)
            except AttackerReplyError as exc:
                record.parse_error = str(exc)
        step.turn.attacker_calls.append(record)
        if record.parsed is not None:
            step.turn.prompt = str(record.parsed["prompt"])
        else:
            logger.debug(
                "stream %d: attacker reply unusable: %s",
                step.stream.index,
                record.parse_error,
            )

    async def _query_target(
        self, session: Session, steps: Sequence[_Step]
    ) -> list[_Step]:
        """Send each step's prompt to the target; return the steps that were sent."""
        sent: list[_Step] = []
        for step in steps:
            if step.stopped is None and step.turn.prompt is None:
                step.stopped = "attacker_failed"
            if step.stopped is not None:
                session.queries_reserved -= 1
                continue
            assert step.turn.prompt is not None
            messages = self.target_messages(
                session.context, step.stream, step.turn.prompt
            )
            step.reservation = (
                estimate_message_tokens(messages) + session.target_params.max_tokens
            )
            if not session.tokens.reserve(step.reservation):
                step.stopped = "budget_tokens"
                session.queries_reserved -= 1
                continue
            session.queries_sent += 1
            step.turn.query_index = session.queries_sent
            step.turn.target_call = ModelCall(messages=tuple(messages))
            sent.append(step)
        await self._bounded([self._call_target(session, step) for step in sent])
        return sent

    async def _call_target(self, session: Session, step: _Step) -> None:
        assert step.turn.target_call is not None
        messages = step.turn.target_call.messages
        response = await session.send(
            session.target, messages, session.target_params, step.stream.seed
        )
        call = ModelCall.from_response(messages, response)
        session.tokens.settle(step.reservation, call.tokens)
        step.turn.target_call = call

    async def _judge(self, session: Session, sent: Sequence[_Step]) -> None:
        kind = session.judge.kind
        judged = []
        for step in sent:
            call = step.turn.target_call
            assert call is not None
            if call.error is not None:
                step.turn.outcome = "unassessed"
            elif self.judges_turn(step.stream, step.turn, kind):
                judged.append(step)
            else:
                step.turn.outcome = "not_judged"
        verdicts = await session.judge_replies(
            [step.turn.reply or "" for step in judged]
        )
        for step, verdict in zip(judged, verdicts, strict=True):
            step.turn.verdict = verdict.to_dict()
            step.turn.outcome = self._outcome(verdict, kind)
            if not verdict.error:
                score = success_score(verdict, kind)
                step.turn.details["success_score"] = round(score, 6)

    def _outcome(self, verdict: Verdict, kind: str) -> str:
        if verdict.error:
            return "unassessed"
        threshold = self.params.success_threshold
        if threshold is not None:
            return "success" if success_score(verdict, kind) >= threshold else "failure"
        reached = not verdict.flagged if kind == "refusal" else verdict.flagged
        return "success" if reached else "failure"

    def _finish(self, session: Session, step: _Step) -> None:
        stream, turn = step.stream, step.turn
        if turn.attacker_calls:
            stream.turns.append(turn)
        if step.stopped is not None:
            stream.stopped_reason = step.stopped
        elif turn.target_call is not None and turn.target_call.error is not None:
            stream.stopped_reason = "target_failed"
        else:
            self.advance(stream, turn)
            if turn.outcome == "success":
                stream.stopped_reason = "success"

    async def _bounded(self, calls: Sequence[Coroutine[Any, Any, None]]) -> None:
        semaphore = asyncio.Semaphore(self.params.concurrency)

        async def bounded(call: Coroutine[Any, Any, None]) -> None:
            async with semaphore:
                await call

        await asyncio.gather(*(bounded(call) for call in calls))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


def _stop_all(streams: Sequence[AdaptiveStream], reason: str) -> None:
    for stream in streams:
        if stream.stopped_reason is None:
            stream.stopped_reason = reason
