"""Interval estimates and percentiles used by every reported rate."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Two-sided 95% normal quantile.
Z_95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Rate:
    """A proportion with its 95% Wilson score interval.

    Attributes:
        successes: Count in the numerator.
        total: Count in the denominator. When 0 the rate is undefined and
            ``value``, ``low`` and ``high`` are None.
        value: successes / total.
        low: Lower bound of the 95% interval.
        high: Upper bound of the 95% interval.
    """

    successes: int
    total: int
    value: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        """Return the rate as JSON-ready data."""
        return {
            "successes": self.successes,
            "total": self.total,
            "value": self.value,
            "ci95_low": self.low,
            "ci95_high": self.high,
        }

    def format(self) -> str:
        """Return ``"97.5% [93.1, 99.2]"``, or ``"n/a"`` when the total is 0."""
        if self.value is None or self.low is None or self.high is None:
            return "n/a"
        return f"{self.value:.1%} [{self.low * 100:.1f}, {self.high * 100:.1f}]"

    def format_compact(self) -> str:
        """Return ``"98% [93-99]"`` in whole percent, or ``"n/a"`` when the total is 0."""
        if self.value is None or self.low is None or self.high is None:
            return "n/a"
        return f"{self.value:.0%} [{self.low * 100:.0f}-{self.high * 100:.0f}]"


def wilson(successes: int, total: int, z: float = Z_95) -> Rate:
    """Return the proportion successes/total with its Wilson score interval.

    The Wilson interval (Wilson, 1927) keeps good coverage near 0 and 1 and
    for small totals, where the normal-approximation interval fails.
    """
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"invalid counts: successes={successes!r}, total={total!r}")
    if total == 0:
        return Rate(0, 0, None, None, None)
    p = successes / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half_width = (
        z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    )
    low = max(0.0, centre - half_width)
    high = min(1.0, centre + half_width)
    # Round-off can push a bound past the estimate at p = 0 or p = 1.
    return Rate(successes, total, p, min(low, p), max(high, p))


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Return the q-th percentile (0-100) of ascending values by linear interpolation.

    Matches numpy's default ``linear`` method. Returns None for no values.
    """
    if not sorted_values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in [0, 100], got {q!r}")
    position = (len(sorted_values) - 1) * q / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return (
        sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * fraction
    )
