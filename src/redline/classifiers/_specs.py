"""Classifier specs: names with options, from Python, the command line or YAML.

A spec is a registry name (``"toxicity"``), a mapping with ``name`` and
``options`` (``{"name": "judge", "options": {"target": "openai:m"}}``), or a
built :class:`Classifier`. The command line adds options with assignments
such as ``judge.target=openai:m``, and ``--classifier-config`` reads a YAML
file with a ``classifiers`` list of specs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from redline.classifiers._base import Classifier, create_classifier, short_repr
from redline.config._load import load_yaml
from redline.errors import ConfigError

ClassifierSpec = str | Mapping[str, Any] | Classifier

# Option names whose values are secrets; they are never stored with a run.
SECRET_OPTIONS = frozenset({"api_key"})
_SPEC_KEYS = frozenset({"name", "options"})


def build_classifier(spec: ClassifierSpec, *, where: str = "classifier") -> Classifier:
    """Build a classifier from a spec.

    Args:
        spec: Registry name, mapping with ``name`` and ``options``, or a
            built classifier, which is returned as it is.
        where: Where the spec came from, such as ``classifiers[2]``, for
            error messages.

    Raises:
        ConfigError: The spec has an unknown shape, key or classifier name,
            or the classifier rejects its options.
    """
    if isinstance(spec, Classifier):
        return spec
    name, options = _split_spec(spec, where)
    try:
        return create_classifier(name, **options)
    except TypeError as exc:
        raise ConfigError(
            f"{where}: invalid options for classifier {name!r}: {exc}; "
            "see the classifier's documentation for its options"
        ) from None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_classifier_list(text: str) -> list[str]:
    """Split a comma-separated list of classifier names, as on the command line."""
    return [name.strip() for name in text.split(",") if name.strip()]


def apply_option_assignments(
    specs: Sequence[ClassifierSpec], assignments: Iterable[str]
) -> list[ClassifierSpec]:
    """Add ``NAME.KEY=VALUE`` options to the specs with that classifier name.

    Values are read as YAML scalars, so ``0.7`` is a number, ``true`` a
    boolean and ``[a, b]`` a list.

    Raises:
        ConfigError: An assignment is malformed or names a classifier that is
            not in ``specs``, or ``specs`` names one classifier twice.
    """
    extra: dict[str, dict[str, Any]] = {}
    for assignment in assignments:
        name, key, value = _parse_assignment(assignment)
        extra.setdefault(name, {})[key] = value
    names = [_spec_name(spec) for spec in specs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        # Verdicts are stored and counted by classifier name, so two
        # classifiers of one name would mix their counts in reports.
        raise ConfigError(
            f"classifier {repeated[0]!r} is listed {names.count(repeated[0])} times "
            f"in {names!r}; list each classifier once"
        )
    unknown = sorted(set(extra) - set(names))
    if unknown:
        raise ConfigError(
            f"--classifier-option names classifier {unknown[0]!r}, which is not in "
            f"the classifier list {names!r}; add it to --classifiers"
        )
    result: list[ClassifierSpec] = []
    for spec, name in zip(specs, names, strict=True):
        if name not in extra or isinstance(spec, Classifier):
            result.append(spec)
            continue
        _, options = _split_spec(spec, name)
        result.append({"name": name, "options": {**options, **extra[name]}})
    return result


def load_classifier_config(path: str | Path) -> list[ClassifierSpec]:
    """Read the ``classifiers`` list of specs from a YAML file.

    Raises:
        ConfigError: The file is missing, is not YAML, or its list is invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"classifier config {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read classifier config {str(path)!r}: {exc}"
        ) from None
    data = load_yaml(text, source=str(path))
    if not isinstance(data, dict) or not isinstance(data.get("classifiers"), list):
        raise ConfigError(
            f"{path}: expected a mapping with a 'classifiers' list, such as "
            "'classifiers: [refusal, {name: toxicity, options: {threshold: 0.7}}]'"
        )
    specs: list[ClassifierSpec] = []
    for index, spec in enumerate(data["classifiers"]):
        where = f"{path}: classifiers[{index}]"
        name, options = _split_spec(spec, where)
        specs.append({"name": name, "options": options} if options else name)
    return specs


def public_spec(spec: ClassifierSpec) -> str | dict[str, Any]:
    """Return a spec as JSON-ready data without secret options, for storage."""
    if isinstance(spec, Classifier):
        return spec.name
    name, options = _split_spec(spec, "classifier")
    public = _without_secrets(options)
    return {"name": name, "options": public} if public else name


def _without_secrets(value: Any) -> Any:
    """Drop secret options at any depth, such as a cascade tier's judge api_key."""
    if isinstance(value, Mapping):
        return {
            k: _without_secrets(v) for k, v in value.items() if k not in SECRET_OPTIONS
        }
    if isinstance(value, (list, tuple)):
        return [_without_secrets(v) for v in value]
    if isinstance(value, Classifier):
        return value.name
    return value


def _split_spec(spec: object, where: str) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        if not spec.strip():
            raise ConfigError(f"{where}: empty classifier name")
        return spec.strip(), {}
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"{where}: expected a classifier name or a mapping with 'name' and "
            f"'options', got {short_repr(spec)}"
        )
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; a classifier spec has the keys "
            "'name' and 'options'"
        )
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f"{where}.name: expected a classifier name, got {short_repr(name)}"
        )
    options = spec.get("options") or {}
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise ConfigError(
            f"{where}.options: expected a mapping of option names to values, "
            f"got {short_repr(options)}"
        )
    return name.strip(), dict(options)


def _spec_name(spec: ClassifierSpec) -> str:
    if isinstance(spec, Classifier):
        return spec.name
    return _split_spec(spec, "classifier")[0]


def _parse_assignment(assignment: str) -> tuple[str, str, Any]:
    target, equals, raw = assignment.partition("=")
    name, dot, key = target.strip().partition(".")
    if not equals or not dot or not name or not key.strip():
        raise ConfigError(
            f"invalid --classifier-option {assignment!r}; use NAME.KEY=VALUE, "
            "such as judge.target=openai:llama-guard"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except (yaml.YAMLError, RecursionError):
        value = raw  # not a YAML scalar, such as 'a: b: c'; keep the text
    return name, key.strip(), value
