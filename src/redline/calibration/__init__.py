"""Calibration of classifiers against human labels.

:func:`calibrate` runs a classifier over a labels file and measures how often
it misses the positive class and how often it flags the negative one, with
95% intervals. The store keeps each result, and run reports show the latest
calibration of every classifier that judged the run.
"""

from redline.calibration._calibrate import (
    CALIBRATION_FORMAT_VERSION,
    CalibrationError,
    CalibrationResult,
    acalibrate,
    calibrate,
)
from redline.calibration._labels import (
    DEFAULT_NEGATIVE,
    DEFAULT_POSITIVE,
    LabelColumns,
    LabelledText,
    read_labels,
)
from redline.calibration._metrics import (
    CalibrationMetrics,
    ConfusionMatrix,
    Estimate,
    Prediction,
    SweepPoint,
    ThresholdChoice,
    average_precision,
    cohen_kappa,
    compute_metrics,
    confusion_matrix,
    f1_score,
    roc_auc,
    threshold_for_fnr,
    threshold_sweep,
)
from redline.calibration._summary import CalibrationSummary

__all__ = [
    "CALIBRATION_FORMAT_VERSION",
    "DEFAULT_NEGATIVE",
    "DEFAULT_POSITIVE",
    "CalibrationError",
    "CalibrationMetrics",
    "CalibrationResult",
    "CalibrationSummary",
    "ConfusionMatrix",
    "Estimate",
    "LabelColumns",
    "LabelledText",
    "Prediction",
    "SweepPoint",
    "ThresholdChoice",
    "acalibrate",
    "average_precision",
    "calibrate",
    "cohen_kappa",
    "compute_metrics",
    "confusion_matrix",
    "f1_score",
    "read_labels",
    "roc_auc",
    "threshold_for_fnr",
    "threshold_sweep",
]
