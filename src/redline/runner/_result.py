"""Result of a run: its stored record and summary, the source of every report."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline.calibration import CalibrationSummary
from redline.metrics import (
    AdaptiveMetrics,
    RunSummary,
    summarize_adaptive,
    summarize_run,
)
from redline.metrics._attacks import AttackSummary, summarize_attacks
from redline.metrics._summary import VerdictCounts, count_verdicts
from redline.store import AttemptRecord, RunRecord, Store

logger = logging.getLogger(__name__)

# 1.1 added the top-level "classifiers" list. 1.2 added "attacks", which is
# null for a run without attack strategies, and made "summary" count only
# direct attempts. 1.3 added "adaptive", the figures of each adaptive attack,
# which is null for a run without adaptive attack results.
REPORT_FORMAT_VERSION = "1.3"
# Stored verdicts of guard filters are named guard:<stage>:<classifier>.
GUARD_VERDICT_PREFIX = "guard:"


@dataclass(frozen=True, slots=True)
class ClassifierReport:
    """One classifier that judged a run: its verdicts and its stored calibration.

    Attributes:
        identity: The classifier's identity as stored with the run.
        counts: Verdicts, errors and deciding tiers in the run.
        calibration: Latest stored calibration with the same name and
            version, or None when the classifier is not calibrated.
    """

    identity: dict[str, Any]
    counts: VerdictCounts
    calibration: CalibrationSummary | None

    @property
    def name(self) -> str:
        """Registry name of the classifier."""
        return str(self.identity.get("name", "?"))

    @property
    def version(self) -> str:
        """Version of the classifier's logic or weights."""
        return str(self.identity.get("version", "?"))

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data, with None for a missing calibration."""
        return {
            "name": self.name,
            "kind": self.identity.get("kind"),
            "version": self.version,
            **self.counts.to_dict(),
            "calibration": None
            if self.calibration is None
            else self.calibration.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished or partial run as stored, with its metrics.

    Attributes:
        run: Stored identity and state of the run.
        summary: Every headline figure, computed from the stored direct
            attempts.
        db_path: Results database the run lives in.
        classifiers: Each classifier that judged the run, in run order.
        attacks: Attack success rates of the attack attempts, or None when
            the run has none.
        adaptive: Figures of each adaptive attack by name, empty when the
            run has no adaptive attack results.
    """

    run: RunRecord
    summary: RunSummary
    db_path: Path
    classifiers: tuple[ClassifierReport, ...] = ()
    attacks: AttackSummary | None = None
    adaptive: Mapping[str, AdaptiveMetrics] = field(default_factory=dict)

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
            "classifiers": [report.to_dict() for report in self.classifiers],
            "attacks": None if self.attacks is None else self.attacks.to_dict(),
            "adaptive": [m.to_dict() for m in self.adaptive.values()] or None,
        }


def load_result(store: Store, run_id: str) -> RunResult:
    """Build the result of a stored run, complete or not."""
    run = store.get_run(run_id)
    return RunResult(
        run=run,
        summary=summarize_run(store, run.run_id),
        db_path=store.path,
        classifiers=classifier_reports(store, run),
        attacks=summarize_attacks(store, run.run_id),
        adaptive=summarize_adaptive(store, run.run_id),
    )


def classifier_reports(store: Store, run: RunRecord) -> tuple[ClassifierReport, ...]:
    """Return the verdict counts and latest calibration of each classifier of a run."""
    counts = count_verdicts(store, run.run_id)
    reports = []
    for identity in run.classifiers:
        name = str(identity.get("name"))
        reports.append(
            ClassifierReport(
                identity=identity,
                counts=counts.get(name, VerdictCounts()),
                calibration=_latest_calibration(store, identity),
            )
        )
    # A guard's filters judge too, and a failing filter must show its errors
    # even when the guard blocked the message and the attempt counts as safe.
    for name in sorted(n for n in counts if n.startswith(GUARD_VERDICT_PREFIX)):
        reports.append(
            ClassifierReport(
                identity={"name": name, "kind": "guard", "version": "filter"},
                counts=counts[name],
                calibration=None,
            )
        )
    return tuple(reports)


def _latest_calibration(
    store: Store, identity: dict[str, Any]
) -> CalibrationSummary | None:
    record = store.latest_calibration(
        str(identity.get("name")), str(identity.get("version"))
    )
    if record is None:
        return None
    try:
        return CalibrationSummary.from_record(record)
    except ValueError as exc:
        # A report must still be written when one stored calibration is unreadable.
        logger.warning("%s; reporting %s as not calibrated", exc, identity.get("name"))
        return None
