"""Registry of adaptive attacks, filled by a decorator and by entry points."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, TypeVar

from redline.attacks._adaptive import AdaptiveAttack
from redline.errors import ConfigError

ADAPTIVE_ENTRY_POINT_GROUP = "redline.adaptive_attacks"

AttackT = TypeVar("AttackT", bound=type[AdaptiveAttack])
_REGISTRY: dict[str, type[AdaptiveAttack]] = {}
_entry_points_loaded = False


def register_adaptive_attack(cls: AttackT) -> AttackT:
    """Class decorator that adds an adaptive attack to the registry under its name."""
    if not cls.name or "+" in cls.name:
        raise ConfigError(
            f"adaptive attack name {cls.name!r} must be non-empty without '+'"
        )
    _REGISTRY[cls.name] = cls
    return cls


def adaptive_attack_names() -> list[str]:
    """Return the names of all registered adaptive attacks, plugins included."""
    _load_entry_points()
    return sorted(_REGISTRY)


def adaptive_attack_class(name: str) -> type[AdaptiveAttack]:
    """Return the registered adaptive attack class called ``name``.

    Raises:
        ConfigError: No adaptive attack has that name; the message lists the names.
    """
    _load_entry_points()
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ConfigError(
            f"unknown adaptive attack {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        )
    return cls


def create_adaptive_attack(spec: str | Mapping[str, Any]) -> AdaptiveAttack:
    """Build an adaptive attack from a name or ``{"name": ..., "params": {...}}``.

    Raises:
        ConfigError: The name is unknown, the spec is malformed or a
            parameter is invalid.
    """
    if isinstance(spec, str):
        return adaptive_attack_class(spec.strip())()
    if isinstance(spec, Mapping):
        name, params = spec.get("name"), spec.get("params") or {}
        if set(spec) - {"name", "params"} or not isinstance(name, str):
            raise ConfigError(
                f"invalid adaptive attack spec {dict(spec)!r}; use "
                "{'name': NAME, 'params': {PARAMETER: VALUE}}"
            )
        if not isinstance(params, Mapping):
            raise ConfigError(
                f"params of adaptive attack {name!r} must be a mapping, got {params!r}"
            )
        return adaptive_attack_class(name)(**params)
    raise ConfigError(
        f"invalid adaptive attack spec {spec!r}; give a name such as 'pair' "
        "or a mapping with 'name' and 'params'"
    )


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in entry_points(group=ADAPTIVE_ENTRY_POINT_GROUP):
        entry_point.load()
