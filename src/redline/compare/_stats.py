"""Paired tests and intervals for two runs over the same cases.

Only the standard library is used, so the figures are exact to float
round-off and need no optional dependency.
"""

from __future__ import annotations

import math

from redline.metrics import Z_95, wilson

# Up to this many trials the tail is summed in exact integers. Above it the
# sum runs in floating point from the largest term down, which is far faster.
_EXACT_TRIALS = 1000


def binomial_two_sided_p(successes: int, trials: int) -> float:
    """Return the exact two-sided p-value of ``successes`` under Binomial(trials, 0.5).

    With p = 0.5 the distribution is symmetric, so the two-sided p-value is
    twice the smaller tail, capped at 1. Returns 1.0 for zero trials.
    """
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"invalid counts: successes={successes!r}, trials={trials!r}")
    if trials == 0:
        return 1.0
    smaller = min(successes, trials - successes)
    if trials <= _EXACT_TRIALS:
        tail = sum(math.comb(trials, k) for k in range(smaller + 1))
        return min(1.0, 2 * tail / 2**trials)
    return min(1.0, 2 * math.exp(_log_lower_tail(smaller, trials)))


def _log_lower_tail(last: int, trials: int) -> float:
    """Return log P(X <= last) for X ~ Binomial(trials, 0.5), with last <= trials / 2.

    Terms rise up to ``last``, so the sum starts at the largest term and adds
    smaller ones by the ratio C(n, k-1) / C(n, k) = k / (n - k + 1) until
    they no longer change the float sum.
    """
    log_top = (
        math.lgamma(trials + 1)
        - math.lgamma(last + 1)
        - math.lgamma(trials - last + 1)
        - trials * math.log(2)
    )
    total = term = 1.0
    for k in range(last, 0, -1):
        term *= k / (trials - k + 1)
        total += term
        if term < total * 1e-17:
            break
    return log_top + math.log(total)


def mcnemar_exact_p(worse: int, better: int) -> float:
    """Return the exact McNemar two-sided p-value from the discordant pair counts.

    Under the null hypothesis that both runs have the same rate, each
    discordant pair is equally likely to go either way, so ``worse`` is
    Binomial(worse + better, 0.5). This is the exact binomial form of
    McNemar's test.
    """
    return binomial_two_sided_p(worse, worse + better)


def paired_difference_interval(
    both: int, first_only: int, second_only: int, neither: int, z: float = Z_95
) -> tuple[float, float, float]:
    """Return the difference of two paired proportions with its interval.

    The proportions are p1 = (both + first_only) / n and p2 = (both +
    second_only) / n over n pairs, and the difference is p1 - p2. The
    interval is Newcombe's method 10 (Newcombe, 1998, Statistics in Medicine
    17:2635-2650): it combines the Wilson score interval of each proportion
    with the correlation phi of the 2x2 table, without continuity correction.
    phi is taken as 0 when a margin of the table is empty.

    Returns:
        The difference, its lower bound and its upper bound, in [-1, 1].

    Raises:
        ValueError: A count is negative or there are no pairs.
    """
    counts = (both, first_only, second_only, neither)
    if min(counts) < 0 or sum(counts) == 0:
        raise ValueError(f"invalid paired counts: {counts!r}")
    n = sum(counts)
    first_value, first_low, first_high = _wilson_bounds(both + first_only, n, z)
    second_value, second_low, second_high = _wilson_bounds(both + second_only, n, z)
    margins = (
        (both + first_only)
        * (second_only + neither)
        * (both + second_only)
        * (first_only + neither)
    )
    phi = 0.0
    if margins:
        phi = (both * neither - first_only * second_only) / math.sqrt(margins)

    difference = first_value - second_value
    below_first, above_first = first_value - first_low, first_high - first_value
    below_second, above_second = second_value - second_low, second_high - second_value
    lower_gap = math.sqrt(
        max(
            0.0,
            below_first**2 - 2 * phi * below_first * above_second + above_second**2,
        )
    )
    upper_gap = math.sqrt(
        max(
            0.0,
            above_first**2 - 2 * phi * above_first * below_second + below_second**2,
        )
    )
    return (
        difference,
        max(-1.0, difference - lower_gap),
        min(1.0, difference + upper_gap),
    )


def _wilson_bounds(successes: int, total: int, z: float) -> tuple[float, float, float]:
    """Return the estimate and Wilson bounds of successes/total, for total > 0."""
    rate = wilson(successes, total, z)
    if rate.value is None or rate.low is None or rate.high is None:
        raise ValueError(f"no proportion for {successes}/{total}")
    return rate.value, rate.low, rate.high
