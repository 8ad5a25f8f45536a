"""``redline guard``: measure guards on stored runs."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from redline.cli._main import main
from redline.cli._options import DB_OPTION
from redline.errors import ConfigError
from redline.guards import GuardSweep, load_guard_config, steps_thresholds, sweep_guard
from redline.report._table import wide_console


@main.group("guard")
def guard_group() -> None:
    """Measure guards: classifier filters on a target's input and output."""


@guard_group.command("sweep")
@click.argument("run_id")
@click.option(
    "--guard",
    "guard_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Guard config file (YAML) to evaluate.",
)
@click.option(
    "--thresholds",
    metavar="T1,T2,...",
    help="Comma-separated thresholds in [0, 1] for every block filter, "
    "such as 0.1,0.5,0.9.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=2),
    help="Number of evenly spaced thresholds from 0 to 1, ends included. "
    "Default: 11 (0.0, 0.1, ..., 1.0).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the curve as JSON.")
@DB_OPTION
def sweep_command(
    run_id: str,
    guard_path: Path,
    thresholds: str | None,
    steps: int | None,
    as_json: bool,
    db: Path,
) -> None:
    """Show what a guard would have changed in stored run RUN_ID, per threshold.

    The guard's classifiers judge the stored prompts and responses once; no
    request goes to the model. At each threshold a block filter triggers at
    or above it. A blocked harmful request counts as safe and a blocked
    benign request as over-refused; unassessed attempts stay unassessed.
    """
    if thresholds is not None and steps is not None:
        raise ConfigError("--thresholds and --steps both set thresholds; give one")
    if thresholds is not None:
        values = _parse_thresholds(thresholds)
    elif steps is not None:
        values = steps_thresholds(steps)
    else:
        values = steps_thresholds()
    sweep = sweep_guard(run_id, load_guard_config(guard_path), values, db=db)
    if as_json:
        click.echo(json.dumps(sweep.to_dict(), indent=2))
    else:
        _print_sweep(sweep)


def _parse_thresholds(text: str) -> list[float]:
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise ConfigError(
                f"invalid --thresholds value {part.strip()!r}; give comma-separated "
                "numbers in [0, 1], such as 0.1,0.5,0.9"
            ) from None
    return values


def _print_sweep(sweep: GuardSweep) -> None:
    console = wide_console()
    console.print(
        f"run {escape(sweep.run_id)}, guard {escape(sweep.guard['name'])!r} "
        f"({sweep.fingerprint[:12]}): {sweep.attempts} attempts, "
        f"{sweep.guard_errors} with a guard classifier error",
        soft_wrap=True,
    )
    if sweep.run_status != "completed":
        console.print(
            f"note: the run is {escape(sweep.run_status)}, so the curve covers only "
            "its stored attempts",
            soft_wrap=True,
        )
    table = Table()
    for column in ("threshold", "blocked", "safety pass", "over-refusal", "unassessed"):
        table.add_column(column, justify="right")
    for point in (sweep.baseline, *sweep.points):
        table.add_row(
            "no guard" if point.threshold is None else f"{point.threshold:g}",
            point.block_rate.format(),
            point.safety_pass_rate.format(),
            point.over_refusal_rate.format(),
            str(point.outcomes["unassessed"]),
        )
    console.print(table)
    console.print(
        "Rates with 95% Wilson intervals. blocked: share of assessed attempts "
        "that the guard blocks on input or output.",
        soft_wrap=True,
    )
