"""SQLite store of runs, attempts and calibrations, with ordered schema migrations."""

from redline.store._sqlite import (
    DEFAULT_DB_PATH,
    AttemptRecord,
    CalibrationRecord,
    RunRecord,
    Store,
    attempt_to_dict,
)

__all__ = [
    "DEFAULT_DB_PATH",
    "AttemptRecord",
    "CalibrationRecord",
    "RunRecord",
    "Store",
    "attempt_to_dict",
]
