"""Options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path

import click

from redline.store import DEFAULT_DB_PATH

DB_OPTION = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REDLINE_DB",
    default=DEFAULT_DB_PATH,
    show_default=True,
    help="SQLite results database. Env: REDLINE_DB.",
)
OUT_OPTION = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("redline-report"),
    show_default=True,
    help="Folder for report.json and report.html.",
)
