"""``redline strategies``: list the registered attack strategies."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from redline.cli._main import main


def _strategy_rows() -> list[dict[str, Any]]:
    """Return name, family, description and parameters of each strategy."""
    from redline.attacks import strategy_class, strategy_names

    rows = []
    for name in strategy_names():
        cls = strategy_class(name)
        parameters = {}
        for field, info in cls.Params.model_fields.items():
            if info.is_required():
                parameters[field] = {"required": True}
            else:
                default = info.get_default(call_default_factory=True)
                parameters[field] = {"required": False, "default": default}
        rows.append(
            {
                "name": name,
                "family": cls.family,
                "description": cls.description,
                "parameters": parameters,
            }
        )
    return rows


def _describe_parameters(parameters: dict[str, dict[str, Any]]) -> str:
    return ", ".join(
        f"{key} (required)" if info["required"] else f"{key}={info['default']!r}"
        for key, info in parameters.items()
    )


@main.command("strategies")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def strategies_command(as_json: bool) -> None:
    """List attack strategies with their family, description and parameters."""
    from redline.report._table import wide_console

    rows = _strategy_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table()
    for column in ("strategy", "family", "description", "parameters"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["name"],
            row["family"],
            escape(row["description"]),
            escape(_describe_parameters(row["parameters"])),
        )
    wide_console().print(table)
