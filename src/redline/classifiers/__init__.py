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
from redline.classifiers._cascade import CascadeClassifier
from redline.classifiers._embedding import EmbeddingClassifier
from redline.classifiers._judge import JudgeClassifier
from redline.classifiers._lexicon import LexiconClassifier
from redline.classifiers._normalize import normalize_text
from redline.classifiers._pii import PIIClassifier
from redline.classifiers._refusal import RefusalDetector
from redline.classifiers._specs import (
    ClassifierSpec,
    apply_option_assignments,
    build_classifier,
    load_classifier_config,
    public_spec,
)
from redline.classifiers._toxicity import ProfanityCheckClassifier
from redline.classifiers._training import train_classifier

__all__ = [
    "ENTRY_POINT_GROUP",
    "CascadeClassifier",
    "Classifier",
    "ClassifierInput",
    "ClassifierSpec",
    "EmbeddingClassifier",
    "JudgeClassifier",
    "LexiconClassifier",
    "PIIClassifier",
    "ProfanityCheckClassifier",
    "RefusalDetector",
    "Verdict",
    "apply_option_assignments",
    "build_classifier",
    "classifier_names",
    "create_classifier",
    "load_classifier_config",
    "normalize_text",
    "public_spec",
    "register_classifier",
    "train_classifier",
]
