"""Run-level metrics computed from the stored attempts of a run."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from redline.metrics._outcome import Outcome
from redline.metrics._stats import Rate, percentile, wilson
from redline.store import Store

SEVERITIES = ("critical", "high", "medium", "low")
DIRECT_ONLY = "strategy = 'direct'"
"""SQL condition that keeps a run's direct attempts, those without an attack."""


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """Rates for one slice of a run (the whole run or one category).

    Attributes:
        attempts: Attempts in the slice, unassessed included.
        outcomes: Count per outcome value.
        safety_pass_rate: Safe over assessed harmful attempts.
        over_refusal_rate: Refused over assessed benign attempts.
        flagged_output_rate: Outputs any content classifier flagged, over
            assessed outputs.
        unassessed_rate: Unassessed over all attempts.
        incidents: Unsafe or flagged attempts.
    """

    attempts: int
    outcomes: dict[str, int]
    safety_pass_rate: Rate
    over_refusal_rate: Rate
    flagged_output_rate: Rate
    unassessed_rate: Rate
    incidents: int

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as JSON-ready data."""
        return {
            "attempts": self.attempts,
            "outcomes": self.outcomes,
            "safety_pass_rate": self.safety_pass_rate.to_dict(),
            "over_refusal_rate": self.over_refusal_rate.to_dict(),
            "flagged_output_rate": self.flagged_output_rate.to_dict(),
            "unassessed_rate": self.unassessed_rate.to_dict(),
            "incidents": self.incidents,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Every reported figure of one run, over its direct attempts only.

    Direct attempts send each case as the suite gives it, so these figures
    stay comparable with runs without attack strategies. Attack attempts
    are summarized by :func:`redline.metrics.summarize_attacks`.

    Attributes:
        overall: Rates over the whole run.
        by_category: Rates per hazard category.
        incidents_by_severity: Unsafe or flagged attempts per severity.
        incidents_by_category: Unsafe or flagged attempts per category.
        unassessed_reasons: Count of unassessed attempts per reason.
        latency_s: p50, p95 and p99 request latency in seconds over
            attempts with a successful request, plus their count.
        tokens: Total prompt and completion tokens the target reported.
    """

    overall: GroupMetrics
    by_category: dict[str, GroupMetrics]
    incidents_by_severity: dict[str, int]
    incidents_by_category: dict[str, int]
    unassessed_reasons: dict[str, int]
    latency_s: dict[str, float | int | None]
    tokens: dict[str, int]
    requests: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""
        return {
            "overall": self.overall.to_dict(),
            "by_category": {k: v.to_dict() for k, v in self.by_category.items()},
            "incidents_by_severity": self.incidents_by_severity,
            "incidents_by_category": self.incidents_by_category,
            "unassessed_reasons": self.unassessed_reasons,
            "latency_s": self.latency_s,
            "tokens": self.tokens,
            "requests": self.requests,
        }


def summarize_run(store: Store, run_id: str) -> RunSummary:
    """Compute the summary of a run from its stored direct attempts.

    Works on partial runs too; the figures then cover the attempts stored so far.
    """
    rows = store.query(
        "SELECT category, severity, outcome, flagged, COUNT(*) FROM attempts "
        f"WHERE run_id = ? AND {DIRECT_ONLY} "
        "GROUP BY category, severity, outcome, flagged",
        (run_id,),
    )
    overall: Counter[tuple[str, bool]] = Counter()
    per_category: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    by_severity: Counter[str] = Counter()
    by_category_incidents: Counter[str] = Counter()
    for category, severity, outcome, flagged, count in rows:
        key = (outcome, bool(flagged))
        overall[key] += count
        per_category[category][key] += count
        if outcome == Outcome.UNSAFE.value or flagged:
            by_severity[severity] += count
            by_category_incidents[category] += count

    return RunSummary(
        overall=_group_metrics(overall),
        by_category={c: _group_metrics(per_category[c]) for c in sorted(per_category)},
        incidents_by_severity={s: by_severity.get(s, 0) for s in SEVERITIES},
        incidents_by_category=dict(sorted(by_category_incidents.items())),
        unassessed_reasons=_unassessed_reasons(store, run_id),
        latency_s=_latency(store, run_id),
        tokens=_tokens(store, run_id),
        requests=int(
            store.query(
                "SELECT COALESCE(SUM(requests), 0) FROM attempts "
                f"WHERE run_id = ? AND {DIRECT_ONLY}",
                (run_id,),
            )[0][0]
        ),
    )


@dataclass(frozen=True, slots=True)
class VerdictCounts:
    """Verdicts one classifier produced in a run.

    Attributes:
        verdicts: Verdicts produced, errors included.
        errors: Verdicts with an error, which count as neither pass nor fail.
        by_tier: For a cascade, verdicts decided by each tier, errors included.
    """

    verdicts: int = 0
    errors: int = 0
    by_tier: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the counts as JSON-ready data."""
        return {
            "verdicts": self.verdicts,
            "errors": self.errors,
            "by_tier": dict(self.by_tier),
        }


def count_verdicts(store: Store, run_id: str) -> dict[str, VerdictCounts]:
    """Count each classifier's verdicts, errors and deciding tiers in a run."""
    # json_each needs SQLite's JSON functions, built in since SQLite 3.38.
    rows = store.query(
        "SELECT json_extract(v.value, '$.classifier'), "
        "json_extract(v.value, '$.error') IS NOT NULL, "
        "json_extract(v.value, '$.tier'), COUNT(*) "
        "FROM attempts, json_each(attempts.verdicts) AS v "
        "WHERE attempts.run_id = ? GROUP BY 1, 2, 3",
        (run_id,),
    )
    verdicts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    tiers: dict[str, Counter[str]] = defaultdict(Counter)
    for name, has_error, tier, count in rows:
        name = str(name)
        verdicts[name] += count
        if has_error:
            errors[name] += count
        if tier is not None:
            tiers[name][str(tier)] += count
    return {
        name: VerdictCounts(
            verdicts=verdicts[name],
            errors=errors[name],
            by_tier=dict(sorted(tiers[name].items())),
        )
        for name in sorted(verdicts)
    }


def _group_metrics(counts: Counter[tuple[str, bool]]) -> GroupMetrics:
    outcomes: Counter[str] = Counter()
    flagged = 0
    for (outcome, is_flagged), count in counts.items():
        outcomes[outcome] += count
        if is_flagged and outcome != Outcome.UNASSESSED.value:
            flagged += count
    safe, unsafe = outcomes[Outcome.SAFE.value], outcomes[Outcome.UNSAFE.value]
    answered = outcomes[Outcome.ANSWERED.value]
    over_refused = outcomes[Outcome.OVER_REFUSED.value]
    unassessed = outcomes[Outcome.UNASSESSED.value]
    total = sum(outcomes.values())
    assessed = total - unassessed
    incidents = unsafe + sum(
        count
        for (outcome, is_flagged), count in counts.items()
        if is_flagged
        and outcome not in (Outcome.UNSAFE.value, Outcome.UNASSESSED.value)
    )
    return GroupMetrics(
        attempts=total,
        outcomes={o.value: outcomes[o.value] for o in Outcome},
        safety_pass_rate=wilson(safe, safe + unsafe),
        over_refusal_rate=wilson(over_refused, answered + over_refused),
        flagged_output_rate=wilson(flagged, assessed),
        unassessed_rate=wilson(unassessed, total),
        incidents=incidents,
    )


def _unassessed_reasons(store: Store, run_id: str) -> dict[str, int]:
    rows = store.query(
        "SELECT COALESCE(error_kind, unassessed_reason), COUNT(*) FROM attempts "
        f"WHERE run_id = ? AND {DIRECT_ONLY} AND outcome = 'unassessed' "
        "GROUP BY 1 ORDER BY 2 DESC",
        (run_id,),
    )
    return {str(reason): count for reason, count in rows}


def _latency(store: Store, run_id: str) -> dict[str, float | int | None]:
    values = [
        row[0]
        for row in store.query(
            "SELECT latency_s FROM attempts "
            f"WHERE run_id = ? AND {DIRECT_ONLY} AND latency_s IS NOT NULL "
            "ORDER BY latency_s",
            (run_id,),
        )
    ]
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": sum(values) / len(values) if values else None,
    }


def _tokens(store: Store, run_id: str) -> dict[str, int]:
    prompt, completion = store.query(
        "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) "
        f"FROM attempts WHERE run_id = ? AND {DIRECT_ONLY}",
        (run_id,),
    )[0]
    return {
        "prompt": int(prompt),
        "completion": int(completion),
        "total": int(prompt + completion),
    }
