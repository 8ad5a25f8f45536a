"""Hostile options and outputs for classifiers: thresholds, cascades, judges."""

from __future__ import annotations

import math

import pytest

from redline.classifiers import (
    CascadeClassifier,
    Classifier,
    ClassifierInput,
    Verdict,
    build_classifier,
    create_classifier,
)
from redline.classifiers._specs import apply_option_assignments
from redline.errors import ConfigError
from redline.testing import FakeOpenAIServer

BAD_THRESHOLDS = ["abc", "nan", True, False, math.nan, math.inf, -1, 2, None, [0.5]]


@pytest.mark.parametrize("name", ["toxicity", "pii", "judge"])
@pytest.mark.parametrize("threshold", BAD_THRESHOLDS)
def test_bad_threshold_names_value(name, threshold):
    options = {"threshold": threshold}
    if name == "judge":
        options["target"] = "openai:judge"
    with pytest.raises(ConfigError) as caught:
        build_classifier({"name": name, "options": options})
    message = str(caught.value)
    assert f"{name} threshold must be a number in" in message
    assert repr(threshold)[:3] in message


def test_pii_threshold_one_accepted():
    assert create_classifier("pii", threshold=1).threshold == 1.0


def test_judge_threshold_zero_accepted():
    judge = create_classifier("judge", target="openai:judge", threshold=0)
    assert judge.threshold == 0.0


@pytest.mark.parametrize("timeout_s", ["abc", math.inf, math.nan, 0, -1, True])
def test_judge_bad_timeout_rejected(timeout_s):
    spec = {"name": "judge", "options": {"target": "openai:j", "timeout_s": timeout_s}}
    with pytest.raises(ConfigError, match="judge timeout_s must be a finite number"):
        build_classifier(spec)


class FixedScore(Classifier):
    """Content classifier that gives every text one score, NaN included."""

    name = "fixed-score"
    kind = "content"
    description = "fixed score, for tests"

    def __init__(self, score: float):
        self.score = score

    def classify_batch(self, items):
        return [
            Verdict(self.name, "scored", False, self.score, rationale="fixed")
            for _ in items
        ]


class FlagEverything(Classifier):
    """Content classifier that flags every text with score 1."""

    name = "flag-everything"
    kind = "content"
    description = "flags every text, for tests"

    def classify_batch(self, items):
        return [Verdict(self.name, "flagged", True, 1.0) for _ in items]


def test_cascade_escalates_nan_score():
    cascade = CascadeClassifier(
        [
            {"classifier": FixedScore(math.nan), "escalate": [0.2, 0.8]},
            {"classifier": FlagEverything()},
        ]
    )
    [verdict] = cascade.classify_batch([ClassifierInput("text")])
    assert verdict.tier == "flag-everything"
    assert verdict.flagged


@pytest.fixture(scope="module")
def long_line_judge():
    line = "x" * 1_000_000
    with FakeOpenAIServer(responder=lambda prompt: line) as server:
        yield create_classifier(
            "judge", target="openai:judge", base_url=server.base_url, api_key="k"
        )


def test_judge_long_reply_error_cut(long_line_judge):
    [verdict] = long_line_judge.classify_batch([ClassifierInput("some response")])
    assert verdict.label == "unassessed"
    assert verdict.error.startswith("unparseable judge output: first line 'xxx")
    assert len(verdict.error) < 400


@pytest.mark.parametrize(
    "specs",
    [
        ["refusal", "pii", "pii"],
        ["refusal", {"name": "pii", "options": {"threshold": 0.9}}, "pii"],
    ],
)
def test_repeated_classifier_rejected(specs):
    with pytest.raises(ConfigError, match="classifier 'pii' is listed 2 times"):
        apply_option_assignments(specs, [])
