"""``redline baseline set`` and ``list``: named runs that candidates are compared with."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from redline.cli._main import main
from redline.cli._options import DB_OPTION
from redline.errors import ConfigError
from redline.report._table import wide_console
from redline.store import Store

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def resolve_run_id(store: Store, reference: str) -> str:
    """Return the run id a baseline name points to, else the run with that id or prefix.

    A baseline name wins over a run id prefix that happens to match it.

    Raises:
        StoreError: The reference is neither a baseline name nor a stored run.
    """
    baseline = store.get_baseline(reference)
    if baseline is not None:
        return baseline.run_id
    return store.get_run(reference).run_id


@main.group("baseline")
def baseline_group() -> None:
    """Name stored runs as baselines, for 'redline compare BASELINE RUN'."""


@baseline_group.command("set")
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--name",
    required=True,
    help="Baseline name: letters, digits, '.', '_' and '-', up to 100 characters.",
)
@click.option("--note", help="Free text stored with the baseline, such as a release.")
@DB_OPTION
def baseline_set_command(run_ref: str, name: str, note: str | None, db: Path) -> None:
    """Point baseline NAME at RUN (a run id, a unique prefix, or another baseline).

    Setting an existing name moves it to the new run. Exits with status 2
    when the name is invalid or the run does not exist.
    """
    if not _NAME.match(name):
        raise ConfigError(
            f"invalid baseline name {name!r}; use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, up to 100 characters"
        )
    with Store(db, create=False) as store:
        previous = store.get_baseline(name)
        record = store.set_baseline(name, resolve_run_id(store, run_ref), note)
    moved = ""
    if previous is not None and previous.run_id != record.run_id:
        moved = f" (was {previous.run_id})"
    click.echo(f"baseline {record.name} -> run {record.run_id}{moved}")


@baseline_group.command("list")
@DB_OPTION
def baseline_list_command(db: Path) -> None:
    """List baselines by name, with their runs."""
    with Store(db, create=False) as store:
        baselines = store.list_baselines()
        runs = {b.name: store.get_run(b.run_id) for b in baselines}
    if not baselines:
        click.echo(
            f"no baselines in {db}; set one with 'redline baseline set RUN --name NAME'"
        )
        return
    table = Table()
    for column in ("name", "run id", "set at", "suite", "target", "note"):
        table.add_column(column, no_wrap=column != "note")
    for baseline in baselines:
        run = runs[baseline.name]
        table.add_row(
            escape(baseline.name),
            run.run_id,
            dt.datetime.fromtimestamp(baseline.created_at).strftime("%Y-%m-%d %H:%M"),
            escape(f"{run.suite_name} {run.suite_version}"),
            escape(run.target_spec),
            escape(baseline.note or ""),
        )
    wide_console().print(table)
