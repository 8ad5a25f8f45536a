"""Paired comparison of a baseline run and a candidate run over shared cases."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from redline.compare._stats import mcnemar_exact_p, paired_difference_interval
from redline.config import CompareSettings, Price
from redline.gate import AttemptFacts, RunMeasures, measure_run
from redline.metrics import Rate, percentile, wilson
from redline.store import RunRecord, Store

Verdict = Literal["regressed", "improved", "no significant change", "not comparable"]
Direction = Literal["worse", "better", "same"]


@dataclass(frozen=True, slots=True)
class _MetricRule:
    """Cases a metric counts, and the outcome that is its event.

    Attributes:
        higher_is_better: True for the safety pass rate, False for the
            rates of failures.
        expected: The case kind the metric covers (``refuse`` or
            ``comply``), or None for every case.
        needs_assessment: Leave out pairs unassessed in either run.
        event: Whether an attempt counts in the numerator.
    """

    higher_is_better: bool
    expected: str | None
    needs_assessment: bool
    event: Callable[[AttemptFacts], bool]


_RULES: dict[str, _MetricRule] = {
    "safety_pass_rate": _MetricRule(
        True, "refuse", True, lambda a: a.outcome == "safe"
    ),
    "over_refusal_rate": _MetricRule(
        False, "comply", True, lambda a: a.outcome == "over_refused"
    ),
    "flagged_output_rate": _MetricRule(False, None, True, lambda a: a.flagged),
    # Being unassessed is this metric's event, so no pair is left out.
    "unassessed_rate": _MetricRule(
        False, None, False, lambda a: a.outcome == "unassessed"
    ),
}


@dataclass(frozen=True, slots=True)
class CaseFlip:
    """A shared case whose outcome changed between the runs.

    Attributes:
        case_id: Suite case id.
        category: Hazard category slug.
        severity: Harm if the case fails.
        base: Outcome in the baseline run.
        candidate: Outcome in the candidate run.
    """

    case_id: str
    category: str
    severity: str
    base: str
    candidate: str

    def to_dict(self) -> dict[str, str]:
        """Return the flip as JSON-ready data."""
        return {
            "case_id": self.case_id,
            "category": self.category,
            "severity": self.severity,
            "base": self.base,
            "candidate": self.candidate,
        }


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Exact McNemar test of one metric over the cases both runs share.

    Attributes:
        metric: Metric name, such as ``safety_pass_rate``.
        pairs: Shared cases the test counts.
        unassessed: Shared cases of the metric's kind left out because
            either run left them unassessed.
        base: The metric over the paired cases in the baseline run.
        candidate: The metric over the paired cases in the candidate run.
        delta: candidate - base, or None without pairs.
        interval: 95% interval of ``delta`` by Newcombe's paired method, or None.
        worse: Discordant pairs where the candidate is worse.
        better: Discordant pairs where the candidate is better.
        p_value: Exact two-sided McNemar p-value from ``worse`` and ``better``.
        direction: ``worse`` or ``better`` when the test is significant at
            alpha, else ``same``.
        decides_verdict: True when the config lists the metric in
            ``compare.metrics``.
        worse_cases: Cases behind ``worse``, in suite order.
        better_cases: Cases behind ``better``, in suite order.
    """

    metric: str
    pairs: int
    unassessed: int
    base: Rate
    candidate: Rate
    delta: float | None
    interval: tuple[float, float] | None
    worse: int
    better: int
    p_value: float
    direction: Direction
    decides_verdict: bool
    worse_cases: tuple[CaseFlip, ...] = ()
    better_cases: tuple[CaseFlip, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the test as JSON-ready data."""
        return {
            "metric": self.metric,
            "pairs": self.pairs,
            "unassessed": self.unassessed,
            "base": self.base.to_dict(),
            "candidate": self.candidate.to_dict(),
            "delta": self.delta,
            "ci95": list(self.interval) if self.interval else None,
            "discordant": {"worse": self.worse, "better": self.better},
            "p_value": self.p_value,
            "direction": self.direction,
            "decides_verdict": self.decides_verdict,
            "worse_cases": [flip.to_dict() for flip in self.worse_cases],
            "better_cases": [flip.to_dict() for flip in self.better_cases],
        }


@dataclass(frozen=True, slots=True)
class LatencyDelta:
    """Request latency of both runs over the cases with a latency in both.

    Attributes:
        pairs: Shared cases with a successful request in both runs.
        base: p50 and p95 of the baseline, in seconds.
        candidate: p50 and p95 of the candidate, in seconds.
        slower: Cases where the candidate took longer.
        faster: Cases where the candidate was quicker.
        p_value: Exact two-sided sign test p-value from ``slower`` and
            ``faster``; cases with equal latency are left out.
    """

    pairs: int
    base: dict[str, float | None]
    candidate: dict[str, float | None]
    slower: int
    faster: int
    p_value: float

    def relative_change(self, key: str) -> float | None:
        """Return candidate / base - 1 of ``p50`` or ``p95``, or None."""
        base, candidate = self.base.get(key), self.candidate.get(key)
        if base is None or candidate is None or base == 0:
            return None
        return candidate / base - 1

    def to_dict(self) -> dict[str, Any]:
        """Return the deltas as JSON-ready data."""
        return {
            "pairs": self.pairs,
            "base_s": self.base,
            "candidate_s": self.candidate,
            "relative_change": {k: self.relative_change(k) for k in ("p50", "p95")},
            "slower": self.slower,
            "faster": self.faster,
            "sign_test_p_value": self.p_value,
        }


@dataclass(frozen=True, slots=True)
class CostDelta:
    """Cost per 1,000 cases of both runs, in the currency of the prices.

    Attributes:
        base: Cost per 1,000 cases of the baseline, or None without a price.
        candidate: Cost per 1,000 cases of the candidate, or None.
        missing: Why a cost is missing, for each run that lacks one.
    """

    base: float | None
    candidate: float | None
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def delta(self) -> float | None:
        """candidate - base, or None when either is missing."""
        if self.base is None or self.candidate is None:
            return None
        return self.candidate - self.base

    @property
    def relative_change(self) -> float | None:
        """candidate / base - 1, or None when either is missing or base is 0."""
        if self.base is None or self.candidate is None or self.base == 0:
            return None
        return self.candidate / self.base - 1

    def to_dict(self) -> dict[str, Any]:
        """Return the costs as JSON-ready data."""
        return {
            "base_per_1000_cases": self.base,
            "candidate_per_1000_cases": self.candidate,
            "delta": self.delta,
            "relative_change": self.relative_change,
            "missing": self.missing,
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Result of comparing a candidate run with a baseline run.

    Attributes:
        base: The baseline run.
        candidate: The candidate run.
        verdict: ``regressed``, ``improved``, ``no significant change`` or
            ``not comparable``.
        reasons: Why the verdict is what it is, one line each.
        differences: What makes the runs not comparable (suite or
            classifiers), empty when they are comparable.
        notes: Other differences shown for context, such as the target.
        alpha: Significance level of each test.
        shared_cases: Case ids in both runs.
        base_only: Case ids only in the baseline.
        candidate_only: Case ids only in the candidate.
        tests: One paired test per metric.
        latency: Latency of both runs over shared cases.
        cost: Cost of both runs.
        owner: Owner of the release decision, from the config.
        rollback_target: What to roll back to, from the config.
    """

    base: RunRecord
    candidate: RunRecord
    verdict: Verdict
    reasons: tuple[str, ...]
    differences: tuple[str, ...]
    notes: tuple[str, ...]
    alpha: float
    shared_cases: int
    base_only: int
    candidate_only: int
    tests: tuple[PairedTest, ...]
    latency: LatencyDelta
    cost: CostDelta
    owner: str | None = None
    rollback_target: str | None = None

    def test(self, metric: str) -> PairedTest:
        """Return the paired test of one metric.

        Raises:
            KeyError: No test has that metric name.
        """
        for test in self.tests:
            if test.metric == metric:
                return test
        raise KeyError(metric)

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as JSON-ready data."""
        return {
            "base": _run_dict(self.base),
            "candidate": _run_dict(self.candidate),
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "differences": list(self.differences),
            "notes": list(self.notes),
            "alpha": self.alpha,
            "cases": {
                "shared": self.shared_cases,
                "base_only": self.base_only,
                "candidate_only": self.candidate_only,
            },
            "tests": [test.to_dict() for test in self.tests],
            "latency": self.latency.to_dict(),
            "cost": self.cost.to_dict(),
            "owner": self.owner,
            "rollback_target": self.rollback_target,
        }


def _run_dict(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "status": run.status,
        "suite": f"{run.suite_name} {run.suite_version}",
        "suite_fingerprint": run.suite_fingerprint,
        "target": run.target_spec,
    }


def compare_runs(
    store: Store,
    base_id: str,
    candidate_id: str,
    *,
    settings: CompareSettings | None = None,
    prices: Mapping[str, Price] | None = None,
    owner: str | None = None,
    rollback_target: str | None = None,
) -> Comparison:
    """Compare a candidate run with a baseline run stored in the same database.

    Args:
        store: Results database holding both runs.
        base_id: Id (or unique prefix) of the baseline run.
        candidate_id: Id (or unique prefix) of the candidate run.
        settings: Alpha, the metrics that decide the verdict, and optional
            latency and cost tolerances.
        prices: Token prices for the cost deltas.
        owner: Named in the result when the candidate regressed.
        rollback_target: Named in the result when the candidate regressed.
    """
    settings = settings or CompareSettings()
    base = measure_run(store, base_id, prices)
    candidate = measure_run(store, candidate_id, prices)
    return compare_measures(
        base, candidate, settings, owner=owner, rollback_target=rollback_target
    )


def compare_measures(
    base: RunMeasures,
    candidate: RunMeasures,
    settings: CompareSettings,
    *,
    owner: str | None = None,
    rollback_target: str | None = None,
) -> Comparison:
    """Compare two measured runs; see :func:`compare_runs`."""
    base_cases = {a.case_id: a for a in base.attempts}
    candidate_cases = {a.case_id: a for a in candidate.attempts}
    pairs = [
        (base_cases[a.case_id], a)
        for a in candidate.attempts
        if a.case_id in base_cases
    ]
    tests = tuple(
        _paired_test(metric, rule, pairs, settings) for metric, rule in _RULES.items()
    )
    latency = _latency_delta(pairs)
    cost = _cost_delta(base, candidate)
    assessed = sum(1 for b, c in pairs if _assessed(b) and _assessed(c))
    differences = _differences(base.run, candidate.run, len(pairs), assessed)
    verdict, reasons = _verdict(tests, latency, cost, differences, settings)
    return Comparison(
        base=base.run,
        candidate=candidate.run,
        verdict=verdict,
        reasons=tuple(reasons),
        differences=tuple(differences),
        notes=tuple(_notes(base.run, candidate.run)),
        alpha=settings.alpha,
        shared_cases=len(pairs),
        base_only=len(base_cases.keys() - candidate_cases.keys()),
        candidate_only=len(candidate_cases.keys() - base_cases.keys()),
        tests=tests,
        latency=latency,
        cost=cost,
        owner=owner,
        rollback_target=rollback_target,
    )


def _paired_test(
    metric: str,
    rule: _MetricRule,
    pairs: Sequence[tuple[AttemptFacts, AttemptFacts]],
    settings: CompareSettings,
) -> PairedTest:
    relevant = [(b, c) for b, c in pairs if rule.expected in (None, b.expected)]
    included = [
        (b, c)
        for b, c in relevant
        if not rule.needs_assessment or (_assessed(b) and _assessed(c))
    ]
    both, base_only, candidate_only, neither = _split_pairs(rule, included)

    # Losing the event is worse for a pass rate, gaining it is worse otherwise.
    worse, better = (
        (base_only, candidate_only)
        if rule.higher_is_better
        else (candidate_only, base_only)
    )
    p_value = mcnemar_exact_p(len(worse), len(better))

    delta: float | None = None
    interval: tuple[float, float] | None = None
    if included:
        delta, low, high = paired_difference_interval(
            both, len(candidate_only), len(base_only), neither
        )
        interval = (low, high)
    direction: Direction = "same"
    if p_value < settings.alpha and len(worse) != len(better):
        direction = "worse" if len(worse) > len(better) else "better"
    return PairedTest(
        metric=metric,
        pairs=len(included),
        unassessed=len(relevant) - len(included),
        base=wilson(both + len(base_only), len(included)),
        candidate=wilson(both + len(candidate_only), len(included)),
        delta=delta,
        interval=interval,
        worse=len(worse),
        better=len(better),
        p_value=p_value,
        direction=direction,
        decides_verdict=metric in settings.metrics,
        worse_cases=tuple(_flip(b, c) for b, c in worse),
        better_cases=tuple(_flip(b, c) for b, c in better),
    )


_Pairs = list[tuple[AttemptFacts, AttemptFacts]]


def _split_pairs(rule: _MetricRule, pairs: _Pairs) -> tuple[int, _Pairs, _Pairs, int]:
    """Return the 2x2 table: event in both, only in the base, only in the candidate, in neither."""
    both = neither = 0
    base_only: _Pairs = []
    candidate_only: _Pairs = []
    for base, candidate in pairs:
        base_event, candidate_event = rule.event(base), rule.event(candidate)
        if base_event and candidate_event:
            both += 1
        elif base_event:
            base_only.append((base, candidate))
        elif candidate_event:
            candidate_only.append((base, candidate))
        else:
            neither += 1
    return both, base_only, candidate_only, neither


def _assessed(attempt: AttemptFacts) -> bool:
    return attempt.outcome != "unassessed"


def _flip(base: AttemptFacts, candidate: AttemptFacts) -> CaseFlip:
    def label(attempt: AttemptFacts) -> str:
        return f"{attempt.outcome}, flagged" if attempt.flagged else attempt.outcome

    return CaseFlip(
        base.case_id, base.category, base.severity, label(base), label(candidate)
    )


def _latency_delta(
    pairs: Sequence[tuple[AttemptFacts, AttemptFacts]],
) -> LatencyDelta:
    timed = [
        (b.latency_s, c.latency_s)
        for b, c in pairs
        if b.latency_s is not None and c.latency_s is not None
    ]
    base = sorted(b for b, _ in timed)
    candidate = sorted(c for _, c in timed)
    slower = sum(1 for b, c in timed if c > b)
    faster = sum(1 for b, c in timed if c < b)
    return LatencyDelta(
        pairs=len(timed),
        base={"p50": percentile(base, 50), "p95": percentile(base, 95)},
        candidate={"p50": percentile(candidate, 50), "p95": percentile(candidate, 95)},
        slower=slower,
        faster=faster,
        p_value=mcnemar_exact_p(slower, faster),
    )


def _cost_delta(base: RunMeasures, candidate: RunMeasures) -> CostDelta:
    missing = {}
    for role, measures in (("base", base), ("candidate", candidate)):
        if measures.overall.cost_missing is not None:
            missing[role] = measures.overall.cost_missing
    return CostDelta(
        base=base.overall.cost_per_1000_cases,
        candidate=candidate.overall.cost_per_1000_cases,
        missing=missing,
    )


def _differences(
    base: RunRecord, candidate: RunRecord, shared: int, assessed: int
) -> list[str]:
    """List what makes two runs not comparable.

    ``assessed`` counts the shared cases assessed in both runs. Without one,
    every deciding metric has no data, so a candidate whose requests all
    failed would otherwise show no significant change.
    """
    differences = []
    if base.suite_fingerprint != candidate.suite_fingerprint:
        differences.append(
            f"suite fingerprint differs: {base.suite_fingerprint[:12]} "
            f"({base.suite_name} {base.suite_version}) in {base.run_id} vs "
            f"{candidate.suite_fingerprint[:12]} ({candidate.suite_name} "
            f"{candidate.suite_version}) in {candidate.run_id}"
        )
    if _identity_set(base.classifiers) != _identity_set(candidate.classifiers):
        differences.append(
            f"classifiers differ: {_classifier_names(base.classifiers)} in "
            f"{base.run_id} vs {_classifier_names(candidate.classifiers)} in "
            f"{candidate.run_id}"
        )
    if shared == 0:
        differences.append("the runs share no case id")
    elif assessed == 0:
        differences.append(
            f"none of the {shared} shared cases was assessed in both runs; see "
            f"the unassessed reasons with 'redline show {base.run_id}' and "
            f"'redline show {candidate.run_id}'"
        )
    return differences


def _identity_set(classifiers: Sequence[Mapping[str, Any]]) -> set[str]:
    """Return the classifier identities in a form where their order does not count."""
    return {json.dumps(identity, sort_keys=True) for identity in classifiers}


def _classifier_names(classifiers: Sequence[Mapping[str, Any]]) -> str:
    names = []
    for identity in classifiers:
        extra = {
            k: v for k, v in identity.items() if k not in ("name", "kind", "version")
        }
        text = f"{identity.get('name')} {identity.get('version')}"
        if extra:
            text += f" {extra}"
        names.append(text)
    return "[" + ", ".join(names) + "]"


def _notes(base: RunRecord, candidate: RunRecord) -> list[str]:
    """List differences that do not block the comparison but explain it."""
    notes = []
    for key in sorted(base.target_identity.keys() | candidate.target_identity.keys()):
        before = base.target_identity.get(key)
        after = candidate.target_identity.get(key)
        if before != after:
            notes.append(f"target {key}: {before} vs {after}")
    if base.params != candidate.params:
        notes.append(f"generation parameters: {base.params} vs {candidate.params}")
    for role, run in (("baseline", base), ("candidate", candidate)):
        if run.status != "completed":
            notes.append(f"{role} run {run.run_id} is {run.status}, not completed")
    return notes


def _verdict(
    tests: Sequence[PairedTest],
    latency: LatencyDelta,
    cost: CostDelta,
    differences: Sequence[str],
    settings: CompareSettings,
) -> tuple[Verdict, list[str]]:
    if differences:
        return "not comparable", list(differences)
    deciding = [t for t in tests if t.decides_verdict]
    regressions = [
        f"{t.metric} worse: {t.worse} case(s) worse, {t.better} better, "
        f"exact McNemar p = {t.p_value:.4g} < {settings.alpha:g}"
        for t in deciding
        if t.direction == "worse"
    ]
    regressions += _latency_regression(latency, settings)
    regressions += _cost_regression(cost, settings)
    if regressions:
        return "regressed", regressions
    improvements = [
        f"{t.metric} better: {t.better} case(s) better, {t.worse} worse, "
        f"exact McNemar p = {t.p_value:.4g} < {settings.alpha:g}"
        for t in deciding
        if t.direction == "better"
    ]
    if improvements:
        return "improved", improvements
    return "no significant change", [
        f"no metric of {', '.join(settings.metrics)} changed at alpha {settings.alpha:g}"
    ]


def _latency_regression(latency: LatencyDelta, settings: CompareSettings) -> list[str]:
    tolerance = settings.latency_p95_max_increase
    change = latency.relative_change("p95")
    if tolerance is None or change is None or change <= tolerance:
        return []
    if latency.p_value >= settings.alpha or latency.slower <= latency.faster:
        return []
    return [
        f"p95 latency up {change:+.1%} (tolerance {tolerance:+.0%}); "
        f"{latency.slower} cases slower, {latency.faster} faster, "
        f"sign test p = {latency.p_value:.4g}"
    ]


def _cost_regression(cost: CostDelta, settings: CompareSettings) -> list[str]:
    tolerance = settings.cost_max_increase
    change = cost.relative_change
    if tolerance is None or change is None or change <= tolerance:
        return []
    return [f"cost per 1,000 cases up {change:+.1%} (tolerance {tolerance:+.0%})"]
