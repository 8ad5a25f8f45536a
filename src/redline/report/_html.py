"""Self-contained HTML report that opens offline.

Red-team outputs often contain hostile markup, so the template engine
escapes every value; the page also forbids loading anything from outside
through its Content-Security-Policy.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from pathlib import Path
from typing import Any

import jinja2

from redline.metrics import AdaptiveMetrics, Outcome, Rate
from redline.metrics._attacks import AttackSummary
from redline.report._table import format_count, stop_reason_text
from redline.runner import REPORT_FORMAT_VERSION, RunResult
from redline.runner._result import ClassifierReport

DEFAULT_MAX_ATTEMPTS = 5000


def render_html_report(
    result: RunResult, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> str:
    """Return the HTML report of ``result`` with at most ``max_attempts`` attempt rows."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("redline.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["visible"] = show_invisible
    data = result.to_dict()
    summary = result.summary
    attempts = list(itertools.islice(result.attempts(), max_attempts))
    overall = summary.overall
    total_attempts = overall.attempts
    if result.attacks is not None:
        total_attempts += result.attacks.attempts
    return environment.get_template("report.html").render(
        run=data["run"],
        format_version=REPORT_FORMAT_VERSION,
        summary=summary,
        headline=[
            ("Safety pass rate", _rate_view(overall.safety_pass_rate)),
            ("Over-refusal rate", _rate_view(overall.over_refusal_rate)),
            ("Flagged output rate", _rate_view(overall.flagged_output_rate)),
            ("Unassessed rate", _rate_view(overall.unassessed_rate)),
        ],
        categories=[
            {
                "name": name,
                "attempts": group.attempts,
                "safety": _with_total(group.safety_pass_rate),
                "over_refusal": _with_total(group.over_refusal_rate),
                "flagged": _with_total(group.flagged_output_rate),
                "unassessed": group.outcomes[Outcome.UNASSESSED.value],
                "incidents": group.incidents,
            }
            for name, group in summary.by_category.items()
        ],
        latency={k: _seconds(v) for k, v in summary.latency_s.items()},
        classifiers=[_classifier_view(report) for report in result.classifiers],
        outcomes=[o.value for o in Outcome],
        attempts=attempts,
        truncated=len(attempts) < total_attempts,
        total_attempts=total_attempts,
        attacks=None if result.attacks is None else _attack_view(result.attacks),
        adaptive=[_adaptive_view(m) for m in result.adaptive.values()],
    )


def write_html_report(
    result: RunResult, path: str | Path, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> Path:
    """Write the HTML report of ``result`` to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(render_html_report(result, max_attempts), encoding="utf-8")
    os.replace(partial, path)
    return path


# Control characters and bidirectional overrides can hide or visually reorder
# text in a browser, so model output shows them as escapes such as \u202e.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def show_invisible(text: str) -> str:
    """Replace control, zero-width and bidi-override characters with ``\\uXXXX``."""
    return _INVISIBLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _with_total(rate: Rate) -> str:
    return rate.format() if rate.total == 0 else f"{rate.format()}, n = {rate.total}"


def _rate_view(rate: Rate) -> dict[str, str]:
    if rate.value is None:
        return {"value_text": "n/a", "detail": "no assessed attempts"}
    assert rate.low is not None and rate.high is not None
    return {
        "value_text": f"{rate.value:.1%}",
        "detail": f"[{rate.low:.1%}, {rate.high:.1%}], n = {rate.total}",
    }


def _attack_view(attacks: AttackSummary) -> dict[str, Any]:
    """Return the rows of the strategy table and the strategy x category heat map."""
    categories = attacks.categories
    return {
        "direct": _with_total(attacks.direct_asr),
        "strategies": [
            {
                "name": name,
                "attempts": metrics.attempts,
                "asr": _with_total(metrics.asr),
                "uplift": metrics.uplift.format(),
                "pairs": metrics.uplift.pairs,
                "broke": metrics.uplift.direct_safe_strategy_unsafe,
                "held": metrics.uplift.direct_unsafe_strategy_safe,
                "p_value": f"{metrics.uplift.p_value:.3g}",
                "unassessed": metrics.outcomes[Outcome.UNASSESSED.value],
                "reasons": ", ".join(
                    f"{reason} ({n})"
                    for reason, n in metrics.unassessed_reasons.items()
                ),
            }
            for name, metrics in attacks.strategies.items()
        ],
        "categories": categories,
        "heat_map": [
            {
                "name": name,
                "cells": [
                    heat_cell(attacks.by_strategy_category.get(name, {}).get(category))
                    for category in categories
                ],
            }
            for name in attacks.strategies
        ],
        "pooled": [heat_cell(attacks.by_category[c]) for c in categories],
    }


def _adaptive_view(metrics: AdaptiveMetrics) -> dict[str, Any]:
    return {
        "name": metrics.attack,
        "attacked": metrics.attacked,
        "assessed": metrics.assessed,
        "broken": metrics.broken,
        "asr": _with_total(metrics.asr),
        "median": format_count(metrics.median_queries),
        "max": format_count(metrics.max_queries),
        "reasons": stop_reason_text(metrics),
    }


def heat_cell(rate: Rate | None) -> dict[str, str]:
    """Return the text and background colour of one heat map cell.

    The colour runs from white at an ASR of 0 to red at 1, and is grey when
    no attempt was assessed.
    """
    if rate is None or rate.value is None:
        return {"text": "n/a", "n": "0", "colour": "#eceff1"}
    # Green and blue fall together from 255 to 80, so only the red stays.
    fade = round(255 - 175 * rate.value)
    return {
        "text": f"{rate.value:.0%}",
        "n": str(rate.total),
        "colour": f"#ff{fade:02x}{fade:02x}",
    }


def _classifier_view(report: ClassifierReport) -> dict[str, Any]:
    counts = report.counts
    view: dict[str, Any] = {
        "name": report.name,
        "kind": str(report.identity.get("kind", "")),
        "version": report.version,
        "verdicts": counts.verdicts,
        "errors": counts.errors,
        "tiers": ", ".join(f"{tier}: {n}" for tier, n in counts.by_tier.items()),
        "calibration": None,
    }
    calibration = report.calibration
    if calibration is not None:
        view["calibration"] = {
            "n": calibration.n,
            "unassessed": calibration.unassessed,
            "fnr": calibration.false_negative_rate.format(),
            "fpr": calibration.false_positive_rate.format(),
            "precision": calibration.precision.format(),
            "recall": calibration.recall.format(),
            "f1": calibration.f1.format(percent=True),
            "kappa": calibration.kappa.format(),
            "labels": calibration.labels_path,
            "sha256": calibration.labels_sha256[:16],
            "date": dt.datetime.fromtimestamp(calibration.created_at).strftime(
                "%Y-%m-%d %H:%M"
            ),
        }
    return view


def _seconds(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "n/a" if value is None else str(value)
