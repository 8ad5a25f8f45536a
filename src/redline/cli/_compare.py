"""``redline compare``: paired comparison of a baseline run and a candidate run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from redline.cli._gate import CONFIG_OPTION, load_project_config, write_text_output
from redline.cli._main import main
from redline.cli._options import DB_OPTION
from redline.compare import compare_runs
from redline.compare._render import comparison_markdown, comparison_renderable
from redline.report._table import wide_console
from redline.store import Store

# Exit status per verdict, as documented in the command help.
_EXIT_STATUS = {
    "no significant change": 0,
    "improved": 0,
    "regressed": 1,
    "not comparable": 3,
}


@main.command("compare")
@click.argument("base_ref", metavar="BASE")
@click.argument("candidate_ref", metavar="CANDIDATE")
@CONFIG_OPTION
@DB_OPTION
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    help="Significance level of each paired test. Default: compare.alpha in "
    "the config, else 0.05.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Markdown summary here, for a CI job summary.",
)
def compare_command(
    base_ref: str,
    candidate_ref: str,
    config_path: Path,
    db: Path,
    alpha: float | None,
    as_json: bool,
    markdown: Path | None,
) -> None:
    """Compare CANDIDATE with BASE over the cases both runs share.

    BASE and CANDIDATE are run ids, unique prefixes of them, or baseline
    names. Each metric gets an exact McNemar test on the discordant cases
    and a 95% interval for the change by Newcombe's paired method. Cases
    unassessed in either run are left out and counted. The config, when
    present, sets the metrics that decide the verdict, alpha, latency and
    cost tolerances, and the owner and rollback target shown on a
    regression. Runs whose suite fingerprints or classifiers differ, or
    that have no shared case assessed in both, are not comparable.

    \b
    Exit status:
      0  no significant change, or improved
      1  regressed
      2  invalid usage or configuration, such as an unknown run
      3  not comparable: the suites or classifiers differ, or no shared
         case was assessed in both runs
    """
    from redline.cli._baseline import resolve_run_id

    config = load_project_config(config_path, required=False)
    settings = config.compare
    if alpha is not None:
        settings = settings.model_copy(update={"alpha": alpha})
    with Store(db, create=False) as store:
        comparison = compare_runs(
            store,
            resolve_run_id(store, base_ref),
            resolve_run_id(store, candidate_ref),
            settings=settings,
            prices=config.prices,
            owner=config.owner,
            rollback_target=config.rollback_target,
        )
    if markdown is not None:
        write_text_output(markdown, comparison_markdown(comparison), "Markdown")
    if as_json:
        click.echo(json.dumps(comparison.to_dict(), indent=2))
    else:
        wide_console().print(comparison_renderable(comparison))
    sys.exit(_EXIT_STATUS[comparison.verdict])
