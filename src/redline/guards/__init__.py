"""Guards: input and output filters built from classifiers, around any target."""

from redline.guards._config import (
    ACTIONS,
    DEFAULT_SAFE_REPLY,
    GuardConfig,
    GuardFilter,
    load_guard_config,
    parse_guard_config,
)
from redline.guards._guard import BLOCKED_FINISH_REASON, Guard, redact_pii
from redline.guards._sweep import GuardSweep, SweepPoint, steps_thresholds, sweep_guard

__all__ = [
    "ACTIONS",
    "BLOCKED_FINISH_REASON",
    "DEFAULT_SAFE_REPLY",
    "Guard",
    "GuardConfig",
    "GuardFilter",
    "GuardSweep",
    "SweepPoint",
    "load_guard_config",
    "parse_guard_config",
    "redact_pii",
    "steps_thresholds",
    "sweep_guard",
]
