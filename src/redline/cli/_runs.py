"""``redline runs`` and ``redline show``: read stored runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from redline.cli._main import main
from redline.cli._options import DB_OPTION, OUT_OPTION
from redline.report._table import wide_console
from redline.runner import load_result
from redline.store import Store


@main.command("runs")
@DB_OPTION
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Number of runs to list, newest first.",
)
def runs_command(db: Path, limit: int) -> None:
    """List stored runs, newest first."""
    table = Table()
    table.add_column("run id", no_wrap=True)
    for column in ("started", "status", "suite", "target", "attempts", "safety pass"):
        table.add_column(column)
    with Store(db, create=False) as store:
        for run in store.list_runs(limit):
            result = load_result(store, run.run_id)
            table.add_row(
                run.run_id,
                dt.datetime.fromtimestamp(run.created_at).strftime("%Y-%m-%d %H:%M"),
                run.status,
                escape(f"{run.suite_name} {run.suite_version}"),
                escape(run.target_spec),
                f"{result.summary.overall.attempts}/{run.case_count}",
                result.summary.overall.safety_pass_rate.format(),
            )
    if table.row_count:
        wide_console().print(table)
    else:
        click.echo(f"no runs stored in {db}")


@main.command("show")
@click.argument("run_id")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def show_command(run_id: str, db: Path, as_json: bool) -> None:
    """Print the summary of one stored run (a unique prefix of RUN_ID is enough)."""
    from redline.report import print_summary

    with Store(db, create=False) as store:
        result = load_result(store, run_id)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        print_summary(result)


@main.command("report")
@click.argument("run_id")
@DB_OPTION
@OUT_OPTION
def report_command(run_id: str, db: Path, out: Path) -> None:
    """Write report.json and report.html of a stored run, complete or not."""
    from redline.report import write_reports

    with Store(db, create=False) as store:
        result = load_result(store, run_id)
    json_path, html_path = write_reports(result, out)
    click.echo(f"reports: {json_path} {html_path}")
