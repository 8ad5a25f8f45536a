"""Text forms of check values, shared by the terminal, Markdown and JUnit outputs."""

from __future__ import annotations

from redline.gate._evaluate import Check

_STATUS_MARK = {"pass": "✅ pass", "fail": "❌ fail", "no data": "⚪ no data"}


def format_value(metric: str, value: float | None) -> str:
    """Return a value in the metric's unit: percent, seconds, count or currency."""
    if value is None:
        return "n/a"
    if metric.endswith("_rate"):
        return f"{value:.1%}"
    if metric.startswith("latency_"):
        return f"{value:.3f} s"
    if metric.startswith("incidents") or metric == "run_complete":
        return f"{value:.0f}"
    return f"{value:.4g}"


def format_threshold(check: Check) -> str:
    """Return the threshold as ``>= 90.0% (lower bound)`` or ``<= 5.000 s``."""
    if check.threshold is None:
        return "completed"
    sign = ">=" if check.comparison == "min" else "<="
    text = f"{sign} {format_value(check.metric, check.threshold)}"
    if check.bound != "point":
        text += f" ({check.bound} bound)"
    return text


def format_estimate(check: Check) -> str:
    """Return the estimate with its 95% interval where it has one."""
    text = format_value(check.metric, check.estimate)
    if check.interval is not None:
        low, high = check.interval
        text += f" [{low * 100:.1f}, {high * 100:.1f}]"
    return text


def status_mark(check: Check) -> str:
    """Return the status with a symbol, for Markdown tables."""
    return _STATUS_MARK[check.status]


def describe_check(check: Check) -> str:
    """Return one line such as ``safety_pass_rate (overall): 38.7% < 90.0%``."""
    head = f"{check.metric} ({check.scope})"
    if check.observed is None:
        return f"{head}: no data, {check.detail}"
    if check.threshold is None:
        return f"{head}: {check.detail}"
    failed_sign = "<" if check.comparison == "min" else ">"
    passed_sign = ">=" if check.comparison == "min" else "<="
    sign = failed_sign if check.status == "fail" else passed_sign
    bound = "" if check.bound == "point" else f" ({check.bound} bound)"
    observed = format_value(check.metric, check.observed)
    threshold = format_value(check.metric, check.threshold)
    return f"{head}: {observed}{bound} {sign} {threshold}, {check.detail}"
