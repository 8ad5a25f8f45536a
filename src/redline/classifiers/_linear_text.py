"""Scikit-learn-free inference for the alt-profanity-check model.

The packaged model is a TF-IDF vectorizer (word unigrams, l2 norm) feeding
five sigmoid-calibrated linear SVMs whose probabilities are averaged
(scikit-learn's ``CalibratedClassifierCV`` with ``ensemble=True``). Loading
it through scikit-learn takes about 1.5 s per process, so on first use its
weights are exported once to a NumPy file in the cache folder and later
processes score texts in pure Python from that file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# scikit-learn's default token pattern: runs of two or more word characters.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


class LinearTextModel:
    """TF-IDF features scored by calibrated linear models, averaged.

    Attributes:
        rows: Per vocabulary word, its IDF followed by each model's weight.
        intercepts: Intercept of each linear model.
        calibration: ``(a, b)`` of each model's sigmoid, P = 1 / (1 + exp(a*f + b)).
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        weights: np.ndarray,
        intercepts: np.ndarray,
        calibration: np.ndarray,
    ):
        self.rows = {
            word: (float(idf[i]), *(float(w) for w in weights[:, i]))
            for i, word in enumerate(vocabulary)
        }
        self.intercepts = [float(b) for b in intercepts]
        self.calibration = [(float(a), float(b)) for a, b in calibration]

    def predict_proba(self, text: str) -> float:
        """Return the averaged calibrated probability of the positive class."""
        counts = Counter(_TOKEN.findall(text.lower()))
        models = len(self.intercepts)
        scores = [0.0] * models
        squared_norm = 0.0
        for word, count in counts.items():
            row = self.rows.get(word)
            if row is None:
                continue
            value = count * row[0]
            squared_norm += value * value
            for m in range(models):
                scores[m] += value * row[m + 1]
        norm = math.sqrt(squared_norm) or 1.0
        total = 0.0
        for m in range(models):
            decision = scores[m] / norm + self.intercepts[m]
            a, b = self.calibration[m]
            total += _expit(-(a * decision + b))
        return total / models

    def save(self, path: Path) -> None:
        """Write the model to ``path`` (an ``.npz`` file) atomically."""
        vocabulary = list(self.rows)
        table = np.array([self.rows[word] for word in vocabulary], dtype=np.float64)
        partial = path.with_name(path.name + f".partial-{os.getpid()}.npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            partial,
            vocabulary=np.array(json.dumps(vocabulary)),
            idf=table[:, 0],
            weights=table[:, 1:].T,
            intercepts=np.array(self.intercepts),
            calibration=np.array(self.calibration),
        )
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a model written by :meth:`save`."""
        with np.load(path) as data:
            return cls(
                json.loads(str(data["vocabulary"])),
                data["idf"],
                data["weights"],
                data["intercepts"],
                data["calibration"],
            )


def export_profanity_check() -> LinearTextModel:
    """Extract the weights of the installed alt-profanity-check model (slow)."""
    from profanity_check import profanity_check as packaged

    vectorizer, model = packaged.vectorizer, packaged.model
    vocabulary = [""] * len(vectorizer.vocabulary_)
    for word, index in vectorizer.vocabulary_.items():
        vocabulary[index] = word
    members = model.calibrated_classifiers_
    return LinearTextModel(
        vocabulary,
        vectorizer.idf_,
        np.vstack([m.estimator.coef_[0] for m in members]),
        np.array([m.estimator.intercept_[0] for m in members]),
        np.array([(m.calibrators[0].a_, m.calibrators[0].b_) for m in members]),
    )


def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
