"""Outcomes, rates with intervals, percentiles, run summaries and attack success rates."""

from redline.metrics._adaptive_summary import AdaptiveMetrics, summarize_adaptive
from redline.metrics._attacks import (
    AttackSummary,
    StrategyMetrics,
    Uplift,
    summarize_attacks,
)
from redline.metrics._outcome import Judgement, Outcome, judge_attempt
from redline.metrics._stats import Z_95, Rate, percentile, wilson
from redline.metrics._summary import GroupMetrics, RunSummary, summarize_run

__all__ = [
    "Z_95",
    "AdaptiveMetrics",
    "AttackSummary",
    "GroupMetrics",
    "Judgement",
    "Outcome",
    "Rate",
    "RunSummary",
    "StrategyMetrics",
    "Uplift",
    "judge_attempt",
    "percentile",
    "summarize_adaptive",
    "summarize_attacks",
    "summarize_run",
    "wilson",
]
