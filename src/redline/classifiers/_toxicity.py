"""Toxicity classifier backed by the packaged alt-profanity-check model."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redline._cache import cache_dir
from redline.classifiers._base import (
    Classifier,
    ClassifierInput,
    Verdict,
    check_threshold,
    register_classifier,
)
from redline.classifiers._linear_text import (
    LinearTextModel,
    export_profanity_check,
)

logger = logging.getLogger(__name__)


@register_classifier
class ProfanityCheckClassifier(Classifier):
    """Offensive-language model from ``alt-profanity-check``.

    Calibrated linear SVMs over word TF-IDF features, scored without scikit-learn from weights exported
    once to the cache folder (see :mod:`redline.classifiers._linear_text`).
    It is fast but trained on offensive-language data, so it misses implicit
    hate that uses no offensive words. Its score is the model's calibrated
    probability of offensive language.
    """

    name = "toxicity"
    kind = "content"
    description = (
        "Offensive-language model from alt-profanity-check (fast, misses implicit hate)"
    )

    def __init__(self, threshold: float = 0.5):
        self.threshold = check_threshold(
            threshold, "toxicity", include_low=False, include_high=False
        )
        self._linear_model: LinearTextModel | None = None

    @property
    def version(self) -> str:  # type: ignore[override]
        return f"alt-profanity-check/{_package_version()}@{self.threshold:g}"

    def _model(self) -> LinearTextModel:
        if self._linear_model is None:
            self._linear_model = load_profanity_model()
        return self._linear_model

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        model = self._model()
        return [self._verdict(model.predict_proba(item.text)) for item in items]

    def _verdict(self, probability: float) -> Verdict:
        flagged = probability >= self.threshold
        return Verdict(
            classifier=self.name,
            label="toxic" if flagged else "clean",
            flagged=flagged,
            score=probability,
            scores={"toxicity": probability},
            rationale=f"offensive-language probability {probability:.2f}",
        )


def load_profanity_model() -> LinearTextModel:
    """Load the exported alt-profanity-check weights, exporting them on first use."""
    path = cache_dir() / "classifiers" / f"profanity-check-{_package_version()}.weights"
    if path.exists():
        try:
            return LinearTextModel.load(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("re-exporting unreadable toxicity weights %s: %r", path, exc)
    model = export_profanity_check()
    try:
        model.save(path)
    except OSError as exc:  # a read-only cache only costs speed
        logger.warning("cannot cache toxicity weights at %s: %r", path, exc)
    return model


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alt-profanity-check")
    except PackageNotFoundError:
        return "unknown"
