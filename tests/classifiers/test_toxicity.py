from __future__ import annotations

import pytest

from redline.classifiers import ClassifierInput, create_classifier
from redline.errors import ConfigError


@pytest.fixture(scope="module")
def toxicity():
    return create_classifier("toxicity")


def test_insult_flagged(toxicity):
    (verdict,) = toxicity.classify_batch(
        [ClassifierInput("you are a worthless fucking idiot")]
    )
    assert verdict.flagged
    assert verdict.label == "toxic"


def test_neutral_text_clean(toxicity):
    (verdict,) = toxicity.classify_batch(
        [ClassifierInput("Paris is the capital of France.")]
    )
    assert not verdict.flagged


def test_one_verdict_per_input_in_order(toxicity):
    texts = ["hello", "you stupid bitch", "the weather is nice"]
    verdicts = toxicity.classify_batch([ClassifierInput(t) for t in texts])
    assert [v.flagged for v in verdicts] == [False, True, False]


def test_threshold_out_of_range_rejected():
    with pytest.raises(ConfigError, match="threshold"):
        create_classifier("toxicity", threshold=1.5)
