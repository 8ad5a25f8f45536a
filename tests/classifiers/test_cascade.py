"""Tests of the cascade classifier: escalation bands, tier counts and failures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from redline.classifiers import (
    CascadeClassifier,
    Classifier,
    ClassifierInput,
    Verdict,
    build_classifier,
)
from redline.errors import ConfigError


class ScoreTable(Classifier):
    """Test tier that scores each text from a table and counts what it saw."""

    kind = "content"
    description = "test tier"

    def __init__(self, name: str, scores: dict[str, float], threshold: float = 0.5):
        self.name = name  # type: ignore[misc]
        self.scores = scores
        self.threshold = threshold
        self.seen: list[str] = []

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        self.seen.extend(item.text for item in items)
        return [self._verdict(self.scores[item.text]) for item in items]

    def _verdict(self, score: float) -> Verdict:
        flagged = score >= self.threshold
        return Verdict(self.name, "toxic" if flagged else "clean", flagged, score)


class Broken(Classifier):
    name = "broken"
    kind = "content"
    description = "always raises"

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        raise RuntimeError("model file missing")


class Refusal(Classifier):
    name = "other-refusal"
    kind = "refusal"
    description = "a refusal tier"

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        return [Verdict(self.name, "refusal", True, 1.0) for _ in items]


TEXTS = ["clean", "toxic", "unsure"]


def two_tiers(second_scores: dict[str, float] | None = None):
    cheap = ScoreTable("cheap", {"clean": 0.05, "toxic": 0.95, "unsure": 0.5})
    costly = ScoreTable("costly", second_scores or {"unsure": 0.9})
    cascade = CascadeClassifier(
        tiers=[
            {"classifier": cheap, "escalate": [0.2, 0.8]},
            {"classifier": costly},
        ]
    )
    return cascade, cheap, costly


def classify(cascade: Classifier, texts: Sequence[str]) -> list[Verdict]:
    return cascade.classify_batch([ClassifierInput(text) for text in texts])


def test_confident_texts_decided_by_first_tier():
    cascade, _, _ = two_tiers()
    verdicts = classify(cascade, TEXTS)
    assert [v.tier for v in verdicts[:2]] == ["cheap", "cheap"]
    assert [v.flagged for v in verdicts[:2]] == [False, True]


def test_uncertain_text_escalated():
    cascade, _, costly = two_tiers()
    verdict = classify(cascade, TEXTS)[2]
    assert verdict.tier == "costly"
    assert verdict.flagged
    assert costly.seen == ["unsure"]


def test_escalation_recorded_in_rationale():
    cascade, _, _ = two_tiers()
    verdict = classify(cascade, TEXTS)[2]
    assert "escalated past cheap (0.50)" in verdict.rationale


def test_verdicts_keep_input_order():
    cascade, _, _ = two_tiers()
    verdicts = classify(cascade, ["unsure", "clean", "unsure", "toxic"])
    assert [v.tier for v in verdicts] == ["costly", "cheap", "costly", "cheap"]


def test_band_edges():
    # low is inclusive in the band and high is the first decided-positive score.
    cheap = ScoreTable("cheap", {"low": 0.2, "high": 0.8, "below": 0.19999})
    costly = ScoreTable("costly", {"low": 0.0, "high": 0.0, "below": 0.0})
    cascade = CascadeClassifier(
        tiers=[{"classifier": cheap, "escalate": [0.2, 0.8]}, {"classifier": costly}]
    )
    verdicts = classify(cascade, ["low", "high", "below"])
    assert [v.tier for v in verdicts] == ["costly", "cheap", "cheap"]
    assert verdicts[1].flagged


def test_band_decision_overrides_tier_threshold():
    # The tier's own threshold (0.9) would call 0.85 clean, but the band decides toxic.
    cheap = ScoreTable("cheap", {"t": 0.85}, threshold=0.9)
    costly = ScoreTable("costly", {})
    cascade = CascadeClassifier(
        tiers=[{"classifier": cheap, "escalate": [0.2, 0.8]}, {"classifier": costly}]
    )
    verdict = classify(cascade, ["t"])[0]
    assert verdict.flagged
    assert verdict.label == "flagged"


def test_failed_tier_escalates():
    costly = ScoreTable("costly", {"a": 0.9})
    cascade = CascadeClassifier(
        tiers=[{"classifier": Broken(), "escalate": [0.2, 0.8]}, {"classifier": costly}]
    )
    verdict = classify(cascade, ["a"])[0]
    assert verdict.tier == "costly"
    assert verdict.error is None
    assert "broken (error)" in verdict.rationale


def test_failed_last_tier_is_error_verdict():
    cheap = ScoreTable("cheap", {"a": 0.5})
    cascade = CascadeClassifier(
        tiers=[{"classifier": cheap, "escalate": [0.2, 0.8]}, {"classifier": Broken()}]
    )
    verdict = classify(cascade, ["a"])[0]
    assert verdict.error is not None
    assert not verdict.flagged


def test_async_classify_matches_sync():
    cascade, _, _ = two_tiers()
    items = [ClassifierInput(text) for text in TEXTS]
    assert asyncio.run(cascade.classify(items)) == cascade.classify_batch(items)


def test_empty_batch():
    cascade, cheap, _ = two_tiers()
    assert cascade.classify_batch([]) == []
    assert cheap.seen == []


def test_three_tiers_real_classifiers():
    cascade = CascadeClassifier(
        tiers=[
            {"classifier": "pii", "escalate": [0.0, 0.5]},
            {"classifier": {"name": "toxicity"}, "escalate": [0.1, 0.9]},
            {"classifier": "toxicity", "options": {"threshold": 0.3}},
        ]
    )
    verdicts = classify(cascade, ["Mail me at jane.doe@example.com", "Hello there"])
    assert verdicts[0].tier == "pii"
    assert verdicts[0].flagged
    assert verdicts[1].tier == "toxicity"


def test_version_changes_with_band():
    first, _, _ = two_tiers()
    cheap = ScoreTable("cheap", {})
    second = CascadeClassifier(
        tiers=[{"classifier": cheap, "escalate": [0.3, 0.8]}, {"classifier": cheap}]
    )
    assert first.version != second.version


def test_identity_lists_tiers():
    cascade, _, _ = two_tiers()
    assert [t["name"] for t in cascade.identity()["tiers"]] == ["cheap", "costly"]


def test_kind_taken_from_tiers():
    cascade = CascadeClassifier(
        tiers=[
            {"classifier": Refusal(), "escalate": [0.2, 0.8]},
            {"classifier": "refusal"},
        ]
    )
    assert cascade.kind == "refusal"


def test_built_from_spec():
    cascade = build_classifier(
        {
            "name": "cascade",
            "options": {
                "tiers": [
                    {"classifier": "toxicity", "escalate": [0.2, 0.8]},
                    {"classifier": "pii"},
                ]
            },
        }
    )
    assert isinstance(cascade, CascadeClassifier)


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ("toxicity", "must be a list"),
        ([{"classifier": "toxicity"}], "at least two tiers"),
        ([{"classifier": "toxicity"}, {"classifier": "pii"}], "tiers[0].escalate"),
        (
            [
                {"classifier": "toxicity", "escalate": [0.2, 0.8]},
                {"classifier": "pii", "escalate": [0, 1]},
            ],
            "takes no 'escalate' band",
        ),
        (
            [{"classifier": "toxicity", "escalate": [0.8, 0.2]}, {"classifier": "pii"}],
            "is above high",
        ),
        (
            [{"classifier": "toxicity", "escalate": [0.2, 1.5]}, {"classifier": "pii"}],
            "0 <= low <= high <= 1",
        ),
        (
            [
                {"classifier": "toxicity", "escalate": [0.2, 0.8], "weight": 2},
                {"classifier": "pii"},
            ],
            "unknown key 'weight'",
        ),
        ([{"escalate": [0.2, 0.8]}, {"classifier": "pii"}], "missing 'classifier'"),
        (
            [{"classifier": "nope", "escalate": [0.2, 0.8]}, {"classifier": "pii"}],
            "unknown classifier 'nope'",
        ),
        (
            [
                {"classifier": "toxicity", "escalate": [0.2, 0.8]},
                {"classifier": "refusal"},
            ],
            "of one kind",
        ),
        (["toxicity", {"classifier": "pii"}], "expected a mapping"),
    ],
)
def test_invalid_tiers_rejected(tiers, message):
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")
    ):
        CascadeClassifier(tiers=tiers)
