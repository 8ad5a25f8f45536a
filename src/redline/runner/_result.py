"""Result of a run: its stored record and summary, the source of every report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.metrics import RunSummary, summarize_run
from redline.store import AttemptRecord, RunRecord, Store

REPORT_FORMAT_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished or partial run as stored, with its metrics.

    Attributes:
        run: Stored identity and state of the run.
        summary: Every reported figure, computed from the stored attempts.
        db_path: Results database the run lives in.
    """

    run: RunRecord
    summary: RunSummary
    db_path: Path

    @property
    def run_id(self) -> str:
        """Id of the run."""
        return self.run.run_id

    def attempts(self) -> Iterator[AttemptRecord]:
        """Yield the run's attempts in suite order, streaming from the store."""
        with Store(self.db_path) as store:
            yield from store.iter_attempts(self.run.run_id)

    def to_dict(self) -> dict[str, Any]:
        """Return the run and its summary as JSON-ready data, without attempts."""
        run = self.run
        return {
            "format_version": REPORT_FORMAT_VERSION,
            "run": {
                "run_id": run.run_id,
                "status": run.status,
                "created_at": run.created_at,
                "finished_at": run.finished_at,
                "redline_version": run.redline_version,
                "suite": {
                    "name": run.suite_name,
                    "version": run.suite_version,
                    "fingerprint": run.suite_fingerprint,
                    "path": run.suite_path,
                    "case_count": run.case_count,
                },
                "target": run.target_identity,
                "params": run.params,
                "classifiers": run.classifiers,
                "config": run.config,
            },
            "summary": self.summary.to_dict(),
        }


def load_result(store: Store, run_id: str) -> RunResult:
    """Build the result of a stored run, complete or not."""
    run = store.get_run(run_id)
    return RunResult(
        run=run, summary=summarize_run(store, run.run_id), db_path=store.path
    )
