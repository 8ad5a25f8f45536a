"""Agreement of a binary classifier with human labels, with intervals.

Every figure comes from ``(label, score, flagged)`` predictions: the human
label (True for the positive class), the classifier's score of the positive
class, and its own decision. The confusion matrix, the rates, F1 and Cohen's
kappa use the decision. ROC-AUC, average precision and the threshold sweep use
the score, and count a text as positive at threshold ``t`` when its score is
at least ``t``.

A figure that the data cannot define, such as recall with no positive labels,
is None and its reason is stored in :attr:`CalibrationMetrics.undefined`. It
is never reported as 0.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from redline.metrics import Z_95, Rate, wilson

# Thresholds of the compact sweep when the scores take many distinct values.
SWEEP_GRID = tuple(round(step / 20, 2) for step in range(21))
# Up to this many distinct scores, the sweep lists every one of them instead.
SWEEP_MAX_DISTINCT = len(SWEEP_GRID)

# The metrics cover assessed texts only, so a positive text with an error
# verdict does not count here.
_NO_POSITIVES = "no assessed text is labelled positive"
_NO_NEGATIVES = "no assessed text is labelled negative"
_NO_TEXTS = "no assessed texts"


class Prediction(NamedTuple):
    """One labelled text as the classifier judged it.

    Attributes:
        positive: True when the human label is the positive class.
        score: The classifier's score of the positive class.
        flagged: True when the classifier decided the positive class.
    """

    positive: bool
    score: float
    flagged: bool


@dataclass(frozen=True, slots=True)
class ConfusionMatrix:
    """Counts of decisions against labels, with the flagged class as positive.

    Attributes:
        tp: Labelled positive and flagged.
        fp: Labelled negative but flagged.
        tn: Labelled negative and not flagged.
        fn: Labelled positive but not flagged, the misses.
    """

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    @property
    def positives(self) -> int:
        """Texts labelled positive."""
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        """Texts labelled negative."""
        return self.tn + self.fp

    @property
    def total(self) -> int:
        """All counted texts."""
        return self.positives + self.negatives

    def precision(self) -> Rate:
        """Return TP / (TP + FP) with its Wilson interval."""
        return wilson(self.tp, self.tp + self.fp)

    def recall(self) -> Rate:
        """Return TP / (TP + FN) with its Wilson interval."""
        return wilson(self.tp, self.positives)

    def false_negative_rate(self) -> Rate:
        """Return FN / (TP + FN) with its Wilson interval."""
        return wilson(self.fn, self.positives)

    def false_positive_rate(self) -> Rate:
        """Return FP / (FP + TN) with its Wilson interval."""
        return wilson(self.fp, self.negatives)

    def accuracy(self) -> Rate:
        """Return (TP + TN) / total with its Wilson interval."""
        return wilson(self.tp + self.tn, self.total)

    def to_dict(self) -> dict[str, int]:
        """Return the counts as JSON-ready data."""
        return {"tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn}


@dataclass(frozen=True, slots=True)
class Estimate:
    """A statistic that is not a plain proportion, with an optional 95% interval.

    Attributes:
        value: The estimate, or None when the data cannot define it.
        low: Lower bound of the 95% interval, when the statistic has one.
        high: Upper bound of the 95% interval, when the statistic has one.
        standard_error: Asymptotic standard error, when known.
    """

    value: float | None
    low: float | None = None
    high: float | None = None
    standard_error: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """Return the estimate as JSON-ready data."""
        return {
            "value": self.value,
            "ci95_low": self.low,
            "ci95_high": self.high,
            "standard_error": self.standard_error,
        }

    def format(self, percent: bool = False) -> str:
        """Return ``"0.812 [0.741, 0.883]"`` (or in percent), or ``"n/a"``."""
        if self.value is None:
            return "n/a"

        def show(number: float) -> str:
            text = f"{number * 100:.1f}" if percent else f"{number:.3f}"
            # Round-off such as -1e-17 would otherwise print as "-0.000".
            return text.lstrip("-") if float(text) == 0 else text

        text = show(self.value) + ("%" if percent else "")
        if self.low is None or self.high is None:
            return text
        return f"{text} [{show(self.low)}, {show(self.high)}]"


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """Agreement when texts with a score at or above ``threshold`` count as flagged.

    Attributes:
        threshold: Lowest score counted as positive.
        confusion: Counts at this threshold.
    """

    threshold: float
    confusion: ConfusionMatrix

    def to_dict(self) -> dict[str, Any]:
        """Return the point as JSON-ready data, with None for undefined rates."""
        confusion = self.confusion
        return {
            "threshold": self.threshold,
            **confusion.to_dict(),
            "precision": confusion.precision().value,
            "recall": confusion.recall().value,
            "false_negative_rate": confusion.false_negative_rate().value,
            "false_positive_rate": confusion.false_positive_rate().value,
        }


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The score threshold found for a target false-negative rate.

    Attributes:
        target_fnr: Largest false-negative rate allowed.
        point: The highest threshold whose false-negative rate is at most
            the target, with its counts, or None when there is none.
        reason: Why no threshold was found, or None.
    """

    target_fnr: float
    point: SweepPoint | None
    reason: str | None = None

    @property
    def threshold(self) -> float | None:
        """The chosen threshold, or None."""
        return None if self.point is None else self.point.threshold

    def to_dict(self) -> dict[str, Any]:
        """Return the choice as JSON-ready data."""
        point = None if self.point is None else self.point.to_dict()
        return {"target_fnr": self.target_fnr, "point": point, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CalibrationMetrics:
    """Every figure of a classifier against human labels.

    Attributes:
        confusion: Decisions against labels.
        precision: Flagged texts that are labelled positive.
        recall: Positive texts that were flagged.
        f1: Harmonic mean of precision and recall, with an interval from the
            Wilson interval of TP / (TP + FP + FN).
        accuracy: Texts whose decision matches the label.
        false_negative_rate: Positive texts that were not flagged.
        false_positive_rate: Negative texts that were flagged.
        kappa: Cohen's kappa of decisions and labels.
        roc_auc: Area under the ROC curve of the scores, ties counted half.
        average_precision: Step-wise area under the precision-recall curve.
        sweep: Agreement at a few score thresholds, ascending.
        undefined: Reason for each figure that is None, by field name.
    """

    confusion: ConfusionMatrix
    precision: Rate
    recall: Rate
    f1: Estimate
    accuracy: Rate
    false_negative_rate: Rate
    false_positive_rate: Rate
    kappa: Estimate
    roc_auc: Estimate
    average_precision: Estimate
    sweep: list[SweepPoint] = field(default_factory=list)
    undefined: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as JSON-ready data."""
        return {
            "confusion": self.confusion.to_dict(),
            "n": self.confusion.total,
            "precision": self.precision.to_dict(),
            "recall": self.recall.to_dict(),
            "f1": self.f1.to_dict(),
            "accuracy": self.accuracy.to_dict(),
            "false_negative_rate": self.false_negative_rate.to_dict(),
            "false_positive_rate": self.false_positive_rate.to_dict(),
            "kappa": self.kappa.to_dict(),
            "roc_auc": self.roc_auc.to_dict(),
            "average_precision": self.average_precision.to_dict(),
            "sweep": [point.to_dict() for point in self.sweep],
            "undefined": dict(self.undefined),
        }


def compute_metrics(
    predictions: Iterable[Prediction | tuple[bool, float, bool]],
    sweep_thresholds: Sequence[float] | None = None,
) -> CalibrationMetrics:
    """Compute every calibration figure from labelled predictions.

    Args:
        predictions: ``(label, score, flagged)`` for each assessed text.
        sweep_thresholds: Thresholds of :attr:`CalibrationMetrics.sweep`.
            None lists every distinct score when there are at most
            ``SWEEP_MAX_DISTINCT`` of them, else ``SWEEP_GRID``.

    Raises:
        ValueError: A score is NaN or infinite.
    """
    items = _checked(predictions)
    confusion = confusion_matrix(items)
    if sweep_thresholds is None:
        sweep_thresholds = default_sweep_thresholds(item.score for item in items)
    metrics = CalibrationMetrics(
        confusion=confusion,
        precision=confusion.precision(),
        recall=confusion.recall(),
        f1=f1_score(confusion),
        accuracy=confusion.accuracy(),
        false_negative_rate=confusion.false_negative_rate(),
        false_positive_rate=confusion.false_positive_rate(),
        kappa=cohen_kappa(confusion),
        roc_auc=Estimate(roc_auc(items)),
        average_precision=Estimate(average_precision(items)),
        sweep=threshold_sweep(items, sweep_thresholds),
    )
    metrics.undefined.update(_undefined_reasons(metrics))
    return metrics


def confusion_matrix(
    predictions: Iterable[Prediction | tuple[bool, float, bool]],
) -> ConfusionMatrix:
    """Count the classifier's decisions against the labels."""
    counts = {(True, True): 0, (False, True): 0, (False, False): 0, (True, False): 0}
    for positive, _, flagged in predictions:
        counts[(bool(positive), bool(flagged))] += 1
    return ConfusionMatrix(
        tp=counts[(True, True)],
        fp=counts[(False, True)],
        tn=counts[(False, False)],
        fn=counts[(True, False)],
    )


def f1_score(confusion: ConfusionMatrix, z: float = Z_95) -> Estimate:
    """Return F1 = 2 TP / (2 TP + FP + FN) with an interval, or None when undefined.

    F1 is a monotone function of J = TP / (TP + FP + FN), namely 2 J / (1 + J).
    Given TP + FP + FN, TP is binomial with rate J when texts are drawn
    independently, so the Wilson interval of J maps to an interval of F1.
    """
    rate = wilson(confusion.tp, confusion.tp + confusion.fp + confusion.fn, z)
    if rate.value is None or rate.low is None or rate.high is None:
        return Estimate(None)

    def from_jaccard(j: float) -> float:
        return 2 * j / (1 + j)

    return Estimate(
        from_jaccard(rate.value), from_jaccard(rate.low), from_jaccard(rate.high)
    )


def cohen_kappa(confusion: ConfusionMatrix, z: float = Z_95) -> Estimate:
    """Return Cohen's kappa of decisions and labels with its standard error.

    kappa = (p_o - p_e) / (1 - p_e), with p_o the observed agreement and p_e
    the agreement expected by chance from the two marginals (Cohen, 1960).
    The standard error is the large-sample one of Fleiss, Cohen and Everitt
    (1969), and the tests check it against the spread of kappa over
    simulated samples. The interval is kappa +/- z SE, clipped to [-1, 1].
    Kappa is None when p_e is 1, which happens when the labels and the
    decisions are all of one and the same class.

    NOTE: at perfect agreement the standard error is 0 and the interval
    collapses to [1, 1], which overstates certainty for small samples.
    """
    n = confusion.total
    if n == 0:
        return Estimate(None)
    # cells[label][decision] are proportions, and index 1 is the positive class.
    cells = [
        [confusion.tn / n, confusion.fp / n],
        [confusion.fn / n, confusion.tp / n],
    ]
    label_share = [sum(row) for row in cells]
    decision_share = [cells[0][j] + cells[1][j] for j in range(2)]
    observed = cells[0][0] + cells[1][1]
    chance = sum(label_share[i] * decision_share[i] for i in range(2))
    if chance >= 1.0:
        return Estimate(None)
    kappa = (observed - chance) / (1 - chance)

    diagonal = sum(
        cells[i][i] * (1 - (label_share[i] + decision_share[i]) * (1 - kappa)) ** 2
        for i in range(2)
    )
    off_diagonal = (1 - kappa) ** 2 * sum(
        cells[i][j] * (decision_share[i] + label_share[j]) ** 2
        for i in range(2)
        for j in range(2)
        if i != j
    )
    correction = (kappa - chance * (1 - kappa)) ** 2
    variance = (diagonal + off_diagonal - correction) / (n * (1 - chance) ** 2)
    # Round-off can make a zero variance slightly negative.
    standard_error = math.sqrt(max(variance, 0.0))
    return Estimate(
        kappa,
        max(-1.0, kappa - z * standard_error),
        min(1.0, kappa + z * standard_error),
        standard_error,
    )


def roc_auc(
    predictions: Iterable[Prediction | tuple[bool, float, bool]],
) -> float | None:
    """Return the area under the ROC curve, or None without both classes.

    This is the Mann-Whitney probability that a random positive text scores
    above a random negative one, a tie counting one half, which equals the
    trapezoidal area under the ROC curve.
    """
    predictions = _checked(predictions)
    positives = sum(1 for item in predictions if item.positive)
    negatives = len(predictions) - positives
    if positives == 0 or negatives == 0:
        return None
    ordered = sorted(predictions, key=lambda item: item.score)
    positive_rank_sum = 0.0
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1].score == ordered[start].score:
            end += 1
        # Tied scores share the mean of their 1-based ranks.
        mean_rank = (start + end) / 2 + 1
        positive_rank_sum += mean_rank * sum(
            1 for item in ordered[start : end + 1] if item.positive
        )
        start = end + 1
    return (positive_rank_sum - positives * (positives + 1) / 2) / (
        positives * negatives
    )


def average_precision(
    predictions: Iterable[Prediction | tuple[bool, float, bool]],
) -> float | None:
    """Return the step-wise area under the precision-recall curve.

    AP = sum over distinct thresholds, descending, of (R_k - R_(k-1)) * P_k,
    where P_k and R_k are precision and recall with every text scoring at
    least the k-th threshold counted positive. There is no interpolation
    between points, the same definition as scikit-learn's
    ``average_precision_score``. None when no text is labelled positive.
    """
    predictions = _checked(predictions)
    positives = sum(1 for item in predictions if item.positive)
    if positives == 0:
        return None
    total = 0.0
    previous_recall = 0.0
    for point in _descending_points(predictions):
        recall = point.tp / positives
        total += (recall - previous_recall) * point.tp / (point.tp + point.fp)
        previous_recall = recall
    return total


def threshold_sweep(
    predictions: Iterable[Prediction | tuple[bool, float, bool]],
    thresholds: Iterable[float],
) -> list[SweepPoint]:
    """Return the counts at each threshold, in ascending threshold order."""
    predictions = _checked(predictions)
    positive_scores = sorted(item.score for item in predictions if item.positive)
    negative_scores = sorted(item.score for item in predictions if not item.positive)
    points = []
    for threshold in sorted(set(thresholds)):
        # Scores at or above the threshold count as flagged.
        fn = bisect.bisect_left(positive_scores, threshold)
        tn = bisect.bisect_left(negative_scores, threshold)
        confusion = ConfusionMatrix(
            tp=len(positive_scores) - fn, fp=len(negative_scores) - tn, tn=tn, fn=fn
        )
        points.append(SweepPoint(threshold, confusion))
    return points


def default_sweep_thresholds(scores: Iterable[float]) -> list[float]:
    """Return the distinct scores when there are few, else ``SWEEP_GRID``."""
    distinct = sorted(set(scores))
    if len(distinct) <= SWEEP_MAX_DISTINCT:
        return distinct
    return list(SWEEP_GRID)


def threshold_for_fnr(
    predictions: Iterable[Prediction | tuple[bool, float, bool]], target: float
) -> ThresholdChoice:
    """Find the highest score threshold whose false-negative rate is at most ``target``.

    Only distinct scores are candidates, because the counts change only
    there. The false-negative rate rises with the threshold and is 0 at the
    lowest score, where every text counts as flagged, so a threshold exists
    whenever some text is labelled positive. Without positive texts the
    rate is undefined and the choice has no point and a reason. The choice
    is made on the point estimate; the Wilson interval of the rate at the
    chosen threshold shows how far it can be trusted.

    Raises:
        ValueError: ``target`` is outside [0, 1] or a score is not finite.
    """
    if not 0.0 <= target <= 1.0:
        raise ValueError(
            f"target false-negative rate must be in [0, 1], got {target!r}"
        )
    items = _checked(predictions)
    if not any(item.positive for item in items):
        return ThresholdChoice(
            target, None, f"{_NO_POSITIVES}, so the false-negative rate is undefined"
        )
    points = threshold_sweep(items, {item.score for item in items})
    for point in reversed(points):
        # The tolerance keeps round-off in target * positives from moving the pick.
        if point.confusion.fn <= target * point.confusion.positives + 1e-9:
            return ThresholdChoice(target, point)
    # Unreachable: the lowest score flags every text, so its FNR is 0.
    raise AssertionError("no threshold reaches a false-negative rate of 0")


def _descending_points(predictions: Sequence[Prediction]) -> list[ConfusionMatrix]:
    """Return cumulative counts at each distinct score, from the highest down."""
    ordered = sorted(predictions, key=lambda item: item.score, reverse=True)
    positives = sum(1 for item in ordered if item.positive)
    negatives = len(ordered) - positives
    points = []
    tp = fp = 0
    for index, item in enumerate(ordered):
        if item.positive:
            tp += 1
        else:
            fp += 1
        is_last_of_score = (
            index + 1 == len(ordered) or ordered[index + 1].score != item.score
        )
        if is_last_of_score:
            points.append(
                ConfusionMatrix(tp=tp, fp=fp, tn=negatives - fp, fn=positives - tp)
            )
    return points


def _checked(
    predictions: Iterable[Prediction | tuple[bool, float, bool]],
) -> list[Prediction]:
    items = []
    for positive, score, flagged in predictions:
        score = float(score)
        if not math.isfinite(score):
            raise ValueError(
                f"score {score!r} is not a finite number; count the text as "
                "unassessed instead"
            )
        items.append(Prediction(bool(positive), score, bool(flagged)))
    return items


def _undefined_reasons(metrics: CalibrationMetrics) -> dict[str, str]:
    confusion = metrics.confusion
    if confusion.total == 0:
        return {
            name: _NO_TEXTS
            for name in (
                "precision",
                "recall",
                "f1",
                "accuracy",
                "false_negative_rate",
                "false_positive_rate",
                "kappa",
                "roc_auc",
                "average_precision",
            )
        }
    reasons = {}
    if confusion.positives == 0:
        for name in ("recall", "false_negative_rate", "average_precision"):
            reasons[name] = _NO_POSITIVES
    if confusion.negatives == 0:
        reasons["false_positive_rate"] = _NO_NEGATIVES
    if confusion.positives == 0 or confusion.negatives == 0:
        reasons["roc_auc"] = "needs texts labelled positive and negative; " + (
            _NO_POSITIVES if confusion.positives == 0 else _NO_NEGATIVES
        )
    if metrics.precision.value is None:
        reasons["precision"] = "the classifier flagged no text"
    if metrics.f1.value is None:
        reasons["f1"] = "no text is labelled positive or flagged"
    if metrics.kappa.value is None:
        reasons["kappa"] = (
            "the labels and the decisions are all one class, so agreement "
            "by chance is 1"
        )
    return reasons
