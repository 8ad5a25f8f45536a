from __future__ import annotations

import numpy as np
import pytest

from redline.metrics import percentile, wilson


def test_wilson_matches_textbook_value():
    # 8 of 10: Wilson 95% interval (0.4902, 0.9433), as in Newcombe (1998), table I.
    rate = wilson(8, 10)
    assert rate.low == pytest.approx(0.4902, abs=1e-4)
    assert rate.high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_all_successes_reaches_one():
    rate = wilson(20, 20)
    assert rate.high == 1.0
    assert rate.low == pytest.approx(0.8389, abs=1e-4)


def test_wilson_zero_successes_starts_at_zero():
    assert wilson(0, 20).low == 0.0


def test_wilson_empty_total_is_undefined():
    rate = wilson(0, 0)
    assert rate.value is None
    assert rate.format() == "n/a"


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError, match="invalid counts"):
        wilson(5, 3)


@pytest.mark.parametrize("q", [0, 25, 50, 95, 99, 100])
def test_percentile_matches_numpy(q):
    values = sorted(np.random.default_rng(7).exponential(size=101).tolist())
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing_is_none():
    assert percentile([], 50) is None
