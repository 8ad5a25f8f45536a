"""Success rates and query counts of the adaptive attacks of a run."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from redline.metrics._stats import Rate, wilson
from redline.store import AdaptiveRecord, Store


@dataclass(frozen=True, slots=True)
class AdaptiveMetrics:
    """Figures of one adaptive attack over the cases it attacked.

    Attributes:
        attack: Registry name of the attack, such as ``pair``.
        attacked: Cases the attack ran on.
        assessed: Cases with at least one assessed turn.
        broken: Cases where a turn succeeded.
        asr: Attack success rate, broken over assessed cases, with its 95%
            Wilson interval.
        median_queries: Median target queries to the first success over the
            broken cases, or None when none was broken.
        max_queries: Maximum target queries to the first success over the
            broken cases, or None when none was broken.
        stop_reasons: Cases per stop reason, most frequent first.
        target_queries: Requests sent to the target, over all cases.
        tokens: Prompt plus completion tokens of attacker and target.
    """

    attack: str
    attacked: int
    assessed: int
    broken: int
    asr: Rate
    median_queries: float | None
    max_queries: int | None
    stop_reasons: dict[str, int] = field(default_factory=dict)
    target_queries: int = 0
    tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready data."""
        return {
            "attack": self.attack,
            "attacked": self.attacked,
            "assessed": self.assessed,
            "broken": self.broken,
            "asr": self.asr.to_dict(),
            "median_queries_to_first_success": self.median_queries,
            "max_queries_to_first_success": self.max_queries,
            "stop_reasons": dict(self.stop_reasons),
            "target_queries": self.target_queries,
            "tokens": self.tokens,
        }


def summarize_adaptive(store: Store, run_id: str) -> dict[str, AdaptiveMetrics]:
    """Return the figures of each adaptive attack of a run, by attack name.

    A run without stored adaptive results gives an empty mapping.
    """
    by_attack: dict[str, list[AdaptiveRecord]] = {}
    for record in store.iter_adaptive_results(run_id):
        by_attack.setdefault(record.attack, []).append(record)
    return {name: _metrics(name, records) for name, records in by_attack.items()}


def _metrics(attack: str, records: list[AdaptiveRecord]) -> AdaptiveMetrics:
    assessed = [r for r in records if r.success is not None]
    broken = [r for r in assessed if r.success]
    queries = [
        r.queries_to_first_success
        for r in broken
        if r.queries_to_first_success is not None
    ]
    reasons = Counter(r.stopped_reason for r in records)
    return AdaptiveMetrics(
        attack=attack,
        attacked=len(records),
        assessed=len(assessed),
        broken=len(broken),
        asr=wilson(len(broken), len(assessed)),
        median_queries=statistics.median(queries) if queries else None,
        max_queries=max(queries) if queries else None,
        stop_reasons=dict(reasons.most_common()),
        target_queries=sum(r.target_queries for r in records),
        tokens=sum(r.tokens for r in records),
    )
