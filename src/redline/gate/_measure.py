"""Per-scope figures of a stored run: rates, incidents, latency, tokens and cost.

A scope is the whole run, one hazard category, or one attack strategy. The
figures come straight from the stored attempts, so a spec can set the same
thresholds on every scope.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from redline.config import Price
from redline.gate._cost import Cost, find_price, missing_price_reason, price_tokens
from redline.metrics import GroupMetrics, Outcome, percentile
from redline.metrics._summary import SEVERITIES, _group_metrics
from redline.store import RunRecord, Store

OVERALL = "overall"


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    """The stored facts of one attempt that gating and comparison use.

    Attributes:
        case_id: Suite case id, the key that pairs two runs.
        category: Hazard category slug.
        expected: ``refuse`` for a harmful request, ``comply`` for a benign one.
        severity: Harm if the case fails.
        outcome: ``safe``, ``unsafe``, ``answered``, ``over_refused`` or
            ``unassessed``.
        flagged: True when a content classifier flagged the output.
        latency_s: Duration of the successful request, in seconds.
        prompt_tokens: Input tokens the target reported.
        completion_tokens: Output tokens the target reported.
        strategy: Attack strategy chain, or None for a plain case.
        unassessed_reason: Why the attempt could not be judged.
        response_text: The target's response.
    """

    case_id: str
    category: str
    expected: str
    severity: str
    outcome: str
    flagged: bool
    latency_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    strategy: str | None
    unassessed_reason: str | None
    response_text: str


@dataclass(frozen=True, slots=True)
class ScopeMeasures:
    """Every figure a threshold can apply to, for one scope.

    Attributes:
        scope: ``overall``, ``category NAME`` or ``strategy NAME``.
        metrics: Rates with 95% Wilson intervals.
        incidents_by_severity: Unsafe or flagged attempts per severity.
        latency_s: p50, p95 and p99 in seconds over attempts with a
            successful request, plus their count; None where there are none.
        tokens: Prompt and completion tokens the target reported.
        token_counts: Attempts that reported token counts.
        cost_by_role: Cost per role, empty when no price applies.
        cost_missing: Why there is no cost, or None when there is one.
    """

    scope: str
    metrics: GroupMetrics
    incidents_by_severity: dict[str, int]
    latency_s: dict[str, float | int | None]
    tokens: dict[str, int]
    token_counts: int
    cost_by_role: dict[str, Cost] = field(default_factory=dict)
    cost_missing: str | None = None

    @property
    def attempts(self) -> int:
        """Attempts in the scope, unassessed included."""
        return self.metrics.attempts

    @property
    def cost_per_1000_cases(self) -> float | None:
        """Cost of 1,000 attempts over every priced role, or None without a price."""
        if not self.cost_by_role:
            return None
        return sum(cost.per_1000_cases for cost in self.cost_by_role.values())

    @property
    def cost_total(self) -> float | None:
        """Cost of the scope's attempts over every priced role, or None."""
        if not self.cost_by_role:
            return None
        return sum(cost.total for cost in self.cost_by_role.values())

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready data."""
        return {
            "scope": self.scope,
            **self.metrics.to_dict(),
            "incidents_by_severity": self.incidents_by_severity,
            "latency_s": self.latency_s,
            "tokens": self.tokens,
            "cost": {
                "total": self.cost_total,
                "per_1000_cases": self.cost_per_1000_cases,
                "by_role": {k: v.to_dict() for k, v in self.cost_by_role.items()},
                "missing_reason": self.cost_missing,
            },
        }


@dataclass(frozen=True, slots=True)
class RunMeasures:
    """A stored run with the figures of every scope.

    Attributes:
        run: The stored run.
        attempts: Facts of each attempt, in suite order.
        scopes: Figures by scope name; ``overall`` is always present.
        has_strategies: True when the store records a strategy per attempt.
    """

    run: RunRecord
    attempts: tuple[AttemptFacts, ...]
    scopes: dict[str, ScopeMeasures]
    has_strategies: bool

    @property
    def overall(self) -> ScopeMeasures:
        """Figures over the whole run."""
        return self.scopes[OVERALL]

    def scope(self, name: str) -> ScopeMeasures | None:
        """Return the figures of a scope, or None when it has no attempt."""
        return self.scopes.get(name)


# Strategy name stored with a case sent as the suite gives it.
DIRECT_STRATEGY = "direct"


def category_scope(category: str) -> str:
    """Return the scope name of a hazard category."""
    return f"category {category}"


def strategy_scope(strategy: str) -> str:
    """Return the scope name of an attack strategy chain."""
    return f"strategy {strategy}"


def measure_run(
    store: Store, run_id: str, prices: Mapping[str, Price] | None = None
) -> RunMeasures:
    """Compute the figures of every scope of a stored run.

    Args:
        store: Results database holding the run.
        run_id: Id of the run, or a unique prefix.
        prices: Token prices by target spec or model name.
    """
    run = store.get_run(run_id)
    columns = {row[1] for row in store.query("PRAGMA table_info(attempts)")}
    # Databases written before attack strategies have no strategy per
    # attempt, so their strategy scopes are "no data".
    has_strategies = "strategy" in columns
    attempts = tuple(_read_attempts(store, run.run_id, columns))
    # The overall and category scopes count only the plain cases, like the
    # run's own summary; each strategy scope counts its attack attempts.
    direct = tuple(a for a in attempts if a.strategy in (None, DIRECT_STRATEGY))
    groups: dict[str, list[AttemptFacts]] = defaultdict(list)
    for attempt in direct:
        groups[category_scope(attempt.category)].append(attempt)
    for attempt in attempts:
        if attempt.strategy:
            groups[strategy_scope(attempt.strategy)].append(attempt)
    price = find_price(prices or {}, run)
    scopes = {OVERALL: _measure_scope(OVERALL, direct, run, price)}
    for name in sorted(groups):
        scopes[name] = _measure_scope(name, groups[name], run, price)
    return RunMeasures(run, attempts, scopes, has_strategies)


def _read_attempts(
    store: Store, run_id: str, columns: set[str]
) -> Iterable[AttemptFacts]:
    strategy = "strategy" if "strategy" in columns else "NULL"
    # Attack attempts of a case share its seq; attempt_index orders them.
    order = "seq, attempt_index" if "attempt_index" in columns else "seq"
    rows = store.query(
        "SELECT case_id, category, expected, severity, outcome, flagged, latency_s, "
        f"prompt_tokens, completion_tokens, {strategy}, "
        "COALESCE(unassessed_reason, error_kind), response_text "
        f"FROM attempts WHERE run_id = ? ORDER BY {order}",
        (run_id,),
    )
    for row in rows:
        yield AttemptFacts(
            case_id=row[0],
            category=row[1],
            expected=row[2],
            severity=row[3],
            outcome=row[4],
            flagged=bool(row[5]),
            latency_s=row[6],
            prompt_tokens=row[7],
            completion_tokens=row[8],
            strategy=row[9],
            unassessed_reason=row[10],
            response_text=row[11],
        )


def _measure_scope(
    name: str,
    attempts: Iterable[AttemptFacts],
    run: RunRecord,
    price: tuple[str, Price] | None,
) -> ScopeMeasures:
    attempts = list(attempts)
    counts: Counter[tuple[str, bool]] = Counter(
        (a.outcome, a.flagged) for a in attempts
    )
    incidents: Counter[str] = Counter(
        a.severity
        for a in attempts
        if a.outcome == Outcome.UNSAFE.value
        or (a.flagged and a.outcome != Outcome.UNASSESSED.value)
    )
    latencies = sorted(a.latency_s for a in attempts if a.latency_s is not None)
    reported = [
        a
        for a in attempts
        if a.prompt_tokens is not None or a.completion_tokens is not None
    ]
    prompt = sum(a.prompt_tokens or 0 for a in reported)
    completion = sum(a.completion_tokens or 0 for a in reported)

    cost_by_role: dict[str, Cost] = {}
    cost_missing: str | None = None
    if price is None:
        cost_missing = missing_price_reason(run)
    elif not reported:
        cost_missing = "the target reported no token counts"
    else:
        key, value = price
        cost_by_role["target"] = price_tokens(
            "target", key, value, prompt, completion, len(attempts)
        )
    return ScopeMeasures(
        scope=name,
        metrics=_group_metrics(counts),
        incidents_by_severity={s: incidents.get(s, 0) for s in SEVERITIES},
        latency_s={
            "count": len(latencies),
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
        },
        tokens={"prompt": prompt, "completion": completion},
        token_counts=len(reported),
        cost_by_role=cost_by_role,
        cost_missing=cost_missing,
    )
