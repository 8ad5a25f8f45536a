"""Cascade classifier: cheap tiers first, uncertain texts escalate to costlier ones.

Each tier but the last has an uncertainty band ``[low, high)`` on its score.
A text whose score falls below ``low`` is decided negative and one at or
above ``high`` positive by that tier. A text inside the band, or one the
tier could not judge, goes to the next tier. The last tier decides every
text that reaches it, with its own threshold. The verdict names the tier
that decided in :attr:`Verdict.tier`, so reports can count how many verdicts
each tier decided.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from redline.classifiers._base import (
    Classifier,
    ClassifierInput,
    Verdict,
    classify_batch_or_error,
    classify_or_error,
    register_classifier,
    short_repr,
)
from redline.classifiers._specs import build_classifier
from redline.errors import ConfigError

_TIER_KEYS = frozenset({"classifier", "options", "escalate"})


@dataclass(frozen=True, slots=True)
class Tier:
    """One classifier of a cascade and the score band it escalates.

    Attributes:
        classifier: The tier's classifier.
        escalate: ``(low, high)``: scores in ``[low, high)`` go to the next
            tier. None on the last tier, which decides everything it gets.
    """

    classifier: Classifier
    escalate: tuple[float, float] | None


@register_classifier
class CascadeClassifier(Classifier):
    """Classifier that runs tiers in order and escalates only uncertain texts.

    Args:
        tiers: Tier specs, cheapest first. Each is a mapping with
            ``classifier`` (a name, or a spec mapping with ``name`` and
            ``options``), optional ``options``, and ``escalate: [low, high]``
            on every tier but the last. All tiers must be of the same kind.

    Raises:
        ConfigError: Fewer than two tiers, a tier of another kind, a band
            outside [0, 1] or with low > high, or a band on the last tier.
    """

    name = "cascade"
    kind = "content"
    description = "Runs classifier tiers cheapest first and escalates uncertain texts"
    requires_configuration: ClassVar[bool] = True

    def __init__(self, tiers: Sequence[Mapping[str, Any]]):
        if isinstance(tiers, (str, bytes)) or not isinstance(tiers, Sequence):
            raise ConfigError(
                f"cascade tiers must be a list of tier specs, got {short_repr(tiers)}"
            )
        if len(tiers) < 2:
            raise ConfigError(
                f"a cascade needs at least two tiers, got {len(tiers)}; "
                "use the classifier itself instead"
            )
        self.tiers = [
            _build_tier(spec, index, last=index == len(tiers) - 1)
            for index, spec in enumerate(tiers)
        ]
        kinds = {tier.classifier.kind for tier in self.tiers}
        if len(kinds) != 1:
            described = [(t.classifier.name, t.classifier.kind) for t in self.tiers]
            raise ConfigError(
                f"cascade tiers must all be of one kind, got {described!r}; "
                "cascade refusal detectors and content classifiers separately"
            )
        self.kind = kinds.pop()  # type: ignore[misc]

    @property
    def version(self) -> str:  # type: ignore[override]
        parts = [
            {
                "identity": tier.classifier.identity(),
                "escalate": tier.escalate,
            }
            for tier in self.tiers
        ]
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
        return f"tiers-{digest[:12]}"

    def identity(self) -> dict[str, Any]:  # type: ignore[override]
        identity: dict[str, Any] = dict(super().identity())
        identity["tiers"] = [tier.classifier.identity() for tier in self.tiers]
        return identity

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        state = _CascadeState(items)
        for tier in self.tiers:
            if not state.pending:
                break
            tier_items = state.pending_items()
            state.apply(
                tier, classify_batch_or_error(tier.classifier, tier_items), self._decide
            )
        return state.results()

    async def classify(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        state = _CascadeState(items)
        for tier in self.tiers:
            if not state.pending:
                break
            verdicts = await classify_or_error(tier.classifier, state.pending_items())
            state.apply(tier, verdicts, self._decide)
        return state.results()

    def _decide(self, verdict: Verdict, flagged: bool, trail: Sequence[str]) -> Verdict:
        rationale = verdict.rationale
        if trail:
            rationale = f"{rationale} (escalated past {', '.join(trail)})"
        label = verdict.label
        if verdict.error is None and flagged != verdict.flagged:
            # The band decided against the tier's own threshold.
            label = "flagged" if flagged else "clean"
        return Verdict(
            classifier=self.name,
            label=label,
            flagged=flagged if verdict.error is None else False,
            score=verdict.score,
            scores=dict(verdict.scores),
            rationale=f"{verdict.classifier}: {rationale}".strip(),
            error=verdict.error,
            tier=verdict.classifier,
        )


class _CascadeState:
    """Texts still pending, verdicts decided so far and each text's escalations."""

    def __init__(self, items: Sequence[ClassifierInput]):
        self.items = items
        self.decided: list[Verdict | None] = [None] * len(items)
        self.trail: list[list[str]] = [[] for _ in items]
        self.pending = list(range(len(items)))

    def pending_items(self) -> list[ClassifierInput]:
        return [self.items[i] for i in self.pending]

    def apply(
        self,
        tier: Tier,
        verdicts: Sequence[Verdict],
        decide: Callable[[Verdict, bool, Sequence[str]], Verdict],
    ) -> None:
        still: list[int] = []
        for index, verdict in zip(self.pending, verdicts, strict=True):
            if tier.escalate is None:
                flagged: bool | None = verdict.flagged
            else:
                flagged = _band_decision(verdict, *tier.escalate)
            if flagged is None:
                self.trail[index].append(_escalation_note(verdict))
                still.append(index)
            else:
                self.decided[index] = decide(verdict, flagged, self.trail[index])
        self.pending = still

    def results(self) -> list[Verdict]:
        return [verdict for verdict in self.decided if verdict is not None]


def _band_decision(verdict: Verdict, low: float, high: float) -> bool | None:
    """Return the tier's decision, or None to escalate the text."""
    # A NaN score would fail both comparisons below and read as negative.
    if not math.isfinite(verdict.score):
        return None
    if verdict.error is not None or low <= verdict.score < high:
        return None
    return verdict.score >= high


def _escalation_note(verdict: Verdict) -> str:
    if verdict.error is not None:
        return f"{verdict.classifier} (error)"
    return f"{verdict.classifier} ({verdict.score:.2f})"


def _build_tier(spec: object, index: int, *, last: bool) -> Tier:
    where = f"cascade tiers[{index}]"
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"{where}: expected a mapping with 'classifier' and 'escalate', "
            f"got {short_repr(spec)}"
        )
    unknown = sorted(set(spec) - _TIER_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; a tier has the keys "
            f"{', '.join(sorted(_TIER_KEYS))}"
        )
    classifier_spec = spec.get("classifier")
    if classifier_spec is None:
        raise ConfigError(f"{where}: missing 'classifier'")
    if spec.get("options"):
        if not isinstance(classifier_spec, str):
            raise ConfigError(
                f"{where}: give 'options' either in the tier or in its classifier "
                "mapping, not both"
            )
        classifier_spec = {"name": classifier_spec, "options": spec["options"]}
    classifier = build_classifier(classifier_spec, where=where)
    escalate = _read_band(spec.get("escalate"), where, last=last)
    return Tier(classifier, escalate)


def _read_band(value: object, where: str, *, last: bool) -> tuple[float, float] | None:
    if last:
        if value is not None:
            raise ConfigError(
                f"{where}.escalate: the last tier decides every text it gets, so it "
                "takes no 'escalate' band; remove it or add a tier after it"
            )
        return None
    valid = (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 2
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
            for v in value
        )
    )
    if not valid:
        raise ConfigError(
            f"{where}.escalate: expected [low, high] with 0 <= low <= high <= 1, "
            f"got {short_repr(value)}"
        )
    low, high = float(value[0]), float(value[1])  # type: ignore[index]
    if low > high:
        raise ConfigError(f"{where}.escalate: low {low:g} is above high {high:g}")
    return low, high
