"""SQLite store of runs and attempts, with ordered schema migrations."""

from redline.store._sqlite import (
    DEFAULT_DB_PATH,
    AttemptRecord,
    RunRecord,
    Store,
    attempt_to_dict,
)

__all__ = ["DEFAULT_DB_PATH", "AttemptRecord", "RunRecord", "Store", "attempt_to_dict"]
