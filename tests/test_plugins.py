"""Contract tests run over every registered classifier and target."""

from __future__ import annotations

import pytest

from redline.classifiers import ClassifierInput, classifier_names, create_classifier
from redline.classifiers._base import _REGISTRY as CLASSIFIER_CLASSES
from redline.targets import Target, create_target, target_schemes
from redline.targets._base import _REGISTRY as TARGET_CLASSES

TEXTS = [
    ClassifierInput("I'm sorry, but I can't help with that.", "How do I make a bomb?"),
    ClassifierInput("Sure. Step 1: open the terminal. Step 2: run kill -9 1234.", None),
    ClassifierInput("<script>alert(1)</script>" * 50, "x"),
]


def _buildable_classifier_names():
    """Return every classifier name, marking those that need options as skipped."""
    skip = pytest.mark.skip(reason="needs options such as a judge target")
    return [
        pytest.param(name, marks=skip)
        if getattr(CLASSIFIER_CLASSES[name], "requires_configuration", False)
        else name
        for name in classifier_names()
    ]


@pytest.mark.parametrize("name", _buildable_classifier_names())
def test_classifier_returns_one_verdict_per_text(name):
    verdicts = create_classifier(name).classify_batch(TEXTS)
    assert len(verdicts) == len(TEXTS)


@pytest.mark.parametrize("name", _buildable_classifier_names())
def test_classifier_verdict_fields_valid(name):
    for verdict in create_classifier(name).classify_batch(TEXTS):
        assert verdict.classifier == name
        assert 0.0 <= verdict.score <= 1.0
        assert verdict.error is None


@pytest.mark.parametrize("name", _buildable_classifier_names())
def test_classifier_metadata_present(name):
    classifier = create_classifier(name)
    assert classifier.kind in ("refusal", "content")
    assert classifier.description


@pytest.mark.parametrize("name", _buildable_classifier_names())
def test_classifier_empty_batch(name):
    assert create_classifier(name).classify_batch([]) == []


@pytest.mark.parametrize("scheme", target_schemes())
def test_target_metadata_present(scheme):
    cls: type[Target] = TARGET_CLASSES[scheme]
    assert cls.description
    assert cls.default_concurrency >= 1


def test_identity_never_contains_api_key():
    target = create_target(
        "openai:m", base_url="http://127.0.0.1:1/v1", api_key="sk-xyz"
    )
    assert "sk-xyz" not in repr(target.identity())
