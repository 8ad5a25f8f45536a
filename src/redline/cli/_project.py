"""Defaults of ``redline run`` from the project config ``redline.yaml``.

An option given on the command line always wins. For the others, the config
supplies the target (``--target NAME`` picks one of its named targets, and a
config with one target needs no ``--target``), the suite, the classifiers and
the attack strategies. A config that lists several targets or suites needs
``--target`` or ``--suite`` to choose, rather than a silent first choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from redline.config import DEFAULT_CONFIG_PATH, ProjectConfig, load_config
from redline.errors import ConfigError

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REDLINE_CONFIG",
    help="Project config that supplies the target, suite, classifiers and "
    "strategies not given on the command line. Default: redline.yaml in the "
    "working folder, when it exists. Env: REDLINE_CONFIG.",
)

_CLASSIFIER_OPTIONS = ("classifiers", "classifier_config")


def apply_project_config(options: dict[str, Any]) -> dict[str, Any]:
    """Return ``options`` with the defaults that the project config supplies.

    Raises:
        ConfigError: An explicit config file is missing or invalid, or the
            config lists several targets or suites and none was chosen.
    """
    config, path = _load(options.get("config_path"))
    if config is None:
        return options
    context = click.get_current_context()

    def given(name: str) -> bool:
        return context.get_parameter_source(name) not in (
            ParameterSource.DEFAULT,
            None,
        )

    resolved = dict(options)
    _apply_target(resolved, config, path, given)
    if not given("suite") and config.suites:
        resolved["suite"] = _only(config.suites, "suite", "--suite", path)
    if not any(given(name) for name in _CLASSIFIER_OPTIONS) and config.classifiers:
        resolved["classifier_specs"] = [
            entry if isinstance(entry, str) else entry.model_dump()
            for entry in config.classifiers
        ]
    if not given("strategies") and config.strategies:
        resolved["strategies"] = [
            entry if isinstance(entry, str) else entry.model_dump()
            for entry in config.strategies
        ]
    return resolved


def _load(explicit: Path | None) -> tuple[ProjectConfig | None, Path]:
    if explicit is not None:
        return load_config(explicit), explicit
    if DEFAULT_CONFIG_PATH.is_file():
        return load_config(DEFAULT_CONFIG_PATH), DEFAULT_CONFIG_PATH
    return None, DEFAULT_CONFIG_PATH


def _apply_target(
    resolved: dict[str, Any],
    config: ProjectConfig,
    path: Path,
    given: Any,
) -> None:
    if not config.targets:
        return
    if given("target"):
        name = resolved["target"]
        if name not in config.targets:
            return  # a target spec such as openai:m, used as it is
    else:
        name = _only(list(config.targets), "target", "--target NAME", path)
    settings = config.targets[name]
    resolved["target"] = settings.spec
    resolved["target_name"] = name
    if settings.base_url is not None and not given("base_url"):
        resolved["base_url"] = settings.base_url
    resolved["extra_target_options"] = dict(settings.options)


def _only(values: list[str], kind: str, option: str, path: Path) -> str:
    if len(values) == 1:
        return values[0]
    raise ConfigError(
        f"{path} lists {len(values)} {kind}s ({', '.join(values)}); choose one "
        f"with {option}"
    )
