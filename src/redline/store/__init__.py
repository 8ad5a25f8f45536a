"""SQLite store of runs, attempts, adaptive attack results, calibrations and baselines."""

from redline.store._sqlite import (
    DEFAULT_DB_PATH,
    AdaptiveRecord,
    AttemptRecord,
    BaselineRecord,
    CalibrationRecord,
    RunRecord,
    Store,
    attempt_to_dict,
)

__all__ = [
    "DEFAULT_DB_PATH",
    "AdaptiveRecord",
    "AttemptRecord",
    "BaselineRecord",
    "CalibrationRecord",
    "RunRecord",
    "Store",
    "attempt_to_dict",
]
