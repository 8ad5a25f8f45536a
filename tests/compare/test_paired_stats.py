from __future__ import annotations

import math

import pytest

from redline.compare import (
    binomial_two_sided_p,
    mcnemar_exact_p,
    paired_difference_interval,
)


def test_mcnemar_one_sided_discordance():
    # 8 discordant pairs all one way: p = 2 * C(8,0) / 2**8 = 2/256.
    assert mcnemar_exact_p(8, 0) == pytest.approx(0.0078125, abs=1e-15)


def test_mcnemar_symmetric_in_direction():
    assert mcnemar_exact_p(3, 12) == mcnemar_exact_p(12, 3)


def test_mcnemar_hand_computed_mixed():
    # 10 worse, 2 better: p = 2 * (C(12,0) + C(12,1) + C(12,2)) / 2**12
    #                       = 2 * (1 + 12 + 66) / 4096 = 158/4096.
    assert mcnemar_exact_p(10, 2) == pytest.approx(158 / 4096, abs=1e-15)


def test_mcnemar_matches_scipy_binomtest():
    stats = pytest.importorskip("scipy.stats")
    for worse, better in [(0, 1), (5, 9), (17, 4), (40, 60), (250, 200)]:
        expected = stats.binomtest(worse, worse + better, 0.5).pvalue
        assert mcnemar_exact_p(worse, better) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("successes, trials", [(480, 1001), (1400, 3000), (0, 5000)])
def test_binomial_float_path_matches_exact(successes, trials):
    exact = 2 * sum(math.comb(trials, k) for k in range(successes + 1)) / 2**trials
    assert binomial_two_sided_p(successes, trials) == pytest.approx(
        min(1.0, exact), rel=1e-9, abs=1e-300
    )


def test_mcnemar_no_discordant_pairs():
    assert mcnemar_exact_p(0, 0) == 1.0


def test_mcnemar_equal_split_capped_at_one():
    assert binomial_two_sided_p(5000, 10000) == 1.0


def test_binomial_large_trials_no_overflow():
    # 2**2000 does not fit a float; the exact integer sums must not overflow.
    assert 0.0 <= binomial_two_sided_p(0, 2000) < 1e-300
    assert binomial_two_sided_p(1000, 2000) == 1.0


@pytest.mark.parametrize("successes, trials", [(-1, 3), (4, 3), (0, -1)])
def test_binomial_rejects_invalid_counts(successes, trials):
    with pytest.raises(ValueError):
        binomial_two_sided_p(successes, trials)


def test_newcombe_interval_hand_computed():
    # Table: both 10, first only 15, second only 5, neither 20; n = 50.
    # p1 = 25/50 = 0.5, p2 = 15/50 = 0.3, difference 0.2.
    # Wilson 95% for 25/50: [0.366445, 0.633555]; for 15/50: [0.191036, 0.437504].
    # phi = (10*20 - 15*5) / sqrt(25*25*15*35) = 125 / 572.822 = 0.218218.
    # lower gap^2 = 0.133555^2 - 2*phi*0.133555*0.137504 + 0.137504^2 = 0.028729
    # upper gap^2 = 0.133555^2 - 2*phi*0.133555*0.108964 + 0.108964^2 = 0.023359
    # so the interval is 0.2 - 0.169497 to 0.2 + 0.152835 = [0.030503, 0.352835].
    difference, low, high = paired_difference_interval(10, 15, 5, 20)
    assert difference == pytest.approx(0.2)
    assert low == pytest.approx(0.030503, abs=2e-6)
    assert high == pytest.approx(0.352835, abs=2e-6)


def test_newcombe_interval_without_discordance_spans_zero():
    difference, low, high = paired_difference_interval(12, 0, 0, 8)
    assert difference == 0.0
    assert low < 0 < high


def test_newcombe_interval_stays_in_range():
    difference, low, high = paired_difference_interval(0, 30, 0, 0)
    assert difference == 1.0
    assert -1.0 <= low <= difference <= high <= 1.0


def test_newcombe_interval_rejects_empty_table():
    with pytest.raises(ValueError):
        paired_difference_interval(0, 0, 0, 0)
