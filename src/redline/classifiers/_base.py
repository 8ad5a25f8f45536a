"""Classifier interface, verdicts and the classifier registry."""

from __future__ import annotations

import abc
import logging
import math
import reprlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, TypeVar

from redline.errors import ConfigError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "redline.classifiers"

# Bounds the repr of a value in error messages. A YAML alias bomb expands to
# billions of items, whose full repr would take minutes and gigabytes.
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 2
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxdict = 4
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 80


@dataclass(frozen=True, slots=True)
class ClassifierInput:
    """A text to classify and, when known, the prompt it answers.

    Attributes:
        text: Model output to classify.
        prompt: The user request that produced ``text``, or None.
    """

    text: str
    prompt: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """One classifier's judgement of one text.

    Attributes:
        classifier: Registry name of the classifier that produced it.
        label: Categorical decision, such as ``refusal`` or ``toxic``.
        flagged: True when the classifier's positive class applies at its
            threshold: a refusal for refusal detectors, harmful content for
            content classifiers.
        score: Score of the positive class in [0, 1].
        scores: Per-category scores in [0, 1], when the classifier has them.
        rationale: Short human-readable reason for the decision.
        error: Why the text could not be judged, or None. A verdict with an
            error has no valid label and must not count as a pass or a fail.
        tier: Name of the classifier that decided, when a cascade passed the
            text through several tiers; None for a single classifier.
    """

    classifier: str
    label: str
    flagged: bool
    score: float
    scores: dict[str, float] = field(default_factory=dict)
    rationale: str = ""
    error: str | None = None
    tier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the verdict as JSON-ready data."""
        data: dict[str, Any] = {
            "classifier": self.classifier,
            "label": self.label,
            "flagged": self.flagged,
            "score": round(self.score, 6),
        }
        if self.scores:
            data["scores"] = {k: round(v, 6) for k, v in self.scores.items()}
        if self.rationale:
            data["rationale"] = self.rationale
        if self.error:
            data["error"] = self.error
        if self.tier:
            data["tier"] = self.tier
        return data


class Classifier(abc.ABC):
    """Base class of every classifier.

    Subclasses set :attr:`name` and :attr:`kind` and implement
    :meth:`classify_batch`. They must return exactly one verdict per input,
    in input order, and report a text they cannot judge as a verdict with
    ``error`` set rather than raising.
    """

    name: ClassVar[str]
    """Registry name, used on the command line."""
    kind: ClassVar[str]
    """``refusal`` for detectors of refusals, ``content`` for harmful-content classifiers."""
    description: ClassVar[str] = ""
    """One-line description for listings."""
    version: ClassVar[str] = "1"
    """Version of the classifier's logic or weights, stored with each run."""

    @abc.abstractmethod
    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        """Judge a batch of texts synchronously; one verdict per input."""

    async def classify(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        """Judge a batch of texts; the default runs :meth:`classify_batch` inline."""
        return self.classify_batch(items)

    def identity(self) -> dict[str, str]:
        """Return what identifies this classifier's behaviour in stored runs."""
        return {"name": self.name, "kind": self.kind, "version": self.version}


async def classify_or_error(
    classifier: Classifier, items: Sequence[ClassifierInput]
) -> list[Verdict]:
    """Run a classifier over a batch; a crash or a wrong count gives error verdicts.

    A plugin may fail in any way, and the caller must still get one verdict
    per text, so the texts count as unassessed instead of stopping the run.
    """
    if not items:
        return []
    try:
        verdicts = await classifier.classify(items)
        _check_verdict_count(verdicts, items)
    except Exception as exc:  # a plugin may fail in any way
        return _error_verdicts(classifier, items, exc)
    return list(verdicts)


def classify_batch_or_error(
    classifier: Classifier, items: Sequence[ClassifierInput]
) -> list[Verdict]:
    """Synchronous form of :func:`classify_or_error`."""
    if not items:
        return []
    try:
        verdicts = classifier.classify_batch(items)
        _check_verdict_count(verdicts, items)
    except Exception as exc:  # a plugin may fail in any way
        return _error_verdicts(classifier, items, exc)
    return list(verdicts)


def _check_verdict_count(
    verdicts: Sequence[Verdict], items: Sequence[ClassifierInput]
) -> None:
    if len(verdicts) != len(items):
        raise ValueError(f"returned {len(verdicts)} verdicts for {len(items)} texts")


def _error_verdicts(
    classifier: Classifier, items: Sequence[ClassifierInput], exc: Exception
) -> list[Verdict]:
    logger.warning(
        "classifier %s failed on a batch of %d: %r", classifier.name, len(items), exc
    )
    return [
        Verdict(classifier.name, "unassessed", False, 0.0, error=f"{exc!r:.300}")
        for _ in items
    ]


ClassifierT = TypeVar("ClassifierT", bound=type[Classifier])
_REGISTRY: dict[str, type[Classifier]] = {}


def register_classifier(cls: ClassifierT) -> ClassifierT:
    """Class decorator that adds a classifier to the registry under its name."""
    _REGISTRY[cls.name] = cls
    return cls


def classifier_names() -> list[str]:
    """Return the names of all registered classifiers, plugins included."""
    _load_entry_points()
    return sorted(_REGISTRY)


def create_classifier(name: str, **options: Any) -> Classifier:
    """Build a registered classifier by name.

    Raises:
        ConfigError: No classifier has that name.
    """
    _load_entry_points()
    try:
        factory: Callable[..., Classifier] = _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown classifier {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        ) from None
    return factory(**options)


_entry_points_loaded = False


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        entry_point.load()


def short_repr(value: object) -> str:
    """Return the repr of ``value`` cut to a few items, levels and characters."""
    return _SHORT_REPR.repr(value)


def check_threshold(
    value: object, classifier: str, *, include_low: bool, include_high: bool
) -> float:
    """Return a classifier threshold as a float after checking its range.

    Raises:
        ConfigError: The value is a bool, not a number, NaN, or outside the
            interval given by ``include_low`` and ``include_high``.
    """
    low, high = ("[" if include_low else "("), ("]" if include_high else ")")
    valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    if valid:
        number = float(value)  # type: ignore[arg-type]
        above_low = number >= 0.0 if include_low else number > 0.0
        below_high = number <= 1.0 if include_high else number < 1.0
        valid = math.isfinite(number) and above_low and below_high
    if not valid:
        raise ConfigError(
            f"{classifier} threshold must be a number in {low}0, 1{high}, got "
            f"{short_repr(value)}; pass a decimal such as 0.5"
        )
    return number
