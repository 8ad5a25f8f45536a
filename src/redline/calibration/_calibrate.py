"""Run a classifier over human-labelled texts and measure how it agrees."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redline
from redline.calibration._labels import LabelColumns, LabelledText, read_labels
from redline.calibration._metrics import (
    CalibrationMetrics,
    Prediction,
    ThresholdChoice,
    compute_metrics,
    threshold_for_fnr,
)
from redline.classifiers import Classifier, ClassifierInput, Verdict
from redline.errors import RedlineError
from redline.store import CalibrationRecord

logger = logging.getLogger(__name__)

CALIBRATION_FORMAT_VERSION = "1.0"
DEFAULT_BATCH_SIZE = 32
DEFAULT_TARGET_FNR = 0.05
# The result keeps this many distinct unassessed reasons and only counts the rest.
_MAX_REASONS = 20


class CalibrationError(RedlineError, RuntimeError):
    """A classifier that broke its contract while being calibrated."""


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """A classifier's agreement with one set of human labels.

    Attributes:
        classifier: Identity of the classifier (name, kind, version, ...).
        labels_path: Absolute path of the labels file, or ``"(in memory)"``.
        labels_sha256: sha256 of the file's bytes, or of the rows passed in.
        rows: Labelled rows read.
        unassessed: Rows whose verdict had an error or a non-finite score.
            They are left out of every metric, never counted as agreement
            or disagreement.
        unassessed_reasons: Count per reason, for at most 20 distinct reasons.
        metrics: Figures over the assessed rows.
        threshold: Highest score threshold meeting the target false-negative rate.
        created_at: Time of the measurement, seconds since the Unix epoch.
        redline_version: redline version that measured it.
    """

    classifier: dict[str, Any]
    labels_path: str
    labels_sha256: str
    rows: int
    unassessed: int
    unassessed_reasons: dict[str, int]
    metrics: CalibrationMetrics
    threshold: ThresholdChoice
    created_at: float = field(default_factory=time.time)
    redline_version: str = field(default_factory=lambda: _redline_version())

    @property
    def assessed(self) -> int:
        """Rows that count in the metrics."""
        return self.rows - self.unassessed

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return {
            "format_version": CALIBRATION_FORMAT_VERSION,
            "classifier": self.classifier,
            "labels": {
                "path": self.labels_path,
                "sha256": self.labels_sha256,
                "rows": self.rows,
            },
            "assessed": self.assessed,
            "unassessed": {
                "count": self.unassessed,
                "reasons": dict(self.unassessed_reasons),
            },
            "metrics": self.metrics.to_dict(),
            "threshold_for_target_fnr": self.threshold.to_dict(),
            "created_at": self.created_at,
            "redline_version": self.redline_version,
        }

    def to_record(self) -> CalibrationRecord:
        """Return the result as a record for :meth:`Store.add_calibration`."""
        return CalibrationRecord(
            created_at=self.created_at,
            classifier_name=str(self.classifier["name"]),
            classifier_version=str(self.classifier["version"]),
            classifier_identity=self.classifier,
            labels_path=self.labels_path,
            labels_sha256=self.labels_sha256,
            row_count=self.rows,
            metrics=self.to_dict(),
            redline_version=self.redline_version,
        )


def calibrate(
    classifier: Classifier,
    labels: str | Path | Sequence[LabelledText],
    *,
    columns: LabelColumns | None = None,
    target_fnr: float = DEFAULT_TARGET_FNR,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> CalibrationResult:
    """Measure ``classifier`` against human labels.

    Runs :func:`acalibrate` in a new event loop, so it cannot be called from
    a running loop; await :func:`acalibrate` there.
    """
    return asyncio.run(
        acalibrate(
            classifier,
            labels,
            columns=columns,
            target_fnr=target_fnr,
            batch_size=batch_size,
        )
    )


async def acalibrate(
    classifier: Classifier,
    labels: str | Path | Sequence[LabelledText],
    *,
    columns: LabelColumns | None = None,
    target_fnr: float = DEFAULT_TARGET_FNR,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> CalibrationResult:
    """Measure ``classifier`` against human labels.

    The classifier's ``flagged`` decision is the positive class and
    ``Verdict.score`` its score. Texts go to :meth:`Classifier.classify` in
    batches of ``batch_size``.

    Args:
        classifier: A built classifier.
        labels: A CSV, TSV or JSONL labels file, or rows already read.
        columns: How to read the file; ignored for rows passed in.
        target_fnr: False-negative rate to find a score threshold for.
        batch_size: Texts per call to the classifier.

    Raises:
        LabelsError: The labels file is missing or invalid.
        CalibrationError: The classifier returned the wrong number of verdicts.
        ValueError: ``target_fnr`` is outside [0, 1] or ``batch_size`` below 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    if not 0.0 <= target_fnr <= 1.0:
        raise ValueError(
            f"target false-negative rate must be in [0, 1], got {target_fnr!r}"
        )
    if isinstance(labels, (str, Path)):
        rows = read_labels(labels, columns)
        labels_path = str(Path(labels).resolve())
        digest = _file_sha256(Path(labels))
    else:
        rows = list(labels)
        labels_path, digest = "(in memory)", _rows_sha256(rows)

    logger.info(
        "calibrating %s on %d labelled texts from %s",
        classifier.name,
        len(rows),
        labels_path,
    )
    verdicts = await _classify_all(classifier, rows, batch_size)

    predictions: list[Prediction] = []
    reasons: Counter[str] = Counter()
    for row, verdict in zip(rows, verdicts, strict=True):
        reason = _unassessed_reason(verdict)
        if reason is None:
            predictions.append(Prediction(row.positive, verdict.score, verdict.flagged))
        else:
            reasons[reason] += 1
    unassessed = sum(reasons.values())
    if unassessed:
        logger.warning(
            "%d of %d verdicts of %s had errors and are left out of the metrics",
            unassessed,
            len(rows),
            classifier.name,
        )
    return CalibrationResult(
        classifier=dict(classifier.identity()),
        labels_path=labels_path,
        labels_sha256=digest,
        rows=len(rows),
        unassessed=unassessed,
        unassessed_reasons=dict(reasons.most_common(_MAX_REASONS)),
        metrics=compute_metrics(predictions),
        threshold=threshold_for_fnr(predictions, target_fnr),
    )


async def _classify_all(
    classifier: Classifier, rows: Sequence[LabelledText], batch_size: int
) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for start in range(0, len(rows), batch_size):
        batch = [
            ClassifierInput(row.text, row.prompt)
            for row in rows[start : start + batch_size]
        ]
        result = await classifier.classify(batch)
        if len(result) != len(batch):
            raise CalibrationError(
                f"classifier {classifier.name!r} returned {len(result)} verdict(s) "
                f"for a batch of {len(batch)} texts, but it must return one verdict "
                "per text; fix the classifier's classify method"
            )
        verdicts.extend(result)
        logger.debug("classified %d of %d texts", len(verdicts), len(rows))
    return verdicts


def _redline_version() -> str:
    return redline.__version__


def _unassessed_reason(verdict: Verdict) -> str | None:
    if verdict.error:
        return verdict.error
    if not math.isfinite(verdict.score):
        return f"score {verdict.score!r} is not a finite number"
    return None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _rows_sha256(rows: Sequence[LabelledText]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        line = json.dumps([row.text, row.positive, row.prompt], ensure_ascii=False)
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()
