"""Calibration of classifiers against human labels."""

from redline.calibration._labels import (
    DEFAULT_NEGATIVE,
    DEFAULT_POSITIVE,
    LabelColumns,
    LabelledText,
    read_labels,
)

__all__ = [
    "DEFAULT_NEGATIVE",
    "DEFAULT_POSITIVE",
    "LabelColumns",
    "LabelledText",
    "read_labels",
]
