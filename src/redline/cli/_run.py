"""``redline run``: run a suite against a target and write reports."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from redline.cli._main import main
from redline.cli._progress import RichProgress
from redline.report import prepare_report_dir, print_summary, write_reports
from redline.report._table import wide_console
from redline.runner import DEFAULT_CLASSIFIERS, RunConfig, RunResult, aresume, arun
from redline.store import DEFAULT_DB_PATH
from redline.targets import GenerationParams


@main.command("run")
@click.option(
    "-s",
    "--suite",
    default="smoke",
    show_default=True,
    help="Built-in suite name (core, smoke) or path to a .yaml/.jsonl suite file.",
)
@click.option(
    "-t",
    "--target",
    default="local",
    show_default=True,
    envvar="REDLINE_TARGET",
    help="System under test: local, gguf:PATH, openai:MODEL or "
    "python:MODULE:FUNCTION. Env: REDLINE_TARGET.",
)
@click.option(
    "--base-url",
    envvar="REDLINE_BASE_URL",
    help="Base URL of an OpenAI-compatible API, such as http://127.0.0.1:8000/v1. "
    "Env: REDLINE_BASE_URL.",
)
@click.option(
    "--api-key",
    envvar="REDLINE_API_KEY",
    help="API key for openai targets; never stored. Env: REDLINE_API_KEY.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Requests in flight at once. Default: 1 for local models, 8 for HTTP.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Limit on one request, in seconds.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Extra tries after HTTP 429, 5xx, timeouts and connection errors.",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Upper bound on generated tokens per response.",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Sampling temperature; 0 asks for greedy decoding.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Sampling seed sent to targets that accept one.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Run only the first N cases of the suite.",
)
@click.option(
    "--classifiers",
    default=",".join(DEFAULT_CLASSIFIERS),
    show_default=True,
    help="Comma-separated classifiers that judge each response; "
    "one must be the refusal detector.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REDLINE_DB",
    default=DEFAULT_DB_PATH,
    show_default=True,
    help="SQLite results database. Env: REDLINE_DB.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("redline-report"),
    show_default=True,
    help="Folder for report.json and report.html.",
)
@click.option(
    "--resume",
    "resume_id",
    metavar="RUN_ID",
    help="Finish a stored run, sending only cases without an attempt; "
    "suite, target and settings come from the stored run.",
)
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
def run_command(**options: Any) -> None:
    """Run a suite against a target, store every attempt and write reports.

    Prints a summary table and writes report.json and a self-contained
    report.html. A run stopped by Ctrl-C or a kill keeps every finished
    attempt; continue it with --resume RUN_ID.
    """
    console = wide_console(stderr=True)
    prepare_report_dir(options["out"])
    target_options = {"base_url": options["base_url"], "api_key": options["api_key"]}
    listener = None if options["no_progress"] else RichProgress(console)
    try:
        if listener is not None:
            with listener:
                result = asyncio.run(_start(options, target_options, listener))
        else:
            result = asyncio.run(_start(options, target_options, None))
    except KeyboardInterrupt:
        console.print(
            "[yellow]interrupted[/]; finished attempts are stored. "
            "Continue with: redline run --resume RUN_ID (see 'redline runs')."
        )
        sys.exit(130)
    _finish(result, options["out"])


async def _start(
    options: dict[str, Any],
    target_options: dict[str, Any],
    listener: RichProgress | None,
) -> RunResult:
    if options["resume_id"]:
        return await aresume(
            options["resume_id"],
            db=options["db"],
            target_options=target_options,
            progress=listener,
        )
    return await arun(
        options["suite"],
        options["target"],
        target_options=target_options,
        params=GenerationParams(
            max_tokens=options["max_tokens"],
            temperature=options["temperature"],
            seed=options["seed"],
        ),
        config=RunConfig(
            concurrency=options["concurrency"],
            timeout_s=options["timeout"],
            max_retries=options["retries"],
            limit=options["limit"],
        ),
        classifiers=[
            name.strip() for name in options["classifiers"].split(",") if name.strip()
        ],
        db=options["db"],
        progress=listener,
    )


def _finish(result: RunResult, out: Path) -> None:
    print_summary(result)
    json_path, html_path = write_reports(result, out)
    click.echo(f"reports: {json_path} {html_path}")
    click.echo(f"run id: {result.run_id}")
