from __future__ import annotations

import pytest

from redline.classifiers import ClassifierInput, create_classifier
from redline.classifiers._linear_text import LinearTextModel, export_profanity_check
from redline.classifiers._toxicity import load_profanity_model
from redline.errors import ConfigError
from tests.conftest import SHARED_DATASETS


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


TEXTS = [
    "",
    "Paris is the capital of France.",
    "you are a worthless fucking idiot",
    "I'm sorry, but I can't help with that request.",
    "Step 1: mix the flour. Step 2: add the eggs. " * 40,
    "ÜBER naïve café, 東京 and ... punctuation!!!",
]


def shared_toxigen_texts() -> list[str]:
    folder = SHARED_DATASETS / "toxigen_demonstrations"
    if not folder.is_dir():
        return []
    return [
        line
        for path in sorted(folder.glob("*/*.txt"))
        for line in path.read_text().splitlines()
    ]


def test_fast_scores_equal_scikit_learn():
    from profanity_check import predict_prob

    texts = TEXTS + shared_toxigen_texts()
    model = export_profanity_check()
    expected = predict_prob(texts)
    for text, reference in zip(texts, expected, strict=True):
        assert model.predict_proba(text) == pytest.approx(float(reference), abs=1e-9)


def test_exported_weights_round_trip(tmp_path):
    model = export_profanity_check()
    model.save(tmp_path / "w.weights")
    loaded = LinearTextModel.load(tmp_path / "w.weights")
    assert [loaded.predict_proba(t) for t in TEXTS] == [
        model.predict_proba(t) for t in TEXTS
    ]


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("REDLINE_CACHE_DIR", str(tmp_path))
    load_profanity_model()
    (cached,) = (tmp_path / "classifiers").glob("*.weights")
    cached.write_bytes(b"garbage")
    model = load_profanity_model()
    assert model.predict_proba("you stupid idiot") > 0.5
    assert cached.stat().st_size > 1000
