"""``redline gate``: check a stored run against the spec in ``redline.yaml``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from redline.cli._main import main
from redline.cli._options import DB_OPTION
from redline.config import DEFAULT_CONFIG_PATH, ProjectConfig, load_config
from redline.errors import ConfigError, ReportError
from redline.gate import GateResult, evaluate_spec, measure_run
from redline.gate._format import (
    describe_check,
    format_estimate,
    format_threshold,
)
from redline.gate._junit import write_junit
from redline.gate._markdown import gate_markdown
from redline.report._table import wide_console
from redline.store import Store

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REDLINE_CONFIG",
    default=DEFAULT_CONFIG_PATH,
    show_default=True,
    help="Project config with the spec, prices and owner. Env: REDLINE_CONFIG.",
)
_STATUS_STYLE = {"pass": "green", "fail": "bold red", "no data": "yellow"}


def load_project_config(path: Path, *, required: bool) -> ProjectConfig:
    """Read the config; without ``required``, a missing default file means defaults."""
    source = click.get_current_context().get_parameter_source("config_path")
    default = source is click.core.ParameterSource.DEFAULT
    if not required and default and not path.exists():
        return ProjectConfig()
    return load_config(path)


def write_text_output(path: Path, text: str, kind: str) -> None:
    """Write an output file, creating its folder, or raise ReportError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {kind} file {str(path)!r}: {exc}") from exc


@main.command("gate")
@click.argument("run_ref", metavar="RUN")
@CONFIG_OPTION
@DB_OPTION
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JUnit XML here: one test case per attempt and per check.",
)
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Markdown summary here, for a CI job summary.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the checks as JSON, not a table."
)
def gate_command(
    run_ref: str,
    config_path: Path,
    db: Path,
    junit: Path | None,
    markdown: Path | None,
    as_json: bool,
) -> None:
    """Check a stored run against the spec in redline.yaml.

    RUN is a run id, a unique prefix of one, or a baseline name. Each
    threshold of the spec gives one check per scope. A check without data,
    such as a category with no attempts, is reported as "no data" and fails
    only when the spec sets require_data: true. A run without any assessed
    attempt, such as one whose requests all failed, always fails.

    \b
    Exit status:
      0  every check passed
      1  at least one check failed
      2  invalid usage or configuration: a bad redline.yaml, a spec without
         thresholds, or an unknown run
    """
    from redline.cli._baseline import resolve_run_id

    config = load_project_config(config_path, required=True)
    if config.spec.is_empty():
        raise ConfigError(
            f"the spec in {str(config_path)!r} sets no threshold; add some under "
            "'spec' (see 'redline init')"
        )
    with Store(db, create=False) as store:
        run_id = resolve_run_id(store, run_ref)
        measures = measure_run(store, run_id, config.prices)
    result = evaluate_spec(config.spec, measures)
    if junit is not None:
        write_junit(junit, measures, result)
    if markdown is not None:
        write_text_output(markdown, gate_markdown(measures, result), "Markdown")
    if as_json:
        payload = {
            **result.to_dict(),
            "measures": {k: v.to_dict() for k, v in measures.scopes.items()},
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_result(result)
    if not result.passed:
        sys.exit(1)


def _print_result(result: GateResult) -> None:
    table = Table(title=f"redline gate {result.run_id}")
    table.add_column("status", no_wrap=True)
    table.add_column("scope")
    table.add_column("metric", no_wrap=True)
    for column in ("threshold", "value [95% CI]", "detail"):
        table.add_column(column)
    for check in result.checks:
        table.add_row(
            f"[{_STATUS_STYLE[check.status]}]{check.status}[/]",
            escape(check.scope),
            check.metric,
            format_threshold(check),
            format_estimate(check),
            escape(check.detail),
        )
    console = wide_console()
    console.print(table)
    counts = result.counts()
    summary = (
        f"{counts['pass']} passed, {counts['fail']} failed, "
        f"{counts['no data']} without data"
    )
    if result.passed:
        console.print(f"[bold green]gate passed[/]: {summary}")
        return
    console.print(f"[bold red]gate failed[/]: {summary}")
    for check in result.checks:
        if check.failed:
            console.print(f"  {describe_check(check)}", markup=False)
