"""Range checks shared by the settings objects of the runner and the targets."""

from __future__ import annotations

import math

from redline.errors import ConfigError


def check_number(
    name: str,
    value: object,
    low: float | None,
    high: float | None,
    *,
    integer: bool = False,
    low_open: bool = False,
    optional: bool = False,
) -> None:
    """Raise ConfigError unless ``value`` is None or a finite number in range."""
    if value is None and optional:
        return
    kinds = (int,) if integer else (int, float)
    valid = isinstance(value, kinds) and not isinstance(value, bool)
    if valid:
        number = float(value)  # type: ignore[arg-type]
        valid = math.isfinite(number)
        if valid and low is not None:
            valid = number > low if low_open else number >= low
        if valid and high is not None:
            valid = number <= high
    if not valid:
        kind = "an integer" if integer else "a finite number"
        bounds = _describe_bounds(low, high, low_open)
        raise ConfigError(f"{name} must be {kind}{bounds}, got {value!r}")


def _describe_bounds(low: float | None, high: float | None, low_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"<= {high:g}")
    return " " + " and ".join(parts) if parts else ""
