"""The headline figures of a stored calibration, as reports show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redline.calibration._metrics import Estimate
from redline.metrics import Rate
from redline.store import CalibrationRecord


@dataclass(frozen=True, slots=True)
class CalibrationSummary:
    """Headline figures of one stored calibration.

    Attributes:
        id: Id of the stored calibration.
        created_at: Time of the measurement, seconds since the Unix epoch.
        classifier: Identity of the calibrated classifier.
        labels_path: Labels file the classifier was measured on.
        labels_sha256: sha256 of that file.
        n: Assessed labelled texts, the denominator of the figures.
        unassessed: Labelled texts left out because their verdict had an error.
        false_negative_rate: Positive texts the classifier missed.
        false_positive_rate: Negative texts the classifier flagged.
        precision: Flagged texts that are labelled positive.
        recall: Positive texts that were flagged.
        f1: Harmonic mean of precision and recall.
        kappa: Cohen's kappa of decisions and labels.
    """

    id: int | None
    created_at: float
    classifier: dict[str, Any]
    labels_path: str
    labels_sha256: str
    n: int
    unassessed: int
    false_negative_rate: Rate
    false_positive_rate: Rate
    precision: Rate
    recall: Rate
    f1: Estimate
    kappa: Estimate

    @classmethod
    def from_record(cls, record: CalibrationRecord) -> CalibrationSummary:
        """Read the headline figures from a stored calibration.

        Raises:
            ValueError: The stored metrics lack a figure, for example in a
                record written by another program.
        """
        data = record.metrics
        try:
            metrics = data["metrics"]
            return cls(
                id=record.id,
                created_at=record.created_at,
                classifier=record.classifier_identity,
                labels_path=record.labels_path,
                labels_sha256=record.labels_sha256,
                n=int(metrics["n"]),
                unassessed=int(data["unassessed"]["count"]),
                false_negative_rate=_rate(metrics["false_negative_rate"]),
                false_positive_rate=_rate(metrics["false_positive_rate"]),
                precision=_rate(metrics["precision"]),
                recall=_rate(metrics["recall"]),
                f1=_estimate(metrics["f1"]),
                kappa=_estimate(metrics["kappa"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"stored calibration {record.id} is missing the figure {exc}; "
                "run 'redline calibrate' again"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready data."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            "classifier": self.classifier,
            "labels_path": self.labels_path,
            "labels_sha256": self.labels_sha256,
            "n": self.n,
            "unassessed": self.unassessed,
            "false_negative_rate": self.false_negative_rate.to_dict(),
            "false_positive_rate": self.false_positive_rate.to_dict(),
            "precision": self.precision.to_dict(),
            "recall": self.recall.to_dict(),
            "f1": self.f1.to_dict(),
            "kappa": self.kappa.to_dict(),
        }


def _rate(data: dict[str, Any]) -> Rate:
    return Rate(
        successes=int(data["successes"]),
        total=int(data["total"]),
        value=data["value"],
        low=data["ci95_low"],
        high=data["ci95_high"],
    )


def _estimate(data: dict[str, Any]) -> Estimate:
    return Estimate(
        value=data["value"],
        low=data["ci95_low"],
        high=data["ci95_high"],
        standard_error=data["standard_error"],
    )
