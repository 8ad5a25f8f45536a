"""Guard configuration: filters, actions and the YAML file format.

A guard config file looks like this::

    name: strict
    input:
      - classifier: pii
        action: redact
      - classifier: toxicity
        threshold: 0.8
        action: block
    output:
      - classifier: toxicity
        options: {threshold: 0.5}
        action: flag
    safe_reply: "I can't help with that request."
    on_error: block

Every problem in a file is reported as a :class:`ConfigError` that names the
file, the key path (such as ``output[1].action``), the bad value and the
accepted values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline.classifiers import (
    Classifier,
    PIIClassifier,
    RefusalDetector,
    classifier_names,
    create_classifier,
)
from redline.classifiers._base import short_repr
from redline.config._load import load_yaml
from redline.errors import ConfigError

logger = logging.getLogger(__name__)

ACTIONS = ("block", "redact", "flag")
ON_ERROR_CHOICES = ("block", "allow")
INPUT_SCOPES = ("last", "all")
# The refusal detector labels this text a refusal, so a blocked request
# counts as refused in a guarded run.
DEFAULT_SAFE_REPLY = "I can't help with that request."

# Option names whose values are secrets; they are left out of stored configs
# and of the fingerprint.
SECRET_OPTIONS = frozenset({"api_key"})

_TOP_KEYS = ("name", "input", "output", "safe_reply", "on_error", "input_scope")
_FILTER_KEYS = ("classifier", "options", "threshold", "action")


@dataclass(frozen=True, slots=True)
class GuardFilter:
    """One classifier that a guard runs on the input or on the output.

    Attributes:
        classifier: Registry name of the classifier, or a built instance.
        options: Keyword arguments for ``create_classifier`` when
            ``classifier`` is a name.
        threshold: Score in [0, 1] at or above which the filter triggers.
            When None, the classifier's own ``flagged`` decides.
        action: ``block`` replaces the message with the guard's safe reply,
            ``redact`` replaces personal data with ``[REDACTED:<kind>]``
            (``pii`` classifier only), and ``flag`` only records the decision.
    """

    classifier: str | Classifier
    options: Mapping[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    action: str = "block"

    @property
    def name(self) -> str:
        """Registry name of the filter's classifier."""
        if isinstance(self.classifier, Classifier):
            return self.classifier.name
        return self.classifier

    def to_dict(self) -> dict[str, Any]:
        """Return the filter as JSON-ready data, without secret options."""
        data: dict[str, Any] = {"classifier": self.name, "action": self.action}
        if isinstance(self.classifier, Classifier):
            data["identity"] = self.classifier.identity()
        public = _without_secrets(self.options)
        if public:
            data["options"] = public
        if self.threshold is not None:
            data["threshold"] = self.threshold
        return data


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """Input and output filters of a guard and what it does when they trigger.

    Attributes:
        name: Short name shown in reports.
        input_filters: Filters run on user messages before they are sent.
        output_filters: Filters run on the target's response.
        safe_reply: Text returned in place of a blocked request or response.
        on_error: ``block`` treats a classifier failure as a triggered block
            filter (fail closed), ``allow`` lets the message through. Either
            way the failure is recorded.
        input_scope: ``last`` filters only the last user message, ``all``
            every user message of the conversation.
        path: File the config was loaded from, or None.
    """

    name: str = "guard"
    input_filters: tuple[GuardFilter, ...] = ()
    output_filters: tuple[GuardFilter, ...] = ()
    safe_reply: str = DEFAULT_SAFE_REPLY
    on_error: str = "block"
    input_scope: str = "last"
    path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the config as JSON-ready data, without secret options or path."""
        return {
            "name": self.name,
            "input": [f.to_dict() for f in self.input_filters],
            "output": [f.to_dict() for f in self.output_filters],
            "safe_reply": self.safe_reply,
            "on_error": self.on_error,
            "input_scope": self.input_scope,
        }

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_record(self) -> dict[str, Any]:
        """Return what a run stores about its guard: config, fingerprint and path."""
        return {
            "config": self.to_dict(),
            "fingerprint": self.fingerprint,
            "path": str(self.path.resolve()) if self.path is not None else None,
        }


@dataclass(frozen=True, slots=True)
class BuiltFilter:
    """A validated filter with its classifier built.

    Attributes:
        spec: The filter as configured.
        classifier: The built classifier.
        threshold: Threshold the guard compares scores with, or None to use
            the classifier's ``flagged``. For ``redact`` it is never None: it
            defaults to the pii classifier's own threshold.
    """

    spec: GuardFilter
    classifier: Classifier
    threshold: float | None

    @property
    def action(self) -> str:
        """Configured action: block, redact or flag."""
        return self.spec.action


def load_guard_config(path: str | Path) -> GuardConfig:
    """Read and validate a guard config file (YAML).

    Raises:
        ConfigError: The file is missing, is not YAML, or any key or value
            in it is invalid. The message names the file and the key path.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"guard config {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read guard config {str(path)!r}: {exc}") from None
    data = load_yaml(text, source=f"guard config {path}")
    return parse_guard_config(data, source=str(path), path=path)


def parse_guard_config(
    data: object, *, source: str = "guard config", path: Path | None = None
) -> GuardConfig:
    """Validate guard config data, as read from YAML or JSON.

    Args:
        data: Mapping with the keys of a guard config file.
        source: Where the data came from, such as a file name, for messages.
        path: File to record as the config's origin.

    Raises:
        ConfigError: Any key or value is invalid.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: expected a mapping with keys {', '.join(_TOP_KEYS)}, "
            f"got {_short(data)}"
        )
    _check_keys(data, _TOP_KEYS, source)
    config = GuardConfig(
        name=_string(data, "name", "guard", source),
        input_filters=_parse_filters(data.get("input"), f"{source}: input"),
        output_filters=_parse_filters(data.get("output"), f"{source}: output"),
        safe_reply=_string(data, "safe_reply", DEFAULT_SAFE_REPLY, source),
        on_error=_choice(data, "on_error", ON_ERROR_CHOICES, "block", source),
        input_scope=_choice(data, "input_scope", INPUT_SCOPES, "last", source),
        path=path,
    )
    build_filters(config, source=source)
    return config


def resolve_guard_config(guard: str | Path | GuardConfig) -> GuardConfig:
    """Return a loaded config for a path or a config, validating the latter."""
    if isinstance(guard, GuardConfig):
        build_filters(guard)
        return guard
    return load_guard_config(guard)


def build_filters(
    config: GuardConfig, *, source: str | None = None
) -> tuple[list[BuiltFilter], list[BuiltFilter]]:
    """Validate the values of a config and build its input and output filters.

    Raises:
        ConfigError: A value is invalid, a classifier is unknown or rejects
            its options, or ``redact`` is used with a classifier other than
            pii.
    """
    source = source or f"guard {config.name!r}"
    for key, value, accepted in (
        ("on_error", config.on_error, ON_ERROR_CHOICES),
        ("input_scope", config.input_scope, INPUT_SCOPES),
    ):
        if value not in accepted:
            raise _invalid(f"{source}: {key}", value, accepted)
    if not isinstance(config.safe_reply, str) or not config.safe_reply.strip():
        raise ConfigError(
            f"{source}: safe_reply: expected a non-empty string, "
            f"got {config.safe_reply!r}"
        )
    if not config.input_filters and not config.output_filters:
        raise ConfigError(
            f"{source}: the guard has no filters; add at least one entry under "
            "'input' or 'output'"
        )
    built_input = [
        _build_filter(f, f"{source}: input[{i}]")
        for i, f in enumerate(config.input_filters)
    ]
    built_output = [
        _build_filter(f, f"{source}: output[{i}]")
        for i, f in enumerate(config.output_filters)
    ]
    _warn_if_not_refusal(config.safe_reply, source)
    return built_input, built_output


def restore_guard_config(
    stored: Mapping[str, Any] | None,
    guard: str | Path | GuardConfig | None,
    run_id: str,
) -> GuardConfig | None:
    """Load the guard of a stored run again for resuming it.

    Args:
        stored: The run's stored ``guard`` record, or None for a run
            without a guard.
        guard: A guard config to use in place of the stored path, such as
            the same file after a move.
        run_id: Id of the run, for messages.

    Raises:
        ConfigError: A guard was given for a run without one, no guard can be
            found, or the guard's fingerprint differs from the stored one.
    """
    if stored is None:
        if guard is not None:
            raise ConfigError(
                f"run {run_id} was started without a guard, so it cannot be resumed "
                "with one; drop --guard or start a new run"
            )
        return None
    if guard is None:
        if not stored.get("path"):
            raise ConfigError(
                f"run {run_id} used guard {stored['config']['name']!r}, built in "
                "Python; pass the same guard again with aresume(..., guard=...)"
            )
        guard = Path(stored["path"])
        if not guard.exists():
            raise ConfigError(
                f"run {run_id} used guard config {str(guard)!r}, which is not "
                "found; if the file moved, pass its new path with --guard"
            )
    config = resolve_guard_config(guard)
    if config.fingerprint != stored["fingerprint"]:
        where = f" ({config.path})" if config.path is not None else ""
        raise ConfigError(
            f"guard {config.name!r}{where} changed since run {run_id} started "
            f"(fingerprint {config.fingerprint[:12]} != {stored['fingerprint'][:12]}); "
            "restore the original guard config or start a new run"
        )
    return config


def _build_filter(spec: GuardFilter, where: str) -> BuiltFilter:
    if spec.action not in ACTIONS:
        raise _invalid(f"{where}.action", spec.action, ACTIONS)
    threshold = spec.threshold
    if threshold is not None and not _is_unit_number(threshold):
        raise ConfigError(
            f"{where}.threshold: expected a number in [0, 1], got {_short(threshold)}"
        )
    classifier = _build_classifier(spec, where)
    if spec.action == "redact":
        if not isinstance(classifier, PIIClassifier):
            raise ConfigError(
                f"{where}.action: 'redact' needs the classifier 'pii', which reports "
                f"the spans to replace, got classifier {classifier.name!r}; use "
                "'block' or 'flag' with it"
            )
        if threshold is None:
            threshold = classifier.threshold
    return BuiltFilter(spec, classifier, threshold)


def _build_classifier(spec: GuardFilter, where: str) -> Classifier:
    if isinstance(spec.classifier, Classifier):
        return spec.classifier
    if not isinstance(spec.classifier, str) or not spec.classifier.strip():
        raise ConfigError(
            f"{where}.classifier: expected a classifier name, "
            f"got {_short(spec.classifier)}"
        )
    names = classifier_names()
    if spec.classifier not in names:
        raise _invalid(f"{where}.classifier", spec.classifier, names)
    if not isinstance(spec.options, Mapping) or not all(
        isinstance(key, str) for key in spec.options
    ):
        raise ConfigError(
            f"{where}.options: expected a mapping of option names to values, "
            f"got {_short(spec.options)}"
        )
    try:
        return create_classifier(spec.classifier, **spec.options)
    except TypeError as exc:
        raise ConfigError(
            f"{where}.options: invalid options for classifier {spec.classifier!r}: "
            f"{exc}; see the classifier's docstring for its options"
        ) from None
    except ConfigError as exc:
        raise ConfigError(f"{where}.options: {exc}") from None


def _parse_filters(data: object, where: str) -> tuple[GuardFilter, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise ConfigError(
            f"{where}: expected a list of filters such as "
            f"[{{classifier: toxicity, action: block}}], got {_short(data)}"
        )
    return tuple(parse_filter(item, f"{where}[{i}]") for i, item in enumerate(data))


def parse_filter(data: object, where: str) -> GuardFilter:
    """Check the keys and threshold of one filter entry and return it as a filter.

    Raises:
        ConfigError: The entry is not a mapping, has an unknown key, lacks
            ``classifier``, or has a threshold outside [0, 1].
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{where}: expected a mapping with keys {', '.join(_FILTER_KEYS)}, "
            f"got {_short(data)}"
        )
    _check_keys(data, _FILTER_KEYS, where)
    if "classifier" not in data:
        raise ConfigError(
            f"{where}.classifier: missing; name one of {', '.join(classifier_names())}"
        )
    threshold = data.get("threshold")
    if threshold is not None and not _is_unit_number(threshold):
        raise ConfigError(
            f"{where}.threshold: expected a number in [0, 1], got {_short(threshold)}"
        )
    return GuardFilter(
        classifier=data["classifier"],
        options=data.get("options") or {},
        threshold=float(threshold) if threshold is not None else None,
        action=data.get("action", "block"),
    )


def _check_keys(data: Mapping[Any, Any], accepted: Sequence[str], where: str) -> None:
    for key in data:
        if key not in accepted:
            raise ConfigError(
                f"{where}: unknown key {key!r}; expected one of {', '.join(accepted)}"
            )


def _string(data: Mapping[str, Any], key: str, default: str, source: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{source}: {key}: expected a non-empty string, got {short_repr(value)}"
        )
    return value


def _choice(
    data: Mapping[str, Any],
    key: str,
    accepted: Sequence[str],
    default: str,
    source: str,
) -> str:
    value = data.get(key, default)
    if value not in accepted:
        raise _invalid(f"{source}: {key}", value, accepted)
    return str(value)


def _invalid(where: str, value: object, accepted: Sequence[str]) -> ConfigError:
    return ConfigError(
        f"{where}: invalid value {short_repr(value)}; expected one of "
        f"{', '.join(accepted)}"
    )


def _is_unit_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and 0.0 <= value <= 1.0


def _short(value: object) -> str:
    return f"{type(value).__name__} {short_repr(value)}"


def _without_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: _without_secrets(v) for k, v in value.items() if k not in SECRET_OPTIONS
        }
    if isinstance(value, (list, tuple)):
        return [_without_secrets(v) for v in value]
    return value


def _warn_if_not_refusal(safe_reply: str, source: str) -> None:
    verdict = RefusalDetector().classify_text(safe_reply)
    if verdict.label != "refusal":
        logger.warning(
            "%s: the refusal detector labels safe_reply %r as %s, so blocked "
            "harmful requests will count as unsafe; word it as a refusal",
            source,
            safe_reply[:80],
            verdict.label,
        )
