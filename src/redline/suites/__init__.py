"""Test cases, suites, the hazard taxonomy and the suites shipped with redline."""

from redline.suites._load import builtin_suite_names, load_suite
from redline.suites._model import (
    HAZARDS,
    HAZARDS_BY_CODE,
    HAZARDS_BY_SLUG,
    Case,
    Expected,
    Hazard,
    Severity,
    Suite,
    SuiteInfo,
)

__all__ = [
    "HAZARDS",
    "HAZARDS_BY_CODE",
    "HAZARDS_BY_SLUG",
    "Case",
    "Expected",
    "Hazard",
    "Severity",
    "Suite",
    "SuiteInfo",
    "builtin_suite_names",
    "load_suite",
]
