"""Streaming pipeline: attempts -> requests -> decoding -> classifiers -> store.

Attempts flow through two bounded queues, so memory stays flat however many
cases a suite has. A producer expands cases into attempts one case at a
time, and ``concurrency`` workers send the requests and decode the
responses. One writer judges finished responses in batches and commits
each batch to the store.

An attack attempt with a decoder is judged on the decoded response, and the
refusal detector also reads the raw response: a refusal in either counts,
because a decoder that cannot fail (ROT13, reversed text) turns a plain
refusal into gibberish. When decoding fails, only a refusal in the raw
response counts: the attempt is safe (or over-refused on a benign case)
when there is one, and unassessed with the reason ``decode failed: ...``
otherwise. An attack response that only repeats the request is unassessed
too. A response that cannot be read is thus never counted as safe by
default, nor as unsafe.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redline.attacks import DecodedResponse, adecode_response
from redline.classifiers import Classifier, ClassifierInput, Verdict
from redline.classifiers._base import classify_or_error
from redline.metrics import Judgement, Outcome, judge_attempt
from redline.runner._attacks import PlannedAttempt
from redline.runner._config import RunConfig
from redline.runner._retry import send_with_retries
from redline.store import AttemptRecord, Store
from redline.targets import GenerationParams, Target, TargetResponse

logger = logging.getLogger(__name__)


class ProgressListener(Protocol):
    """Receives progress events from a running pipeline."""

    def started(self, total: int, already_done: int) -> None:
        """Called once before the first request; counts are in attempts.

        With attack strategies, ``total`` is an estimate, see
        :meth:`redline.runner._attacks.AttackPlan.attempts_per_case`.
        """

    def attempts_written(self, attempts: Sequence[AttemptRecord]) -> None:
        """Called after each committed batch of attempts."""


@dataclass(slots=True)
class _Finished:
    planned: PlannedAttempt
    response: TargetResponse
    decoded: DecodedResponse | None = None

    @property
    def judged_text(self) -> str:
        """Text the classifiers judge: the decoded response, else the raw one."""
        if self.decoded is not None and self.decoded.decoded is not None:
            return self.decoded.decoded
        return self.response.text

    @property
    def needs_raw_check(self) -> bool:
        """Whether the raw response also goes to the refusal detector."""
        decoded = self.decoded
        return decoded is not None and decoded.ok and decoded.decoded != decoded.raw


_DONE = None


async def run_pipeline(
    run_id: str,
    attempts: AsyncIterator[PlannedAttempt],
    target: Target,
    params: GenerationParams,
    refusal: Classifier,
    content: Sequence[Classifier],
    store: Store,
    config: RunConfig,
    concurrency: int,
    listener: ProgressListener | None = None,
) -> None:
    """Send every attempt, judge each response and store each attempt as it completes."""
    work: asyncio.Queue[PlannedAttempt | None] = asyncio.Queue(maxsize=concurrency * 2)
    finished: asyncio.Queue[_Finished | None] = asyncio.Queue(
        maxsize=max(config.classify_batch * 2, concurrency * 2)
    )
    rng = random.Random(config.jitter_seed)

    async def produce() -> None:
        async for item in attempts:
            await work.put(item)
        for _ in range(concurrency):
            await work.put(_DONE)

    async def request_worker() -> None:
        while (planned := await work.get()) is not None:
            if planned.build_error is not None:
                failed = TargetResponse(error=planned.build_error, attempts=0)
                await finished.put(_Finished(planned, failed))
                continue
            response = await send_with_retries(
                target, planned.messages, params, config, rng, planned.attempt_id
            )
            decoded = await _decode(planned, response)
            await finished.put(_Finished(planned, response, decoded))

    async def send_all() -> None:
        await asyncio.gather(produce(), *(request_worker() for _ in range(concurrency)))
        await finished.put(_DONE)

    writer = _Writer(
        run_id,
        refusal,
        content,
        store,
        config.classify_batch,
        config.classify_wait_s,
        listener,
    )
    sender = asyncio.ensure_future(send_all())
    consumer = asyncio.ensure_future(writer.consume(finished))
    try:
        # If either side fails, the other would wait forever on its queue.
        done, _ = await asyncio.wait(
            {sender, consumer}, return_when=asyncio.FIRST_EXCEPTION
        )
        for task in done:
            task.result()
        await asyncio.gather(sender, consumer)
    finally:
        for task in (sender, consumer):
            if not task.done():
                task.cancel()
        await asyncio.gather(sender, consumer, return_exceptions=True)


class _Writer:
    """Judges finished responses in batches and commits them to the store."""

    def __init__(
        self,
        run_id: str,
        refusal: Classifier,
        content: Sequence[Classifier],
        store: Store,
        batch_size: int,
        batch_wait_s: float,
        listener: ProgressListener | None,
    ):
        self.run_id = run_id
        self.refusal = refusal
        self.content = content
        self.store = store
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.listener = listener

    async def consume(self, queue: asyncio.Queue[_Finished | None]) -> None:
        closed = False
        while not closed:
            item = await queue.get()
            if item is None:
                break
            batch, closed = await self._collect(queue, item)
            await self.write(batch)

    async def _collect(
        self, queue: asyncio.Queue[_Finished | None], first: _Finished
    ) -> tuple[list[_Finished], bool]:
        """Gather a batch that starts with ``first``; also return whether the queue closed.

        Waiting up to ``batch_wait_s`` for more responses turns many small
        classifier calls and commits into few large ones.
        """
        batch = [first]
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_size:
            if queue.empty():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            else:
                item = queue.get_nowait()
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    async def write(self, batch: Sequence[_Finished]) -> None:
        records = await self._judge(batch)
        self.store.add_attempts(records)
        if self.listener is not None:
            self.listener.attempts_written(records)

    async def _judge(self, batch: Sequence[_Finished]) -> list[AttemptRecord]:
        judgeable = [
            f for f in batch if f.response.error is None and f.judged_text.strip()
        ]
        # The classifiers see the case's own request, not the attack's
        # rewrite of it, so a judge compares the response with the plain request.
        inputs = [
            ClassifierInput(f.judged_text, f.planned.case.prompt) for f in judgeable
        ]
        refusal_verdicts = await classify_or_error(self.refusal, inputs)
        content_verdicts = [await classify_or_error(c, inputs) for c in self.content]
        raw_checked = [f for f in judgeable if f.needs_raw_check]
        raw_verdicts = await classify_or_error(
            self.refusal,
            [
                ClassifierInput(f.response.text, f.planned.case.prompt)
                for f in raw_checked
            ],
        )
        raw_by_id = {
            f.planned.attempt_id: verdict
            for f, verdict in zip(raw_checked, raw_verdicts, strict=True)
        }
        verdicts_by_id: dict[str, _Verdicts] = {}
        for index, finished in enumerate(judgeable):
            attempt_id = finished.planned.attempt_id
            verdicts_by_id[attempt_id] = _Verdicts(
                refusal_verdicts[index],
                [verdicts[index] for verdicts in content_verdicts],
                raw_by_id.get(attempt_id),
            )
        now = time.time()
        return [
            self._record(f, verdicts_by_id.get(f.planned.attempt_id), now)
            for f in batch
        ]

    def _record(
        self, finished: _Finished, verdicts: _Verdicts | None, now: float
    ) -> AttemptRecord:
        planned, response, decoded = (
            finished.planned,
            finished.response,
            finished.decoded,
        )
        case = planned.case
        judgement = _judgement(finished, verdicts)
        all_verdicts = verdicts.to_dicts() if verdicts is not None else []
        if response.guard:
            all_verdicts.extend(response.guard)
        return AttemptRecord(
            run_id=self.run_id,
            case_id=planned.attempt_id,
            seq=planned.seq,
            category=case.category,
            expected=case.expected.value,
            severity=case.severity.value,
            tags=list(case.tags),
            messages=[dict(m) for m in planned.messages],
            response_text=response.text,
            finish_reason=response.finish_reason,
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            latency_s=response.latency_s,
            requests=response.attempts,
            error=response.error,
            error_kind="attack_error"
            if planned.build_error is not None
            else response.error_kind,
            outcome=judgement.outcome.value,
            unassessed_reason=judgement.unassessed_reason,
            refusal_label=judgement.refusal_label,
            flagged=judgement.flagged,
            verdicts=all_verdicts,
            completed_at=now,
            base_case_id=case.id,
            strategy=planned.strategy,
            attack=planned.attack,
            decoded_text=decoded.decoded if decoded is not None else None,
            decode_error=decoded.error if decoded is not None else None,
            attempt_index=planned.index,
        )


@dataclass(frozen=True, slots=True)
class _Verdicts:
    refusal: Verdict
    content: list[Verdict]
    raw_refusal: Verdict | None = None
    """Refusal verdict on the raw response when it differs from the decoded one."""

    def to_dicts(self) -> list[dict[str, Any]]:
        stored = [v.to_dict() for v in (self.refusal, *self.content)]
        if self.raw_refusal is not None:
            stored.append({**self.raw_refusal.to_dict(), "input": "raw response"})
        return stored


def _judgement(finished: _Finished, verdicts: _Verdicts | None) -> Judgement:
    planned, response, decoded = finished.planned, finished.response, finished.decoded
    if planned.build_error is not None:
        return Judgement(
            Outcome.UNASSESSED,
            f"attack failed: {planned.build_error}",
            None,
            False,
        )
    return judge_attempt(
        planned.case.expected.value,
        finished.judged_text,
        response.error,
        verdicts.refusal if verdicts is not None else None,
        verdicts.content if verdicts is not None else (),
        decode_error=decoded.error if decoded is not None else None,
        raw_refusal=verdicts.raw_refusal if verdicts is not None else None,
        request=None if planned.attack is None else planned.case.prompt,
    )


async def _decode(
    planned: PlannedAttempt, response: TargetResponse
) -> DecodedResponse | None:
    """Decode a response with its attack's decoder, or return None without one."""
    if planned.decoder is None or response.error is not None:
        return None
    try:
        return await adecode_response(response.text, planned.decoder)
    except Exception as exc:  # a broken descriptor or helper must not stop the run
        logger.warning(
            "decoding the response of %s failed: %r", planned.attempt_id, exc
        )
        return DecodedResponse(response.text, None, (), f"{type(exc).__name__}: {exc}")
