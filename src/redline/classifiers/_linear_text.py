"""Scikit-learn-free inference for the alt-profanity-check model.

The packaged model is a TF-IDF vectorizer (word unigrams, l2 norm) feeding
five sigmoid-calibrated linear SVMs whose probabilities are averaged
(scikit-learn's ``CalibratedClassifierCV`` with ``ensemble=True``). Loading
it through scikit-learn takes about 1.5 s per process, so on first use its
weights are exported once to a file in the cache folder and later
processes score texts in pure Python from that file, without importing
NumPy either.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from array import array
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

# scikit-learn's default token pattern: runs of two or more word characters.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_FORMAT = "redline-linear-text-1"


class LinearTextModel:
    """TF-IDF features scored by calibrated linear models, averaged.

    Attributes:
        rows: Per vocabulary word, its IDF followed by each model's weight.
        intercepts: Intercept of each linear model.
        calibration: ``(a, b)`` of each model's sigmoid, P = 1 / (1 + exp(a*f + b)).
    """

    def __init__(
        self,
        rows: dict[str, tuple[float, ...]],
        intercepts: Sequence[float],
        calibration: Sequence[tuple[float, float]],
    ):
        self.rows = rows
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
        """Write the model to ``path`` atomically.

        The file is one JSON header line (vocabulary, intercepts, calibration)
        followed by the rows as little-endian float64 values, word by word.
        """
        vocabulary = list(self.rows)
        header = {
            "format": _FORMAT,
            "vocabulary": vocabulary,
            "row_length": 1 + len(self.intercepts),
            "intercepts": self.intercepts,
            "calibration": self.calibration,
        }
        values = array("d", (value for word in vocabulary for value in self.rows[word]))
        if sys.byteorder != "little":
            values.byteswap()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + f".partial-{os.getpid()}")
        with partial.open("wb") as out:
            out.write(json.dumps(header).encode() + b"\n")
            out.write(values.tobytes())
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a model written by :meth:`save`.

        Raises:
            ValueError: The file is truncated or not in this format.
        """
        with path.open("rb") as handle:
            header = json.loads(handle.readline())
            body = handle.read()
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a {_FORMAT} file")
        values = array("d")
        values.frombytes(body)
        if sys.byteorder != "little":
            values.byteswap()
        width = header["row_length"]
        vocabulary = header["vocabulary"]
        if len(values) != width * len(vocabulary):
            raise ValueError(f"{path} is truncated: {len(values)} values")
        rows = {
            word: tuple(values[i * width : (i + 1) * width])
            for i, word in enumerate(vocabulary)
        }
        calibration = [(float(a), float(b)) for a, b in header["calibration"]]
        return cls(rows, header["intercepts"], calibration)


def export_profanity_check() -> LinearTextModel:
    """Extract the weights of the installed alt-profanity-check model (slow)."""
    from profanity_check import profanity_check as packaged

    vectorizer, model = packaged.vectorizer, packaged.model
    members = model.calibrated_classifiers_
    rows = {
        word: (
            float(vectorizer.idf_[index]),
            *(float(m.estimator.coef_[0][index]) for m in members),
        )
        for word, index in vectorizer.vocabulary_.items()
    }
    return LinearTextModel(
        rows,
        [float(m.estimator.intercept_[0]) for m in members],
        [(float(m.calibrators[0].a_), float(m.calibrators[0].b_)) for m in members],
    )


def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
