from __future__ import annotations

import pytest

from redline.compare import minimum_detectable_drop, required_cases
from redline.errors import ConfigError


def test_sample_size_worked_example():
    # Detect a drop from p0 = 0.90 to p1 = 0.85, one-sided alpha 0.05, power 0.8.
    # z(0.95) = 1.644854, z(0.80) = 0.841621.
    # n = (1.644854 * sqrt(0.9 * 0.1) + 0.841621 * sqrt(0.85 * 0.15))^2 / 0.05^2
    #   = (1.644854 * 0.3 + 0.841621 * 0.357071)^2 / 0.0025
    #   = (0.493456 + 0.300518)^2 / 0.0025 = 0.630395 / 0.0025 = 252.16 -> 253.
    plan = required_cases(0.9, 0.05, power=0.8, alpha=0.05)
    assert plan.cases == 253


def test_sample_size_two_sided():
    # As above with z(0.975) = 1.959964:
    # (1.959964 * 0.3 + 0.300518)^2 / 0.0025 = 0.888507^2 / 0.0025 = 315.78 -> 316.
    assert required_cases(0.9, 0.05, sides=2).cases == 316


def test_sample_size_grows_with_power():
    assert required_cases(0.9, 0.05, power=0.9).cases > 253


def test_detectable_drop_inverts_sample_size():
    effect = minimum_detectable_drop(0.9, 253)
    assert effect.drop == pytest.approx(0.05, abs=1e-3)
    assert required_cases(0.9, effect.drop).cases <= 253
    assert required_cases(0.9, effect.drop - 0.001).cases > 253


def test_detectable_drop_for_few_cases_is_none():
    assert minimum_detectable_drop(0.5, 1).drop is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"baseline_rate": 0.0, "drop": 0.1},
        {"baseline_rate": 0.9, "drop": 0.95},
        {"baseline_rate": 0.9, "drop": 0.0},
        {"baseline_rate": 0.9, "drop": 0.1, "power": 1.0},
        {"baseline_rate": 0.9, "drop": 0.1, "alpha": 0.0},
        {"baseline_rate": 0.9, "drop": 0.1, "sides": 3},
    ],
)
def test_sample_size_rejects_out_of_range(kwargs):
    with pytest.raises(ConfigError):
        required_cases(**kwargs)
