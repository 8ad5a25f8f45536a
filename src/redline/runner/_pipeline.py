"""Streaming pipeline: cases -> requests -> classifiers -> store.

Cases flow through two bounded queues, so memory stays flat however many
cases a suite has: a producer reads cases, ``concurrency`` workers send
requests, and one writer judges finished responses in batches and commits
each batch to the store.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from redline.classifiers import Classifier, ClassifierInput, Verdict
from redline.metrics import judge_attempt
from redline.runner._config import RunConfig
from redline.runner._retry import send_with_retries
from redline.store import AttemptRecord, Store
from redline.suites import Case
from redline.targets import GenerationParams, Target, TargetResponse

logger = logging.getLogger(__name__)


class ProgressListener(Protocol):
    """Receives progress events from a running pipeline."""

    def started(self, total: int, already_done: int) -> None:
        """Called once before the first request; counts are in cases."""

    def attempts_written(self, attempts: Sequence[AttemptRecord]) -> None:
        """Called after each committed batch of attempts."""


@dataclass(slots=True)
class _Finished:
    seq: int
    case: Case
    response: TargetResponse


_DONE = None


async def run_pipeline(
    run_id: str,
    cases: Iterator[tuple[int, Case]],
    target: Target,
    params: GenerationParams,
    refusal: Classifier,
    content: Sequence[Classifier],
    store: Store,
    config: RunConfig,
    concurrency: int,
    listener: ProgressListener | None = None,
) -> None:
    """Send every case, judge each response and store each attempt as it completes."""
    work: asyncio.Queue[tuple[int, Case] | None] = asyncio.Queue(
        maxsize=concurrency * 2
    )
    finished: asyncio.Queue[_Finished | None] = asyncio.Queue(
        maxsize=max(config.classify_batch * 2, concurrency * 2)
    )
    rng = random.Random(config.jitter_seed)

    async def produce() -> None:
        for item in cases:
            await work.put(item)
        for _ in range(concurrency):
            await work.put(_DONE)

    async def request_worker() -> None:
        while (item := await work.get()) is not None:
            seq, case = item
            response = await send_with_retries(
                target, case.messages, params, config, rng, case.id
            )
            await finished.put(_Finished(seq, case, response))

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
            f for f in batch if f.response.error is None and f.response.text.strip()
        ]
        inputs = [ClassifierInput(f.response.text, f.case.prompt) for f in judgeable]
        refusal_verdicts = await _classify(self.refusal, inputs)
        content_verdicts = [await _classify(c, inputs) for c in self.content]
        verdicts_by_seq: dict[int, tuple[Verdict, list[Verdict]]] = {}
        for index, finished in enumerate(judgeable):
            content = [verdicts[index] for verdicts in content_verdicts]
            verdicts_by_seq[finished.seq] = (refusal_verdicts[index], content)
        now = time.time()
        return [self._record(f, verdicts_by_seq.get(f.seq), now) for f in batch]

    def _record(
        self,
        finished: _Finished,
        verdicts: tuple[Verdict, list[Verdict]] | None,
        now: float,
    ) -> AttemptRecord:
        case, response = finished.case, finished.response
        refusal, content = verdicts if verdicts is not None else (None, [])
        judgement = judge_attempt(
            case.expected.value, response.text, response.error, refusal, content
        )
        all_verdicts = [v.to_dict() for v in ([refusal] if refusal else []) + content]
        if response.guard:
            all_verdicts.extend(response.guard)
        return AttemptRecord(
            run_id=self.run_id,
            case_id=case.id,
            seq=finished.seq,
            category=case.category,
            expected=case.expected.value,
            severity=case.severity.value,
            tags=list(case.tags),
            messages=[dict(m) for m in case.messages],
            response_text=response.text,
            finish_reason=response.finish_reason,
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            latency_s=response.latency_s,
            requests=response.attempts,
            error=response.error,
            error_kind=response.error_kind,
            outcome=judgement.outcome.value,
            unassessed_reason=judgement.unassessed_reason,
            refusal_label=judgement.refusal_label,
            flagged=judgement.flagged,
            verdicts=all_verdicts,
            completed_at=now,
        )


async def _classify(
    classifier: Classifier, inputs: Sequence[ClassifierInput]
) -> list[Verdict]:
    """Run one classifier over a batch; a crash becomes an error verdict per text."""
    if not inputs:
        return []
    try:
        verdicts = await classifier.classify(inputs)
        if len(verdicts) != len(inputs):
            raise ValueError(
                f"returned {len(verdicts)} verdicts for {len(inputs)} texts"
            )
    except Exception as exc:  # a plugin may fail in any way; keep the run going
        logger.warning(
            "classifier %s failed on a batch of %d: %r",
            classifier.name,
            len(inputs),
            exc,
        )
        return [
            Verdict(classifier.name, "unassessed", False, 0.0, error=f"{exc!r:.300}")
            for _ in inputs
        ]
    return verdicts
