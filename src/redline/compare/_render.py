"""Terminal table and Markdown summary of a comparison."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from redline.compare._compare import CaseFlip, Comparison, PairedTest
from redline.gate._markdown import markdown_cell
from redline.metrics import Rate

# Flipped cases listed by id; the JSON output lists all of them.
_MAX_LISTED_CASES = 25
_FLIP_TITLES = {
    "safety_pass_rate": ("flipped to unsafe", "improved to safe"),
    "over_refusal_rate": ("newly over-refused", "no longer over-refused"),
    "flagged_output_rate": ("newly flagged", "no longer flagged"),
    "unassessed_rate": ("newly unassessed", "newly assessed"),
}
_VERDICT_STYLE = {
    "regressed": "bold red",
    "improved": "bold green",
    "no significant change": "bold",
    "not comparable": "bold yellow",
}


def comparison_renderable(comparison: Comparison) -> RenderableType:
    """Return the comparison as a rich table with flips and the verdict below."""
    table = Table(
        title=f"redline compare {comparison.base.run_id} -> {comparison.candidate.run_id}",
        caption=f"{_cases_line(comparison)}; * shown only, not in the verdict",
    )
    table.add_column("metric", no_wrap=True)
    for column in ("base", "candidate", "delta pp [95% CI]"):
        table.add_column(column)
    table.add_column("worse/better", justify="right")
    table.add_column("McNemar p", justify="right")
    for test in comparison.tests:
        table.add_row(
            test.metric + ("" if test.decides_verdict else " *"),
            _rate(test.base),
            _rate(test.candidate),
            _delta(test, unit=""),
            f"{test.worse}/{test.better}",
            f"{test.p_value:.4g}",
        )
    style = _VERDICT_STYLE[comparison.verdict]
    lines = [
        Text(line, style=style if line.startswith("verdict:") else "")
        for line in _detail_lines(comparison)
    ]
    return Group(table, *lines)


def comparison_markdown(comparison: Comparison) -> str:
    """Return a Markdown summary of the comparison for a CI job summary."""
    base, candidate = comparison.base, comparison.candidate
    lines = [
        f"## redline compare: {comparison.verdict}",
        "",
        f"Baseline `{base.run_id}` ({markdown_cell(base.target_spec)}) vs candidate "
        f"`{candidate.run_id}` ({markdown_cell(candidate.target_spec)}). "
        f"{_cases_line(comparison)}",
        "",
        "| metric | base | candidate | delta [95% CI] | discordant worse/better "
        "| exact McNemar p |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for test in comparison.tests:
        name = test.metric if test.decides_verdict else f"{test.metric} (shown only)"
        lines.append(
            f"| {name} | {_rate(test.base)} | {_rate(test.candidate)} "
            f"| {_delta(test)} | {test.worse} / {test.better} | {test.p_value:.4g} |"
        )
    lines.append("")
    for line in _detail_lines(comparison):
        # Indented lines are the reasons under the verdict line.
        bullet = "  - " if line.startswith("  ") else "- "
        lines.append(bullet + markdown_cell(line))
    return "\n".join(lines) + "\n"


def _detail_lines(comparison: Comparison) -> list[str]:
    lines = [_latency_line(comparison), _cost_line(comparison)]
    for test in comparison.tests:
        worse_title, better_title = _FLIP_TITLES[test.metric]
        if test.worse_cases:
            lines.append(_flip_line(worse_title, test.worse_cases))
        if test.better_cases:
            lines.append(_flip_line(better_title, test.better_cases))
    lines += [f"note: {note}" for note in comparison.notes]
    lines.append(f"verdict: {comparison.verdict}")
    lines += [f"  {reason}" for reason in comparison.reasons]
    if comparison.verdict == "regressed":
        owner = comparison.owner or "not set (add owner to redline.yaml)"
        rollback = comparison.rollback_target or (
            "not set (add rollback_target to redline.yaml)"
        )
        lines.append(f"owner: {owner}; rollback target: {rollback}")
    return lines


def _cases_line(comparison: Comparison) -> str:
    return (
        f"{comparison.shared_cases} shared cases ({comparison.base_only} only in "
        f"baseline, {comparison.candidate_only} only in candidate); "
        f"alpha {comparison.alpha:g}"
    )


def _rate(rate: Rate) -> str:
    if rate.value is None:
        return "n/a"
    return f"{rate.value:.1%} ({rate.successes}/{rate.total})"


def _delta(test: PairedTest, unit: str = " pp") -> str:
    if test.delta is None or test.interval is None:
        return "n/a"
    low, high = test.interval
    return f"{test.delta * 100:+.1f}{unit} [{low * 100:+.1f}, {high * 100:+.1f}]"


def _latency_line(comparison: Comparison) -> str:
    latency = comparison.latency
    if not latency.pairs:
        return "latency: no case has a successful request in both runs"

    def seconds(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f} s"

    change = latency.relative_change("p95")
    change_text = "" if change is None else f" ({change:+.1%} at p95)"
    return (
        f"latency p50 / p95 over {latency.pairs} cases: "
        f"{seconds(latency.base['p50'])} / {seconds(latency.base['p95'])} -> "
        f"{seconds(latency.candidate['p50'])} / {seconds(latency.candidate['p95'])}"
        f"{change_text}; {latency.slower} slower, {latency.faster} faster, "
        f"sign test p = {latency.p_value:.4g}"
    )


def _cost_line(comparison: Comparison) -> str:
    cost = comparison.cost
    if cost.base is None or cost.candidate is None:
        reasons = "; ".join(f"{k}: {v}" for k, v in cost.missing.items())
        return f"cost per 1,000 cases: n/a ({reasons})"
    change = cost.relative_change
    change_text = "" if change is None else f" ({change:+.1%})"
    return f"cost per 1,000 cases: {cost.base:.4g} -> {cost.candidate:.4g}{change_text}"


def _flip_line(title: str, flips: Sequence[CaseFlip]) -> str:
    listed = ", ".join(
        f"{f.case_id} ({f.category}, {f.severity})" for f in flips[:_MAX_LISTED_CASES]
    )
    more = len(flips) - _MAX_LISTED_CASES
    suffix = f", and {more} more" if more > 0 else ""
    return f"{title} ({len(flips)}): {listed}{suffix}"
