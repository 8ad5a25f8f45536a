"""SQLite store of runs, attempts, calibrations and baselines, with ordered migrations."""

from redline.store._sqlite import (
    DEFAULT_DB_PATH,
    AttemptRecord,
    BaselineRecord,
    CalibrationRecord,
    RunRecord,
    Store,
    attempt_to_dict,
)

__all__ = [
    "DEFAULT_DB_PATH",
    "AttemptRecord",
    "BaselineRecord",
    "CalibrationRecord",
    "RunRecord",
    "Store",
    "attempt_to_dict",
]
