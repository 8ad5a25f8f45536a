"""Sample sizes and minimum detectable effects for a drop in pass rate.

Both use the textbook normal approximation for a one-sample test of a
proportion p1 against a fixed baseline rate p0:

    n = (z_a * sqrt(p0 (1 - p0)) + z_b * sqrt(p1 (1 - p1)))^2 / (p0 - p1)^2

where z_a is the standard normal quantile at 1 - alpha (one-sided) or
1 - alpha/2 (two-sided), and z_b the quantile at the power 1 - beta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

from redline.errors import ConfigError

Sides = Literal[1, 2]
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class SampleSizePlan:
    """Cases needed to detect a drop in pass rate.

    Attributes:
        baseline_rate: Pass rate p0 of the current system.
        drop: Drop to detect, p0 - p1.
        alpha: Significance level.
        power: Probability of detecting the drop, 1 - beta.
        sides: 1 for a one-sided test (only drops), 2 for two-sided.
        cases: Cases needed, rounded up.
    """

    baseline_rate: float
    drop: float
    alpha: float
    power: float
    sides: Sides
    cases: int

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as JSON-ready data."""
        return {
            "baseline_rate": self.baseline_rate,
            "drop": self.drop,
            "alpha": self.alpha,
            "power": self.power,
            "sides": self.sides,
            "cases": self.cases,
        }


@dataclass(frozen=True, slots=True)
class DetectableEffect:
    """Smallest drop in pass rate that a number of cases detects.

    Attributes:
        baseline_rate: Pass rate p0 of the current system.
        cases: Cases available, such as the harmful cases of a suite.
        alpha: Significance level.
        power: Probability of detecting the drop, 1 - beta.
        sides: 1 for a one-sided test (only drops), 2 for two-sided.
        drop: Smallest detectable drop p0 - p1, or None when even a drop to
            0 is not detectable with these cases.
    """

    baseline_rate: float
    cases: int
    alpha: float
    power: float
    sides: Sides
    drop: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the effect as JSON-ready data."""
        return {
            "baseline_rate": self.baseline_rate,
            "cases": self.cases,
            "alpha": self.alpha,
            "power": self.power,
            "sides": self.sides,
            "minimum_detectable_drop": self.drop,
        }


def required_cases(
    baseline_rate: float,
    drop: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    sides: Sides = 1,
) -> SampleSizePlan:
    """Return the cases needed to detect a drop from ``baseline_rate`` by ``drop``.

    Raises:
        ConfigError: A rate, the drop, alpha or power is out of range.
    """
    _check_inputs(baseline_rate, power, alpha, sides)
    if not 0 < drop <= baseline_rate:
        raise ConfigError(
            f"drop must be > 0 and at most the baseline rate {baseline_rate:g}, "
            f"got {drop!r}"
        )
    # The formula gives 0 for a drop from 1 to 0, but a test needs a case.
    cases = max(
        1,
        math.ceil(
            _exact_cases(baseline_rate, baseline_rate - drop, power, alpha, sides)
        ),
    )
    return SampleSizePlan(baseline_rate, drop, alpha, power, sides, cases)


def minimum_detectable_drop(
    baseline_rate: float,
    cases: int,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    sides: Sides = 1,
) -> DetectableEffect:
    """Return the smallest drop from ``baseline_rate`` that ``cases`` detects.

    Solves the sample-size formula for the drop by bisection, to 1e-6.

    Raises:
        ConfigError: A rate, alpha, power or the case count is out of range.
    """
    _check_inputs(baseline_rate, power, alpha, sides)
    if isinstance(cases, bool) or not isinstance(cases, int) or cases < 1:
        raise ConfigError(f"cases must be an integer >= 1, got {cases!r}")

    def needed(drop: float) -> float:
        return _exact_cases(baseline_rate, baseline_rate - drop, power, alpha, sides)

    if needed(baseline_rate) > cases:
        return DetectableEffect(baseline_rate, cases, alpha, power, sides, None)
    # needed() falls as the drop grows, so bisect on the drop.
    low, high = 0.0, baseline_rate
    while high - low > 1e-6:
        middle = (low + high) / 2
        if needed(middle) <= cases:
            high = middle
        else:
            low = middle
    return DetectableEffect(baseline_rate, cases, alpha, power, sides, high)


def _exact_cases(
    p0: float, p1: float, power: float, alpha: float, sides: Sides
) -> float:
    # -inv_cdf(a) equals inv_cdf(1 - a), but 1 - a rounds to 1.0 for a
    # below about 1e-17, where inv_cdf raises.
    z_alpha = -_NORMAL.inv_cdf(alpha / sides)
    z_beta = _NORMAL.inv_cdf(power)
    spread = z_alpha * math.sqrt(p0 * (1 - p0)) + z_beta * math.sqrt(p1 * (1 - p1))
    return spread**2 / (p0 - p1) ** 2


def _check_inputs(baseline_rate: float, power: float, alpha: float, sides: int) -> None:
    if not 0 < baseline_rate <= 1:
        raise ConfigError(f"baseline rate must be > 0 and <= 1, got {baseline_rate!r}")
    if not 0 < power < 1:
        raise ConfigError(f"power must be > 0 and < 1, got {power!r}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be > 0 and < 1, got {alpha!r}")
    if alpha / sides < 1e-300:
        raise ConfigError(
            f"alpha {alpha!r} is too small for a normal quantile in floating "
            "point; use an alpha of 1e-300 or more"
        )
    if sides not in (1, 2):
        raise ConfigError(f"sides must be 1 or 2, got {sides!r}")
