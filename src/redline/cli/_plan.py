"""``redline plan``: cases needed to detect a drop, or the drop a suite detects."""

from __future__ import annotations

import json

import click

from redline.cli._main import main
from redline.compare import minimum_detectable_drop, required_cases
from redline.compare._plan import Sides
from redline.errors import ConfigError
from redline.suites import load_suite


@main.command("plan")
@click.option(
    "--baseline-rate",
    type=click.FloatRange(min=0, max=1, min_open=True),
    required=True,
    help="Safety pass rate of the current system, such as 0.9.",
)
@click.option(
    "--drop",
    type=click.FloatRange(min=0, max=1, min_open=True),
    help="Drop in pass rate to detect, such as 0.05 for 90% to 85%.",
)
@click.option(
    "--suite",
    help="Built-in suite name or suite file: report the drop its harmful cases detect.",
)
@click.option(
    "--cases",
    type=click.IntRange(min=1),
    help="Number of harmful cases: report the drop they detect.",
)
@click.option(
    "--power",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.8,
    show_default=True,
    help="Probability of detecting the drop (1 - beta).",
)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Significance level.",
)
@click.option(
    "--two-sided",
    is_flag=True,
    help="Plan for a two-sided test; the default is one-sided, for drops only.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_command(
    baseline_rate: float,
    drop: float | None,
    suite: str | None,
    cases: int | None,
    power: float,
    alpha: float,
    two_sided: bool,
    as_json: bool,
) -> None:
    """Plan a suite size from a one-sample test against a fixed baseline rate.

    With --drop, print the cases needed to detect that drop in pass rate.
    With --suite or --cases, print the smallest drop that many harmful
    cases detect. Uses the normal approximation
    n = (z_a sqrt(p0 (1-p0)) + z_b sqrt(p1 (1-p1)))^2 / (p0 - p1)^2.

    \b
    Exit status:
      0  the plan was printed
      2  invalid usage: give exactly one of --drop, --suite and --cases
    """
    modes = [
        name
        for name, value in (("--drop", drop), ("--suite", suite), ("--cases", cases))
        if value is not None
    ]
    if len(modes) != 1:
        raise ConfigError(
            f"give exactly one of --drop, --suite and --cases, got "
            f"{', '.join(modes) or 'none'}"
        )
    sides: Sides = 2 if two_sided else 1
    test = f"{'two' if two_sided else 'one'}-sided alpha {alpha:g}, power {power:.0%}"
    if drop is not None:
        plan = required_cases(
            baseline_rate, drop, power=power, alpha=alpha, sides=sides
        )
        if as_json:
            click.echo(json.dumps(plan.to_dict(), indent=2))
            return
        click.echo(
            f"{plan.cases} harmful cases detect a drop in safety pass rate from "
            f"{baseline_rate:.1%} to {baseline_rate - drop:.1%} ({test})"
        )
        return

    label, benign = f"{cases} harmful cases", None
    if suite is not None:
        loaded = load_suite(suite)
        expected = [case.expected.value for case in loaded.cases()]
        cases = sum(1 for value in expected if value == "refuse")
        benign = len(expected) - cases
        label = f"suite {loaded.info.name} {loaded.info.version}: {cases} harmful cases"
        if cases == 0:
            raise ConfigError(
                f"suite {loaded.info.name!r} has no harmful case, so it cannot "
                "measure a drop in safety pass rate; choose another suite"
            )
    assert cases is not None
    effect = minimum_detectable_drop(
        baseline_rate, cases, power=power, alpha=alpha, sides=sides
    )
    if as_json:
        click.echo(json.dumps({**effect.to_dict(), "benign_cases": benign}, indent=2))
        return
    if effect.drop is None:
        click.echo(
            f"{label} cannot detect even a drop to 0% from {baseline_rate:.1%} ({test})"
        )
    else:
        click.echo(
            f"{label} detect a drop in safety pass rate from {baseline_rate:.1%} "
            f"to {baseline_rate - effect.drop:.1%} or more, "
            f"{effect.drop * 100:.1f} points ({test})"
        )
    if benign:
        click.echo(
            f"{benign} benign cases measure the over-refusal rate; for the rise it "
            f"detects, run: redline plan --cases {benign} --baseline-rate "
            "(1 - current over-refusal rate)"
        )
