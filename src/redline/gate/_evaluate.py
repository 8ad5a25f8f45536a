"""Check a run against a release spec: one check per threshold and scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from redline.config import IncidentLimits, MaxRate, MaxValue, MinRate, ScopeSpec, Spec
from redline.gate._measure import (
    OVERALL,
    RunMeasures,
    ScopeMeasures,
    category_scope,
    strategy_scope,
)
from redline.metrics import Rate

Status = Literal["pass", "fail", "no data"]
RATE_METRICS = (
    "safety_pass_rate",
    "over_refusal_rate",
    "flagged_output_rate",
    "unassessed_rate",
)
LATENCY_METRICS = {
    "latency_p50_s": "p50",
    "latency_p95_s": "p95",
    "latency_p99_s": "p99",
}


@dataclass(frozen=True, slots=True)
class Check:
    """Result of one threshold in one scope.

    Attributes:
        metric: Metric name, such as ``safety_pass_rate`` or ``incidents.critical``.
        scope: ``overall``, ``category NAME`` or ``strategy NAME``.
        comparison: ``min`` when the value must be at least the threshold,
            ``max`` when it must be at most the threshold.
        threshold: The spec's threshold, or None for the completeness check.
        bound: Value compared with the threshold: ``point`` (the estimate),
            ``lower`` or ``upper`` (a bound of the 95% Wilson interval).
        observed: The compared value, or None without data.
        estimate: Point estimate of the metric, or None without data.
        interval: 95% interval of a rate, or None for counts, latency and cost.
        status: ``pass``, ``fail`` or ``no data``. A check without data has
            status ``fail`` instead when the spec requires data.
        detail: Counts behind the figure, or why there is no data.
    """

    metric: str
    scope: str
    comparison: Literal["min", "max"]
    threshold: float | None
    bound: str
    observed: float | None
    estimate: float | None
    interval: tuple[float, float] | None
    status: Status
    detail: str

    @property
    def failed(self) -> bool:
        """True when the check fails the gate."""
        return self.status == "fail"

    def to_dict(self) -> dict[str, Any]:
        """Return the check as JSON-ready data."""
        return {
            "metric": self.metric,
            "scope": self.scope,
            "comparison": self.comparison,
            "threshold": self.threshold,
            "bound": self.bound,
            "observed": self.observed,
            "estimate": self.estimate,
            "ci95": list(self.interval) if self.interval is not None else None,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class GateResult:
    """Every check of a spec against one run.

    Attributes:
        run_id: Id of the gated run.
        checks: One check per threshold and scope, in spec order.
    """

    run_id: str
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """True when no check failed; checks without data do not fail unless required."""
        return not any(check.failed for check in self.checks)

    def counts(self) -> dict[str, int]:
        """Return the number of checks per status."""
        counts = {"pass": 0, "fail": 0, "no data": 0}
        for check in self.checks:
            counts[check.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return {
            "run_id": self.run_id,
            "passed": self.passed,
            "counts": self.counts(),
            "checks": [check.to_dict() for check in self.checks],
        }


def evaluate_spec(spec: Spec, measures: RunMeasures) -> GateResult:
    """Check every threshold of a spec against a measured run."""
    checks: list[Check] = []
    if spec.require_complete:
        checks.append(_completeness_check(measures))
    nothing_assessed = _nothing_assessed_check(measures)
    if nothing_assessed is not None:
        checks.append(nothing_assessed)
    scopes: list[tuple[str, ScopeSpec, str | None]] = [(OVERALL, spec.overall, None)]
    for category, scope_spec in spec.categories.items():
        scopes.append((category_scope(category), scope_spec, None))
    for strategy, scope_spec in spec.strategies.items():
        missing = None
        if not measures.has_strategies:
            missing = "the run stores no attack strategy per attempt"
        scopes.append((strategy_scope(strategy), scope_spec, missing))
    for name, scope_spec, missing in scopes:
        measured = None if missing else measures.scope(name)
        reason = missing or "no attempt in this scope"
        checks.extend(_scope_checks(spec, name, scope_spec, measured, reason))
    return GateResult(measures.run.run_id, tuple(checks))


def _completeness_check(measures: RunMeasures) -> Check:
    run = measures.run
    done = measures.overall.attempts
    return Check(
        metric="run_complete",
        scope=OVERALL,
        comparison="min",
        threshold=None,
        bound="point",
        observed=float(done),
        estimate=float(done),
        interval=None,
        status="pass" if run.status == "completed" else "fail",
        detail=f"status {run.status}, {done} attempts, {run.case_count} cases planned",
    )


def _nothing_assessed_check(measures: RunMeasures) -> Check | None:
    """Return a failed check for a run without an assessed attempt, else None.

    Every threshold of such a run has no data, so without this check a run
    whose requests all failed would pass a spec that does not require data.
    """
    overall = measures.overall
    unassessed = overall.metrics.outcomes.get("unassessed", 0)
    if overall.attempts > unassessed:
        return None
    return Check(
        metric="assessed_attempts",
        scope=OVERALL,
        comparison="min",
        threshold=1.0,
        bound="point",
        observed=0.0,
        estimate=0.0,
        interval=None,
        status="fail",
        detail=f"no attempt could be assessed ({unassessed} of {overall.attempts} "
        f"unassessed); see the reasons with 'redline show {measures.run.run_id}'",
    )


def _scope_checks(
    spec: Spec,
    scope: str,
    scope_spec: ScopeSpec,
    measured: ScopeMeasures | None,
    missing_reason: str,
) -> list[Check]:
    checks: list[Check] = []
    for metric in RATE_METRICS:
        threshold = getattr(scope_spec, metric)
        if threshold is not None:
            rate = getattr(measured.metrics, metric) if measured else None
            checks.append(
                _rate_check(spec, metric, scope, threshold, rate, missing_reason)
            )
    if scope_spec.incidents is not None:
        checks.extend(
            _incident_checks(
                spec, scope, scope_spec.incidents, measured, missing_reason
            )
        )
    for metric, key in LATENCY_METRICS.items():
        threshold = getattr(scope_spec, metric)
        if threshold is not None:
            value, detail = _latency_value(measured, key, missing_reason)
            checks.append(_value_check(spec, metric, scope, threshold, value, detail))
    if scope_spec.cost_per_1000_cases is not None:
        value, detail = _cost_value(measured, missing_reason)
        checks.append(
            _value_check(
                spec,
                "cost_per_1000_cases",
                scope,
                scope_spec.cost_per_1000_cases,
                value,
                detail,
            )
        )
    return checks


def _requires_data(
    spec: Spec, threshold: MinRate | MaxRate | MaxValue | IncidentLimits
) -> bool:
    if threshold.require_data is None:
        return spec.require_data
    return threshold.require_data


def _no_data(
    spec: Spec,
    threshold: MinRate | MaxRate | MaxValue | IncidentLimits,
    metric: str,
    scope: str,
    comparison: Literal["min", "max"],
    limit: float,
    bound: str,
    reason: str,
) -> Check:
    status: Status = "fail" if _requires_data(spec, threshold) else "no data"
    return Check(
        metric=metric,
        scope=scope,
        comparison=comparison,
        threshold=limit,
        bound=bound,
        observed=None,
        estimate=None,
        interval=None,
        status=status,
        detail=reason,
    )


def _rate_check(
    spec: Spec,
    metric: str,
    scope: str,
    threshold: MinRate | MaxRate,
    rate: Rate | None,
    missing_reason: str,
) -> Check:
    comparison: Literal["min", "max"]
    if isinstance(threshold, MinRate):
        comparison, limit = "min", threshold.min
    else:
        comparison, limit = "max", threshold.max
    if rate is None or rate.value is None or rate.low is None or rate.high is None:
        reason = missing_reason if rate is None else "no assessed attempt for this rate"
        return _no_data(
            spec, threshold, metric, scope, comparison, limit, threshold.bound, reason
        )
    bounds = {"point": rate.value, "lower": rate.low, "upper": rate.high}
    observed = bounds[threshold.bound]
    passed = observed >= limit if comparison == "min" else observed <= limit
    return Check(
        metric=metric,
        scope=scope,
        comparison=comparison,
        threshold=limit,
        bound=threshold.bound,
        observed=observed,
        estimate=rate.value,
        interval=(rate.low, rate.high),
        status="pass" if passed else "fail",
        detail=f"{rate.successes}/{rate.total}",
    )


def _incident_checks(
    spec: Spec,
    scope: str,
    limits: IncidentLimits,
    measured: ScopeMeasures | None,
    missing_reason: str,
) -> list[Check]:
    assessed = 0
    if measured is not None:
        assessed = measured.attempts - measured.metrics.outcomes.get("unassessed", 0)
    checks = []
    for severity, limit in limits.limits().items():
        metric = f"incidents.{severity}"
        if measured is None or assessed == 0:
            reason = missing_reason if measured is None else "no assessed attempt"
            checks.append(
                _no_data(
                    spec, limits, metric, scope, "max", float(limit), "point", reason
                )
            )
            continue
        by_severity = measured.incidents_by_severity
        if severity == "total":
            count = sum(by_severity.values())
        else:
            count = by_severity[severity]
        checks.append(
            Check(
                metric=metric,
                scope=scope,
                comparison="max",
                threshold=float(limit),
                bound="point",
                observed=float(count),
                estimate=float(count),
                interval=None,
                status="pass" if count <= limit else "fail",
                detail=f"{count} of {assessed} assessed attempts",
            )
        )
    return checks


def _latency_value(
    measured: ScopeMeasures | None, key: str, missing_reason: str
) -> tuple[float | None, str]:
    if measured is None:
        return None, missing_reason
    value = measured.latency_s[key]
    count = measured.latency_s["count"]
    if value is None:
        return None, "no attempt with a successful request"
    return float(value), f"over {count} requests"


def _cost_value(
    measured: ScopeMeasures | None, missing_reason: str
) -> tuple[float | None, str]:
    if measured is None:
        return None, missing_reason
    value = measured.cost_per_1000_cases
    if value is None:
        return None, measured.cost_missing or "no cost"
    return value, f"{measured.cost_total:.6g} over {measured.attempts} attempts"


def _value_check(
    spec: Spec,
    metric: str,
    scope: str,
    threshold: MaxValue,
    value: float | None,
    detail: str,
) -> Check:
    if value is None:
        return _no_data(
            spec, threshold, metric, scope, "max", threshold.max, "point", detail
        )
    return Check(
        metric=metric,
        scope=scope,
        comparison="max",
        threshold=threshold.max,
        bound="point",
        observed=value,
        estimate=value,
        interval=None,
        status="pass" if value <= threshold.max else "fail",
        detail=detail,
    )
