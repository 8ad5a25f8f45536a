"""Markdown summary of a gated run, for a CI job summary or a pull request."""

from __future__ import annotations

from redline.gate._evaluate import GateResult
from redline.gate._format import (
    format_estimate,
    format_threshold,
    format_value,
    status_mark,
)
from redline.gate._measure import OVERALL, RunMeasures, ScopeMeasures

# Failed cases listed by id; the JUnit and JSON outputs list all of them.
_MAX_LISTED_CASES = 25


def markdown_cell(text: str) -> str:
    """Return text that stays inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def gate_markdown(measures: RunMeasures, gate: GateResult | None = None) -> str:
    """Return a Markdown summary: headline figures, spec checks and failed cases."""
    run = measures.run
    lines = []
    if gate is None:
        lines.append(f"## redline run `{run.run_id}`")
    else:
        verdict = "passed ✅" if gate.passed else "failed ❌"
        lines.append(f"## redline gate {verdict}: run `{run.run_id}`")
    lines += [
        "",
        f"Suite **{markdown_cell(run.suite_name)} {markdown_cell(run.suite_version)}** "
        f"(fingerprint `{run.suite_fingerprint[:12]}`), target "
        f"`{markdown_cell(run.target_spec)}`, status {run.status}.",
        "",
        *_headline_table(measures.overall),
    ]
    if gate is not None:
        counts = gate.counts()
        lines += [
            "",
            f"### Spec checks: {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['no data']} without data",
            "",
            "| status | scope | metric | threshold | observed | estimate [95% CI] "
            "| detail |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for check in gate.checks:
            observed = format_value(check.metric, check.observed)
            lines.append(
                f"| {status_mark(check)} | {markdown_cell(check.scope)} "
                f"| {check.metric} | {format_threshold(check)} | {observed} "
                f"| {format_estimate(check)} | {markdown_cell(check.detail)} |"
            )
    lines += _scope_table(measures)
    lines += _failed_cases(measures)
    return "\n".join(lines) + "\n"


def _headline_table(overall: ScopeMeasures) -> list[str]:
    metrics = overall.metrics
    latency = overall.latency_s
    incidents = ", ".join(f"{k} {v}" for k, v in overall.incidents_by_severity.items())
    cost = overall.cost_per_1000_cases
    rows = [
        ("attempts", _outcome_counts(overall)),
        ("safety pass rate", metrics.safety_pass_rate.format()),
        ("over-refusal rate", metrics.over_refusal_rate.format()),
        ("flagged output rate", metrics.flagged_output_rate.format()),
        ("unassessed rate", metrics.unassessed_rate.format()),
        ("incidents", f"{metrics.incidents} ({incidents})"),
        (
            "latency p50 / p95",
            f"{format_value('latency_s', _float(latency['p50']))} / "
            f"{format_value('latency_s', _float(latency['p95']))}",
        ),
        (
            "cost per 1,000 cases",
            format_value("cost", cost)
            if cost is not None
            else f"n/a ({overall.cost_missing})",
        ),
    ]
    return [
        "| metric | value |",
        "| --- | --- |",
        *(f"| {name} | {markdown_cell(value)} |" for name, value in rows),
    ]


def _scope_table(measures: RunMeasures) -> list[str]:
    scopes = [m for name, m in measures.scopes.items() if name != OVERALL]
    if not scopes:
        return []
    lines = [
        "",
        "### Per category and strategy",
        "",
        "| scope | attempts | safety pass | over-refusal | incidents "
        "| latency p50 / p95 | cost per 1,000 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scope in scopes:
        metrics, latency = scope.metrics, scope.latency_s
        cost = scope.cost_per_1000_cases
        lines.append(
            f"| {markdown_cell(scope.scope)} | {scope.attempts} "
            f"| {metrics.safety_pass_rate.format_compact()} "
            f"| {metrics.over_refusal_rate.format_compact()} | {metrics.incidents} "
            f"| {format_value('latency_s', _float(latency['p50']))} / "
            f"{format_value('latency_s', _float(latency['p95']))} "
            f"| {format_value('cost', cost)} |"
        )
    return lines


def _outcome_counts(overall: ScopeMeasures) -> str:
    outcomes = ", ".join(f"{k} {v}" for k, v in overall.metrics.outcomes.items())
    return f"{overall.attempts} ({outcomes})"


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _failed_cases(measures: RunMeasures) -> list[str]:
    failed = [a for a in measures.attempts if a.outcome in ("unsafe", "over_refused")]
    if not failed:
        return []
    lines = ["", f"### Unsafe and over-refused cases ({len(failed)})", ""]
    for attempt in failed[:_MAX_LISTED_CASES]:
        lines.append(
            f"- `{markdown_cell(attempt.case_id)}` {attempt.outcome} "
            f"({markdown_cell(attempt.category)}, {attempt.severity})"
        )
    if len(failed) > _MAX_LISTED_CASES:
        lines.append(
            f"- and {len(failed) - _MAX_LISTED_CASES} more; the JUnit and JSON "
            "outputs list every case"
        )
    return lines
