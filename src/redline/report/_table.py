"""Terminal summary tables rendered with rich."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from redline.metrics import AdaptiveMetrics, Outcome
from redline.metrics._attacks import AttackSummary
from redline.runner import RunResult
from redline.runner._result import ClassifierReport

NOT_CALIBRATED = "not calibrated"


def summary_renderable(result: RunResult) -> Group:
    """Return the run's headline and per-category tables as one rich renderable."""
    run, summary = result.run, result.summary
    overall = summary.overall
    head = Table(
        title=escape(f"redline run {run.run_id} ({run.status})"), show_header=False
    )
    head.add_column("metric")
    head.add_column("value (95% Wilson interval)")
    # Names come from user files and must not be read as rich markup.
    suite = f"{run.suite_name} {run.suite_version} ({run.case_count} cases)"
    head.add_row("suite", escape(suite))
    head.add_row("target", escape(run.target_spec))
    head.add_row("attempts", _outcome_counts(overall.outcomes))
    head.add_row("safety pass rate", overall.safety_pass_rate.format())
    head.add_row("over-refusal rate", overall.over_refusal_rate.format())
    head.add_row("flagged output rate", overall.flagged_output_rate.format())
    head.add_row("unassessed rate", overall.unassessed_rate.format())
    head.add_row("incidents", _incidents(result))
    head.add_row("latency p50/p95/p99", _latency(result))
    head.add_row("tokens (prompt/completion)", _tokens(result))
    if summary.unassessed_reasons:
        head.add_row(
            "unassessed reasons",
            escape(
                ", ".join(f"{k}: {v}" for k, v in summary.unassessed_reasons.items())
            ),
        )

    categories = Table(title="per category (95% Wilson intervals, in percent)")
    categories.add_column("category", no_wrap=True)
    for column in ("n", "safety pass", "over-refusal", "flagged", "incidents"):
        categories.add_column(column, no_wrap=True, justify="right")
    for name, group in summary.by_category.items():
        categories.add_row(
            escape(name),
            str(group.attempts),
            group.safety_pass_rate.format_compact(),
            group.over_refusal_rate.format_compact(),
            group.flagged_output_rate.format_compact(),
            str(group.incidents),
        )
    parts: list[Table] = [head, categories]
    if result.attacks is not None:
        parts.append(attack_table(result.attacks))
    if result.adaptive:
        parts.append(adaptive_table(result.adaptive))
    if result.classifiers:
        parts.append(classifier_table(result.classifiers))
    return Group(*parts)


def attack_table(attacks: AttackSummary) -> Table:
    """Return the attack success rate and uplift of each strategy chain."""
    table = Table(
        title="attack success rate per strategy: unsafe / assessed attack attempts "
        "on refuse cases (95% Wilson intervals); uplift over the direct request on "
        "the same cases (95% Newcombe interval)"
    )
    table.add_column("strategy", overflow="fold")
    for column in ("n", "ASR", "uplift", "pairs +/-", "unassessed"):
        table.add_column(column, justify="right")
    table.add_row(
        "direct",
        str(attacks.direct_asr.total),
        attacks.direct_asr.format(),
        "-",
        "-",
        "-",
    )
    for name, metrics in attacks.strategies.items():
        uplift = metrics.uplift
        table.add_row(
            escape(name),
            str(metrics.asr.total),
            metrics.asr.format(),
            uplift.format(),
            f"{uplift.direct_safe_strategy_unsafe}/{uplift.direct_unsafe_strategy_safe}",
            str(metrics.outcomes[Outcome.UNASSESSED.value]),
        )
    table.caption = (
        "pairs +/-: cases the strategy broke and the direct request did not, and "
        "the reverse. n counts assessed attempts on refuse cases; unassessed "
        "counts all of the strategy's attempts, benign cases included. "
        f"{attacks.attempts} attack attempts, {attacks.requests} requests."
    )
    reasons = unassessed_attack_reasons(attacks)
    if reasons:
        table.caption += " Unassessed: " + escape(reasons)
    return table


def adaptive_table(adaptive: Mapping[str, AdaptiveMetrics]) -> Table:
    """Return the success rate and queries to first success of each adaptive attack."""
    table = Table(
        title="adaptive attacks on refuse cases: broken / assessed cases (95% "
        "Wilson intervals); target queries to the first success over broken cases"
    )
    table.add_column("attack", overflow="fold")
    for column in ("attacked", "assessed", "broken", "ASR", "median q", "max q"):
        table.add_column(column, justify="right")
    table.add_column("stop reasons", overflow="fold")
    for name, metrics in adaptive.items():
        table.add_row(
            escape(name),
            str(metrics.attacked),
            str(metrics.assessed),
            str(metrics.broken),
            metrics.asr.format(),
            format_count(metrics.median_queries),
            format_count(metrics.max_queries),
            escape(stop_reason_text(metrics)),
        )
    return table


def stop_reason_text(metrics: AdaptiveMetrics) -> str:
    """Return the cases per stop reason of one adaptive attack, as one line."""
    return ", ".join(f"{reason} {n}" for reason, n in metrics.stop_reasons.items())


def format_count(value: float | None) -> str:
    """Return a count or median without a trailing ``.0``, or ``-`` for None."""
    if value is None:
        return "-"
    return f"{value:g}"


def unassessed_attack_reasons(attacks: AttackSummary) -> str:
    """Return the unassessed attack attempts per strategy and reason, as one line."""
    return "; ".join(
        f"{name}: " + ", ".join(f"{reason} ({n})" for reason, n in reasons.items())
        for name, metrics in attacks.strategies.items()
        if (reasons := metrics.unassessed_reasons)
    )


def classifier_table(reports: tuple[ClassifierReport, ...]) -> Table:
    """Return the verdict counts and latest calibration of each classifier."""
    table = Table(
        title="classifiers: verdicts in this run, and error rates against human "
        "labels from the latest calibration of the same name and version "
        "(95% intervals)"
    )
    table.add_column("classifier", max_width=22, overflow="fold")
    table.add_column("verdicts", justify="right")
    table.add_column("errors", justify="right")
    table.add_column("by tier", max_width=16)
    table.add_column("calibration")
    for report in reports:
        counts = report.counts
        tiers = "\n".join(f"{tier} {n}" for tier, n in counts.by_tier.items())
        table.add_row(
            escape(f"{report.name} {report.version}"),
            str(counts.verdicts),
            str(counts.errors),
            escape(tiers) or "-",
            escape(calibration_text(report)),
        )
    return table


def calibration_text(report: ClassifierReport) -> str:
    """Return one classifier's calibration figures as short lines, or ``not calibrated``."""
    calibration = report.calibration
    if calibration is None:
        return NOT_CALIBRATED
    date = dt.datetime.fromtimestamp(calibration.created_at).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"n {calibration.n}"
        + (f" ({calibration.unassessed} unassessed)" if calibration.unassessed else ""),
        f"FNR {calibration.false_negative_rate.format()}",
        f"FPR {calibration.false_positive_rate.format()}",
        f"precision {calibration.precision.format()}",
        f"recall {calibration.recall.format()}",
        f"F1 {calibration.f1.format(percent=True)}",
        f"kappa {calibration.kappa.format()}",
        f"labels {calibration.labels_path}",
        f"calibrated {date}",
    ]
    return "\n".join(lines)


def print_summary(result: RunResult, console: Console | None = None) -> None:
    """Print the summary tables of a run."""
    (console or wide_console()).print(summary_renderable(result))


def wide_console(stderr: bool = False) -> Console:
    """Return a console 100 columns wide when output is not a terminal.

    Rich falls back to 80 columns for pipes and CI logs, which wraps the
    interval columns; a terminal keeps its own width.
    """
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=100)
    return console


def _outcome_counts(outcomes: dict[str, int]) -> str:
    total = sum(outcomes.values())
    parts = ", ".join(f"{o.value} {outcomes.get(o.value, 0)}" for o in Outcome)
    return f"{total} ({parts})"


def _incidents(result: RunResult) -> str:
    summary = result.summary
    by_severity = ", ".join(
        f"{k} {v}" for k, v in summary.incidents_by_severity.items()
    )
    return f"{summary.overall.incidents} ({by_severity})"


def _tokens(result: RunResult) -> str:
    tokens = result.summary.tokens
    if not tokens["total"]:
        return "n/a (the target reported no token counts)"
    return f"{tokens['prompt']}/{tokens['completion']}"


def _latency(result: RunResult) -> str:
    latency = result.summary.latency_s
    values = [latency.get(k) for k in ("p50", "p95", "p99")]
    if any(v is None for v in values):
        return "n/a"
    return " / ".join(f"{v:.3f} s" for v in values if isinstance(v, float))
