"""Sample-size plans at the edges of their inputs."""

from __future__ import annotations

import pytest

from redline.compare import required_cases
from redline.errors import ConfigError


def test_drop_to_zero_needs_a_case():
    assert required_cases(1.0, 1.0).cases == 1


def test_tiny_alpha_planned():
    # 1 - 1e-300 rounds to 1.0, where the normal quantile is infinite.
    assert required_cases(0.9, 0.05, alpha=1e-300).cases > 253


def test_default_alpha_plan_unchanged():
    assert required_cases(0.9, 0.05).cases == 253


@pytest.mark.parametrize("sides", [1, 2])
def test_subnormal_alpha_rejected(sides):
    with pytest.raises(ConfigError, match="too small for a normal quantile"):
        required_cases(0.9, 0.05, alpha=5e-324, sides=sides)
