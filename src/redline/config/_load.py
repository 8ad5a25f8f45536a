"""Read ``redline.yaml`` and turn every problem into one ConfigError.

An error names the file, the key path (such as ``spec.overall.safety_pass_rate
.bound``), the bad value with ``!r`` and the accepted values.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from redline._yaml import UniqueKeyLoader
from redline.config._model import ProjectConfig
from redline.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("redline.yaml")
# pydantic puts the member type of a union into the error location, such as
# ``strategies.0.StrategyEntry.name``. Those parts are no keys of the file.
# The config's only unions are list items, so a tag always follows an index.
_UNION_TAG = re.compile(r"^(str|int|float|bool|[A-Z]\w+|function-\w+\[.*\])$")


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> ProjectConfig:
    """Read and validate a project config file.

    Raises:
        ConfigError: The file is missing, is not valid YAML, or has an
            unknown key or an invalid value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no config file at {str(path)!r}; write a starter with 'redline init' "
            "or pass --config"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from exc
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str = "redline.yaml") -> ProjectConfig:
    """Validate config text; ``source`` names it in error messages.

    Raises:
        ConfigError: The text is not valid YAML or not a valid config.
    """
    data = load_yaml(text, source=source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping of keys such as 'spec' and "
            f"'prices', got {type(data).__name__} {data!r}"
        )
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation_error(exc)}") from None


def load_yaml(text: str, *, source: str) -> Any:
    """Parse YAML text with the safe loader, rejecting a key given twice.

    Raises:
        ConfigError: The text is not valid YAML, repeats a key in one
            mapping, or nests too deeply for the parser.
    """
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        message = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise ConfigError(f"{where}: invalid YAML: {message}") from None
    except RecursionError:
        # PyYAML composes nested nodes recursively, so deep nesting exhausts
        # the interpreter's recursion limit (1,000 frames by default).
        raise ConfigError(
            f"{source}: invalid YAML: nested too deeply to read; flatten the file"
        ) from None


def describe_validation_error(error: ValidationError) -> str:
    """Return one line about the deepest problem of a validation error.

    pydantic reports every member of a union that failed; the deepest
    location is the member the author meant, so that one is described. At
    equal depth an unknown key wins, because a misspelt key also makes the
    intended key look missing.
    """
    problems = error.errors(include_url=False)
    problem = max(
        problems,
        key=lambda p: (len(_key_path(p["loc"])), p["type"] == "extra_forbidden"),
    )
    keys = _key_path(problem["loc"])
    where = ".".join(str(k) for k in keys) or "(top level)"
    more = len({tuple(_key_path(p["loc"])) for p in problems}) - 1
    suffix = f" (and {more} more problem{'s' * (more > 1)})" if more > 0 else ""
    return f"{where}: {_describe_problem(problem, keys)}{suffix}"


def _describe_problem(problem: Any, keys: list[str | int]) -> str:
    kind = problem["type"]
    value = problem.get("input")
    if kind == "extra_forbidden":
        accepted = _accepted_keys(keys[:-1])
        listing = f"; accepted keys: {', '.join(accepted)}" if accepted else ""
        return f"unknown key {keys[-1]!r}{listing}"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"invalid value {value!r}; accepted: {problem['ctx']['expected']}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"invalid value {value!r}; expected {_expected_mapping(keys)}"
    if kind == "value_error":
        return str(problem["msg"]).removeprefix("Value error, ")
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"invalid value {value!r}; {message[0].lower()}{message[1:]}"


def _expected_mapping(keys: list[str | int]) -> str:
    accepted = _accepted_keys(keys)
    if not accepted:
        return "a mapping"
    # Thresholds take a bare number as shorthand for their first key.
    number = "a number or " if accepted[0] in ("min", "max") else ""
    return f"{number}a mapping with keys {', '.join(accepted)}"


def _key_path(location: tuple[str | int, ...]) -> list[str | int]:
    keys: list[str | int] = []
    for index, part in enumerate(location):
        after_index = index > 0 and isinstance(location[index - 1], int)
        if after_index and isinstance(part, str) and _UNION_TAG.match(part):
            continue
        keys.append(part)
    return keys


def _accepted_keys(keys: list[str | int]) -> list[str]:
    """Return the field names of the config model found at a key path."""
    annotation: Any = ProjectConfig
    for key in keys:
        model = _model_in(annotation)
        if model is not None:
            field = model.model_fields.get(str(key))
            if field is None:
                return []
            annotation = field.annotation
            continue
        arguments = typing.get_args(annotation)
        if not arguments:
            return []
        annotation = arguments[-1]  # the value type of dict[K, V] and list[V]
    model = _model_in(annotation)
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """Return the model class an annotation names, alone or inside ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            if isinstance(member, type) and issubclass(member, BaseModel):
                return member
    return None
