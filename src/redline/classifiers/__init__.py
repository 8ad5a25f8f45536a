"""Classifiers that judge model outputs: refusal detection and content safety."""

from redline.classifiers._base import (
    ENTRY_POINT_GROUP,
    Classifier,
    ClassifierInput,
    Verdict,
    classifier_names,
    create_classifier,
    register_classifier,
)
from redline.classifiers._judge import JudgeClassifier
from redline.classifiers._pii import PIIClassifier
from redline.classifiers._refusal import RefusalDetector
from redline.classifiers._toxicity import ProfanityCheckClassifier

__all__ = [
    "ENTRY_POINT_GROUP",
    "Classifier",
    "ClassifierInput",
    "JudgeClassifier",
    "PIIClassifier",
    "ProfanityCheckClassifier",
    "RefusalDetector",
    "Verdict",
    "classifier_names",
    "create_classifier",
    "register_classifier",
]
