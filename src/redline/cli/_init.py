"""``redline init``: write a commented starter ``redline.yaml``."""

from __future__ import annotations

from pathlib import Path

import click

from redline.cli._main import main
from redline.config import DEFAULT_CONFIG_PATH, STARTER_CONFIG
from redline.errors import ConfigError, ReportError


@main.command("init")
@click.argument(
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_CONFIG_PATH,
)
def init_command(path: Path) -> None:
    """Write a commented starter project config to PATH (default redline.yaml).

    Refuses to overwrite an existing file. Exits with status 2 when PATH
    exists or cannot be written.
    """
    if path.exists():
        raise ConfigError(
            f"{str(path)!r} already exists; edit it, remove it, or give another PATH"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(STARTER_CONFIG)
    except FileExistsError:
        raise ConfigError(
            f"{str(path)!r} already exists; edit it, remove it, or give another PATH"
        ) from None
    except OSError as exc:
        raise ReportError(f"cannot write {str(path)!r}: {exc}") from exc
    click.echo(f"wrote {path}; edit the spec, then run: redline gate RUN_ID")
