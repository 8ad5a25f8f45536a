"""Release gating: per-scope figures of a run, spec checks and CI outputs."""

from redline.gate._cost import ROLES, Cost, find_price, price_tokens
from redline.gate._evaluate import Check, GateResult, evaluate_spec
from redline.gate._measure import (
    OVERALL,
    AttemptFacts,
    RunMeasures,
    ScopeMeasures,
    category_scope,
    measure_run,
    strategy_scope,
)

__all__ = [
    "OVERALL",
    "ROLES",
    "AttemptFacts",
    "Check",
    "Cost",
    "GateResult",
    "RunMeasures",
    "ScopeMeasures",
    "category_scope",
    "evaluate_spec",
    "find_price",
    "measure_run",
    "price_tokens",
    "strategy_scope",
]
