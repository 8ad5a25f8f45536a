"""``redline run``: run a suite against a target and write reports."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from rich.text import Text

from redline.attacks import DEFAULT_ATTACKER, AttackBudget
from redline.classifiers import (
    ClassifierSpec,
    apply_option_assignments,
    load_classifier_config,
)
from redline.cli._main import main
from redline.cli._options import DB_OPTION, OUT_OPTION
from redline.cli._progress import RichProgress
from redline.cli._project import CONFIG_OPTION, apply_project_config
from redline.errors import ConfigError
from redline.report import prepare_report_dir, print_summary, write_reports
from redline.report._table import wide_console
from redline.runner import (
    DEFAULT_CLASSIFIERS,
    RunConfig,
    RunResult,
    aresume,
    arun,
    new_run_id,
)
from redline.targets import GenerationParams

# Settings a resumed run takes from the store, so they cannot be given again.
_STORED_OPTIONS = (
    "suite",
    "target",
    "concurrency",
    "timeout",
    "retries",
    "max_tokens",
    "temperature",
    "seed",
    "limit",
    "classifiers",
    "classifier_config",
    "classifier_option",
    "adaptive",
    "attacker",
    "adaptive_queries",
    "adaptive_tokens",
    "adaptive_option",
)


@main.command("run")
@click.option(
    "-s",
    "--suite",
    default="smoke",
    show_default=True,
    help="Built-in suite name (core, smoke) or path to a .yaml/.jsonl suite file. "
    "A redline.yaml that lists one suite replaces the default.",
)
@click.option(
    "-t",
    "--target",
    default="local",
    show_default=True,
    envvar="REDLINE_TARGET",
    help="System under test: local, gguf:PATH, openai:MODEL or "
    "python:MODULE:FUNCTION, or the name of a target in redline.yaml, whose "
    "single target replaces the default. Env: REDLINE_TARGET.",
)
@click.option(
    "--base-url",
    envvar="REDLINE_BASE_URL",
    help="Base URL of an OpenAI-compatible API, such as http://127.0.0.1:8000/v1. "
    "Env: REDLINE_BASE_URL, then OPENAI_BASE_URL; without either, openai: "
    "targets use https://api.openai.com/v1.",
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
    "-o",
    "--classifier-option",
    "classifier_option",
    multiple=True,
    metavar="NAME.KEY=VALUE",
    help="Set an option of a classifier in --classifiers, such as "
    "judge.target=openai:llama-guard or toxicity.threshold=0.7; repeatable. "
    "Values are read as YAML scalars.",
)
@click.option(
    "--classifier-config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="YAML file with a 'classifiers' list of names or {name, options} "
    "mappings; replaces --classifiers.",
)
@click.option(
    "--strategies",
    metavar="LIST",
    help="Comma-separated attack strategy chains, such as "
    "base64,roleplay,base64+roleplay; each case is also sent with each chain's "
    "rewrites. List them with 'redline strategies'.",
)
@click.option(
    "--strategy-seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the strategies' random draws; the same seed sends the same "
    "attack messages.",
)
@click.option(
    "--no-direct",
    is_flag=True,
    help="Send only the attack attempts, not each case as it is.",
)
@click.option(
    "--helper-target",
    metavar="SPEC",
    help="Target spec of the helper model for strategies that call one, such as "
    "translation (openai:MODEL uses --base-url's environment defaults).",
)
@click.option(
    "--strategy-option",
    "strategy_option",
    multiple=True,
    metavar="NAME.KEY=VALUE",
    help="Set a parameter of a strategy in --strategies, such as "
    "translation.language=Zulu or best_of_n.n=4; repeatable. Values are read "
    "as YAML scalars.",
)
@click.option(
    "--adaptive",
    metavar="LIST",
    help="Comma-separated adaptive attacks, such as pair,crescendo; after the "
    "attempts are sent, each one attacks every refuse case with an attacker model.",
)
@click.option(
    "--attacker",
    metavar="SPEC",
    default=DEFAULT_ATTACKER,
    show_default=True,
    help="Target spec of the adaptive attacks' attacker model. An openai: "
    "attacker also gets --base-url and --api-key. With target and attacker both "
    "local, one model is loaded.",
)
@click.option(
    "--adaptive-queries",
    type=click.IntRange(min=1),
    help="Maximum target requests of one adaptive attack on one case.",
)
@click.option(
    "--adaptive-tokens",
    type=click.IntRange(min=1),
    help="Maximum prompt plus completion tokens of attacker and target over "
    "all adaptive attacks of the run.",
)
@click.option(
    "--adaptive-option",
    "adaptive_option",
    multiple=True,
    metavar="NAME.KEY=VALUE",
    help="Set a parameter of an attack in --adaptive, such as pair.streams=1 "
    "or crescendo.max_turns=8; repeatable. Values are read as YAML scalars.",
)
@DB_OPTION
@OUT_OPTION
@click.option(
    "--resume",
    "resume_id",
    metavar="RUN_ID",
    help="Finish a stored run, sending only cases without an attempt; "
    "suite, target and settings come from the stored run.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="CPU threads for local GGUF models. Default: all cores.",
)
@click.option(
    "--guard",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Guard config file (YAML) whose input and output filters wrap the "
    "target. With --resume, the stored guard is loaded again; give --guard "
    "only if its file moved.",
)
@CONFIG_OPTION
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
def run_command(**options: Any) -> None:
    """Run a suite against a target, store every attempt and write reports.

    Prints a summary table and writes report.json and a self-contained
    report.html. A run stopped by Ctrl-C, SIGTERM or a kill keeps every
    finished attempt; continue it with --resume RUN_ID. Exits with status 1
    when no attempt could be assessed, for example when every request failed.
    """
    console = wide_console(stderr=True)
    _check_resume_options(options)
    if not options["resume_id"]:
        options = apply_project_config(options)
    prepare_report_dir(options["out"])
    run_id = options["resume_id"] or new_run_id()
    target_options = dict(options.get("extra_target_options") or {})
    command_line = {
        "base_url": options["base_url"],
        "api_key": options["api_key"],
        "threads": options["threads"],
    }
    target_options.update(
        {key: value for key, value in command_line.items() if value is not None}
    )
    listener = None if options["no_progress"] else RichProgress(console)
    try:
        if listener is not None:
            with listener:
                result = asyncio.run(_start(options, run_id, target_options, listener))
        else:
            result = asyncio.run(_start(options, run_id, target_options, None))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print(
            Text.assemble(
                ("interrupted", "yellow"),
                f"; finished attempts are stored. Continue with: "
                f"redline run --resume {run_id}",
            ),
            soft_wrap=True,
        )
        sys.exit(130)
    _finish(result, options["out"])
    _exit_if_nothing_assessed(result)


def _check_resume_options(options: dict[str, Any]) -> None:
    """Reject options that --resume would silently ignore."""
    if not options["resume_id"]:
        return
    context = click.get_current_context()
    ignored = [
        f"--{name.replace('_', '-')}"
        for name in _STORED_OPTIONS
        if context.get_parameter_source(name) is not ParameterSource.DEFAULT
    ]
    # REDLINE_CONFIG may stay set in the environment; only --config is rejected.
    if context.get_parameter_source("config_path") is ParameterSource.COMMANDLINE:
        ignored.append("--config")
    if ignored:
        raise ConfigError(
            f"--resume continues a stored run with its own settings, so "
            f"{', '.join(ignored)} cannot be changed; drop them or start a new run"
        )


def _exit_if_nothing_assessed(result: RunResult) -> None:
    overall, attacks = result.summary.overall, result.attacks
    attempts, unassessed = overall.attempts, overall.outcomes["unassessed"]
    if attacks is not None:
        attempts += attacks.attempts
        unassessed += sum(m.outcomes["unassessed"] for m in attacks.strategies.values())
    if attempts and unassessed == attempts:
        reasons = ", ".join(
            f"{reason} ({count})"
            for reason, count in result.summary.unassessed_reasons.items()
        )
        click.echo(
            f"error: no attempt could be assessed ({reasons}); check the target, "
            "--base-url and --api-key",
            err=True,
        )
        sys.exit(1)


async def _start(
    options: dict[str, Any],
    run_id: str,
    target_options: dict[str, Any],
    listener: RichProgress | None,
) -> RunResult:
    # SIGTERM (from a CI runner or a service manager) stops the run like Ctrl-C.
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    if options["resume_id"]:
        return await aresume(
            run_id,
            db=options["db"],
            target_options=target_options,
            progress=listener,
            guard=options["guard"],
            **_given_attack_settings(options),
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
        classifiers=_classifier_specs(options),
        db=options["db"],
        progress=listener,
        run_id=run_id,
        guard=options["guard"],
        strategies=options["strategies"] or (),
        strategy_seed=options["strategy_seed"],
        direct=not options["no_direct"],
        helper_target=options["helper_target"],
        strategy_options=options["strategy_option"],
        adaptive=options["adaptive"] or (),
        attacker=options["attacker"],
        adaptive_budget=AttackBudget(
            max_queries_per_case=options["adaptive_queries"],
            max_tokens_per_run=options["adaptive_tokens"],
        ),
        adaptive_options=options["adaptive_option"],
        attacker_options=_attacker_options(options["attacker"], target_options),
    )


def _attacker_options(attacker: str, target_options: dict[str, Any]) -> dict[str, Any]:
    """Return --base-url and --api-key for an openai attacker; other kinds take neither."""
    if not attacker.startswith("openai:"):
        return {}
    return {
        key: target_options[key]
        for key in ("base_url", "api_key")
        if key in target_options
    }


def _given_attack_settings(options: dict[str, Any]) -> dict[str, Any]:
    """Return the attack settings given with --resume, which must match the stored run."""
    context = click.get_current_context()

    def given(name: str) -> bool:
        return context.get_parameter_source(name) is not ParameterSource.DEFAULT

    return {
        "strategies": options["strategies"] if given("strategies") else None,
        "strategy_seed": options["strategy_seed"] if given("strategy_seed") else None,
        "direct": not options["no_direct"] if given("no_direct") else None,
        "helper_target": options["helper_target"],
        "strategy_options": options["strategy_option"],
    }


def _classifier_specs(options: dict[str, Any]) -> list[ClassifierSpec]:
    """Combine --classifiers or --classifier-config with --classifier-option."""
    specs: list[ClassifierSpec]
    if options.get("classifier_specs") is not None:
        specs = list(options["classifier_specs"])
    elif options["classifier_config"] is not None:
        context = click.get_current_context()
        if context.get_parameter_source("classifiers") is not ParameterSource.DEFAULT:
            raise ConfigError(
                "--classifiers and --classifier-config both list classifiers; "
                "give one of them"
            )
        specs = load_classifier_config(options["classifier_config"])
    else:
        specs = [name for name in options["classifiers"].split(",") if name.strip()]
    return apply_option_assignments(specs, options["classifier_option"])


def _finish(result: RunResult, out: Path) -> None:
    print_summary(result)
    json_path, html_path = write_reports(result, out)
    click.echo(f"reports: {json_path} {html_path}")
    click.echo(f"run id: {result.run_id}")
