"""The guard: a target that filters what goes into and comes out of another target."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redline.classifiers import ClassifierInput, Verdict
from redline.classifiers._pii import Finding, find_pii
from redline.errors import ConfigError
from redline.guards._config import (
    DEFAULT_SAFE_REPLY,
    BuiltFilter,
    GuardConfig,
    GuardFilter,
    build_filters,
    parse_filter,
)
from redline.targets import GenerationParams, Message, Target, TargetResponse

logger = logging.getLogger(__name__)

# finish_reason of a response that the guard replaced, as OpenAI's API names
# a response stopped by its content filter.
BLOCKED_FINISH_REASON = "content_filter"


@dataclass(slots=True)
class _StageResult:
    texts: list[str]
    blocked: bool


class Guard(Target):
    """A target wrapped in input and output filters; itself a target.

    Input filters judge the user messages before they are sent, output
    filters judge the response. A triggered ``block`` filter replaces the
    response with the safe reply and, on input, sends nothing. ``redact``
    replaces personal data found by the pii classifier with
    ``[REDACTED:<kind>]``, and ``flag`` only records. Filters run in the
    configured order, each on the text the previous one left, and a block
    ends the stage. Every decision is recorded on ``TargetResponse.guard``.

    Build it from filters, ``Guard(target, input_filters=[...])``, or from a
    loaded config, ``Guard(target, config=load_guard_config(path))``.
    Filters are :class:`GuardFilter` objects or mappings with the keys of a
    config file entry.

    Raises:
        ConfigError: The filters or settings are invalid.
    """

    scheme = "guard"
    description = "Input and output filters around another target"

    def __init__(
        self,
        target: Target,
        input_filters: Sequence[GuardFilter | Mapping[str, Any]] = (),
        output_filters: Sequence[GuardFilter | Mapping[str, Any]] = (),
        *,
        name: str = "guard",
        safe_reply: str = DEFAULT_SAFE_REPLY,
        on_error: str = "block",
        input_scope: str = "last",
        config: GuardConfig | None = None,
    ):
        super().__init__(target.spec)
        if config is None:
            config = GuardConfig(
                name=name,
                input_filters=_as_filters(input_filters, "input"),
                output_filters=_as_filters(output_filters, "output"),
                safe_reply=safe_reply,
                on_error=on_error,
                input_scope=input_scope,
            )
        elif input_filters or output_filters:
            raise ConfigError(
                "Guard got both config and filters; pass the filters inside the "
                "config or drop config"
            )
        self.target = target
        self.config = config
        self.input_filters, self.output_filters = build_filters(config)
        # The runner reads the wrapped target's default, not the guard's.
        self.default_concurrency = target.default_concurrency  # type: ignore[misc]
        self._errors_logged: set[str] = set()

    def identity(self) -> dict[str, Any]:
        """Return the guard's config fingerprint and classifiers, and the target's."""
        return {
            "scheme": self.scheme,
            "spec": self.spec,
            "guard": {
                "name": self.config.name,
                "fingerprint": self.config.fingerprint,
                "classifiers": [
                    f.classifier.identity()
                    for f in (*self.input_filters, *self.output_filters)
                ],
            },
            "target": self.target.identity(),
        }

    async def start(self) -> None:
        await self.target.start()

    async def close(self) -> None:
        await self.target.close()

    async def generate(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> TargetResponse:
        """Filter the request, send it unless blocked, and filter the response.

        Raises:
            TargetError: The wrapped target failed; retries are the runner's.
        """
        started = time.perf_counter()
        decisions: list[dict[str, Any]] = []
        positions = self._input_positions(messages)
        user_texts = [str(messages[i].get("content", "")) for i in positions]
        stage = await self._run_stage(
            "input", self.input_filters, user_texts, None, decisions
        )
        if stage.blocked:
            return TargetResponse(
                text=self.config.safe_reply,
                finish_reason=BLOCKED_FINISH_REASON,
                latency_s=time.perf_counter() - started,
                guard=decisions,
            )
        sent = _replace_contents(messages, positions, stage.texts)

        response = await self.target.generate(sent, params)
        if response.error is None and response.text.strip():
            prompt = stage.texts[-1] if stage.texts else None
            output = await self._run_stage(
                "output", self.output_filters, [response.text], prompt, decisions
            )
            if output.blocked:
                response.text = self.config.safe_reply
                response.finish_reason = BLOCKED_FINISH_REASON
            else:
                response.text = output.texts[0]
        response.latency_s = time.perf_counter() - started
        response.guard = decisions
        return response

    def _input_positions(self, messages: Sequence[Message]) -> list[int]:
        """Return the indices of the user messages that the input filters judge."""
        # NOTE: a conversation without a user message passes the input
        # filters unjudged.
        users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
        if self.config.input_scope == "last":
            return users[-1:]
        return users

    async def _run_stage(
        self,
        stage: str,
        filters: Sequence[BuiltFilter],
        texts: list[str],
        prompt: str | None,
        decisions: list[dict[str, Any]],
    ) -> _StageResult:
        for built in filters:
            if not texts:
                break
            if built.action == "redact":
                decision, texts = self._redact(stage, built, texts)
            else:
                decision = await self._judge(stage, built, texts, prompt)
            decisions.append(decision)
            if decision["label"] == "blocked":
                return _StageResult(texts, blocked=True)
        return _StageResult(texts, blocked=False)

    async def _judge(
        self,
        stage: str,
        built: BuiltFilter,
        texts: Sequence[str],
        prompt: str | None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        inputs = [ClassifierInput(text, prompt) for text in texts]
        error: str | None = None
        verdicts: list[Verdict] = []
        try:
            verdicts = list(await built.classifier.classify(inputs))
            if len(verdicts) != len(inputs):
                raise ValueError(
                    f"returned {len(verdicts)} verdicts for {len(inputs)} texts"
                )
        except Exception as exc:  # a plugin may fail in any way; the guard decides
            error = f"{exc!r:.300}"
        else:
            error = next((v.error for v in verdicts if v.error is not None), None)
        latency = time.perf_counter() - started

        if error is not None:
            return self._error_decision(stage, built, error, latency)
        triggered = any(is_triggered(v, built.threshold) for v in verdicts)
        label = "passed"
        if triggered:
            label = "blocked" if built.action == "block" else "flagged"
        score = max(v.score for v in verdicts)
        return _decision(stage, built, label, triggered, score, latency)

    def _redact(
        self, stage: str, built: BuiltFilter, texts: Sequence[str]
    ) -> tuple[dict[str, Any], list[str]]:
        started = time.perf_counter()
        assert built.threshold is not None  # set by build_filters for redact
        try:
            results = [redact_pii(text, built.threshold) for text in texts]
        except Exception as exc:  # a detector bug must not let data through
            latency = time.perf_counter() - started
            error = f"{exc!r:.300}"
            return self._error_decision(stage, built, error, latency), list(texts)
        latency = time.perf_counter() - started
        redacted = [text for text, _, _ in results]
        count = sum(len(spans) for _, spans, _ in results)
        score = max((score for _, _, score in results), default=0.0)
        label = "redacted" if count else "passed"
        decision = _decision(stage, built, label, count > 0, score, latency)
        decision["redactions"] = count
        return decision, redacted

    def _error_decision(
        self, stage: str, built: BuiltFilter, error: str, latency: float
    ) -> dict[str, Any]:
        label = "blocked" if self.config.on_error == "block" else "passed"
        key = f"{stage}:{built.classifier.name}"
        # One warning per filter; repeats go to the debug log.
        log = logger.debug if key in self._errors_logged else logger.warning
        self._errors_logged.add(key)
        log(
            "guard %s: %s classifier %s failed, message %s: %s",
            self.config.name,
            stage,
            built.classifier.name,
            label,
            error,
        )
        decision = _decision(stage, built, label, False, 0.0, latency)
        decision["error"] = error
        return decision


def is_triggered(verdict: Verdict, threshold: float | None) -> bool:
    """Return whether a verdict triggers a filter with this threshold.

    With a threshold the score decides, so the sweep can move it; without
    one the classifier's own ``flagged`` decides.
    """
    if threshold is None:
        return verdict.flagged
    return verdict.score >= threshold


def redact_pii(text: str, threshold: float = 0.5) -> tuple[str, list[Finding], float]:
    """Replace personal data and secrets in a text with ``[REDACTED:<kind>]``.

    Spans from :func:`redline.classifiers._pii.find_pii` with a confidence
    at or above ``threshold`` are replaced. Overlapping spans are merged and
    take the kind of their most confident finding.

    Returns:
        The redacted text, the findings replaced, and the highest confidence
        of any finding, weak ones included.
    """
    findings = find_pii(text)
    top = max((f.confidence for f in findings), default=0.0)
    strong = sorted(
        (f for f in findings if f.confidence >= threshold), key=lambda f: f.start
    )
    if not strong:
        return text, [], top
    merged: list[tuple[int, int, Finding]] = []
    for finding in strong:
        if merged and finding.start < merged[-1][1]:
            start, end, best = merged[-1]
            if finding.confidence > best.confidence:
                best = finding
            merged[-1] = (start, max(end, finding.end), best)
        else:
            merged.append((finding.start, finding.end, finding))
    parts: list[str] = []
    position = 0
    for start, end, best in merged:
        parts.append(text[position:start])
        parts.append(f"[REDACTED:{best.category}]")
        position = end
    parts.append(text[position:])
    return "".join(parts), strong, top


def _decision(
    stage: str,
    built: BuiltFilter,
    label: str,
    flagged: bool,
    score: float,
    latency_s: float,
) -> dict[str, Any]:
    """Return one guard decision in the shape of a stored verdict."""
    return {
        "classifier": f"guard:{stage}:{built.classifier.name}",
        "label": label,
        "action": built.action,
        "flagged": flagged,
        "score": round(score, 6),
        "threshold": built.threshold,
        "latency_s": latency_s,
    }


def _as_filters(
    filters: Sequence[GuardFilter | Mapping[str, Any]], stage: str
) -> tuple[GuardFilter, ...]:
    return tuple(
        item if isinstance(item, GuardFilter) else parse_filter(item, f"{stage}[{i}]")
        for i, item in enumerate(filters)
    )


def _replace_contents(
    messages: Sequence[Message], positions: Sequence[int], texts: Sequence[str]
) -> list[dict[str, str]]:
    sent = [dict(m) for m in messages]
    for position, text in zip(positions, texts, strict=True):
        sent[position]["content"] = text
    return sent
