"""Outcomes, rates with intervals, percentiles and run summaries."""

from redline.metrics._outcome import Judgement, Outcome, judge_attempt
from redline.metrics._stats import Z_95, Rate, percentile, wilson
from redline.metrics._summary import GroupMetrics, RunSummary, summarize_run

__all__ = [
    "Z_95",
    "GroupMetrics",
    "Judgement",
    "Outcome",
    "Rate",
    "RunSummary",
    "judge_attempt",
    "percentile",
    "summarize_run",
    "wilson",
]
