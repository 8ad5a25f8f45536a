"""Paired comparison of two runs, exact McNemar tests and sample-size planning."""

from redline.compare._compare import (
    CaseFlip,
    Comparison,
    CostDelta,
    LatencyDelta,
    PairedTest,
    compare_measures,
    compare_runs,
)
from redline.compare._plan import (
    DetectableEffect,
    SampleSizePlan,
    minimum_detectable_drop,
    required_cases,
)
from redline.compare._stats import (
    binomial_two_sided_p,
    mcnemar_exact_p,
    paired_difference_interval,
)

__all__ = [
    "CaseFlip",
    "Comparison",
    "CostDelta",
    "DetectableEffect",
    "LatencyDelta",
    "PairedTest",
    "SampleSizePlan",
    "binomial_two_sided_p",
    "compare_measures",
    "compare_runs",
    "mcnemar_exact_p",
    "minimum_detectable_drop",
    "paired_difference_interval",
    "required_cases",
]
