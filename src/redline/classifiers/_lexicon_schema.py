"""Reading, checking and merging lexicon files into an uncompiled spec.

The file format is described in :mod:`redline.classifiers._lexicon`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from redline._yaml import UniqueKeyLoader
from redline.errors import ConfigError

__all__ = ["FORMAT_VERSION", "LexiconError"]

FORMAT_VERSION = 1
"""Version of the lexicon file format."""


_TOP_KEYS = ("format", "description", "sets", "allow", "categories")
_CATEGORY_KEYS = ("description", "weight", "enabled", "terms", "patterns", "allow")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class LexiconError(ConfigError):
    """An invalid or unreadable lexicon file.

    Attributes:
        path: File the error was found in.
        entry: Where in the file, such as ``categories.threat.patterns[2]``.
    """

    def __init__(self, message: str, *, path: str, entry: str | None = None):
        where = f"lexicon {path}: " if entry is None else f"lexicon {path}: {entry}: "
        super().__init__(where + message)
        self.path = path
        self.entry = entry


@dataclass(slots=True)
class _Entry:
    """A term, pattern, allow phrase or set item as written in a file."""

    text: str
    weight: float | None
    path: str
    where: str

    @property
    def label(self) -> str:
        return f"{Path(self.path).name}: {self.where}"


@dataclass(slots=True)
class _CategorySpec:
    name: str
    weight: float
    enabled: bool = True
    description: str = ""
    terms: list[_Entry] = field(default_factory=list)
    patterns: list[_Entry] = field(default_factory=list)
    allow: list[_Entry] = field(default_factory=list)


@dataclass(slots=True)
class _Spec:
    """The merged content of one or more lexicon files, not yet compiled."""

    sets: dict[str, list[_Entry]] = field(default_factory=dict)
    allow: list[_Entry] = field(default_factory=list)
    categories: dict[str, _CategorySpec] = field(default_factory=dict)
    digests: list[str] = field(default_factory=list)


def _read_file(path: Path) -> tuple[Any, bytes]:
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LexiconError(
            "file not found; pass the path of an existing YAML lexicon, "
            "or leave the option unset to use the built-in lexicon",
            path=name,
        ) from None
    except OSError as exc:
        raise LexiconError(f"cannot read file: {exc}", path=name) from exc
    try:
        document = yaml.load(data.decode("utf-8"), Loader=UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise LexiconError(
            f"not valid UTF-8 at byte {exc.start}; save the file as UTF-8", path=name
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        message = " ".join(str(exc).split())
        raise LexiconError(f"invalid YAML: {message}", path=name, entry=where) from exc
    except RecursionError as exc:
        raise LexiconError("values are nested too deeply", path=name) from exc
    return document, data


def _check_keys(
    value: Any, accepted: Sequence[str], path: str, where: str | None
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LexiconError(
            f"expected a mapping with keys {', '.join(accepted)}, "
            f"got {type(value).__name__} {value!r:.60}",
            path=path,
            entry=where,
        )
    for key in value:
        if key not in accepted:
            raise LexiconError(
                f"unknown key {key!r}; accepted keys: {', '.join(accepted)}. "
                "Remove it or correct its spelling",
                path=path,
                entry=where,
            )
    return value


def _check_weight(value: Any, path: str, where: str) -> float:
    valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not valid or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise LexiconError(
            f"weight must be a number from 0 to 1, got {value!r}; "
            "use for example 0.9 for a severe match and 0.3 for a mild one",
            path=path,
            entry=where,
        )
    return float(value)


def _check_text(value: Any, path: str, where: str, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LexiconError(
            f"{field_name} must be a non-empty string, got {value!r}; "
            "quote values that YAML reads as numbers, booleans or null",
            path=path,
            entry=where,
        )
    return value


def _read_entries(
    value: Any, key: str, path: str, where: str, *, weighted: bool
) -> list[_Entry]:
    """Read a list of strings, or of ``{key: str, weight: float}`` mappings."""
    if not isinstance(value, list):
        raise LexiconError(
            f"expected a list, got {type(value).__name__} {value!r:.60}; "
            "write one item per line starting with '- '",
            path=path,
            entry=where,
        )
    entries = []
    for index, item in enumerate(value):
        item_where = f"{where}[{index}]"
        weight = None
        if weighted and isinstance(item, dict):
            _check_keys(item, (key, "weight"), path, item_where)
            if key not in item:
                raise LexiconError(
                    f"missing {key!r}; write {{{key}: ..., weight: ...}} "
                    f"or a plain string",
                    path=path,
                    entry=item_where,
                )
            if "weight" in item:
                weight = _check_weight(item["weight"], path, f"{item_where}.weight")
            item = item[key]
        entries.append(
            _Entry(_check_text(item, path, item_where, key), weight, path, item_where)
        )
    return entries


def _merge_file(spec: _Spec, path: Path) -> None:
    """Check one lexicon file and merge it into ``spec``."""
    document, data = _read_file(path)
    name = str(path)
    if document is None:
        raise LexiconError("file is empty; add a 'categories' mapping", path=name)
    top = _check_keys(document, _TOP_KEYS, name, None)
    if "categories" not in top:
        raise LexiconError(
            "missing key 'categories'; add a mapping of category names "
            "(it may be empty in an extra lexicon)",
            path=name,
        )
    version = top.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise LexiconError(
            f"unsupported format {version!r}; the only format is {FORMAT_VERSION}",
            path=name,
            entry="format",
        )
    if "description" in top:
        _check_text(top["description"], name, "description", "description")

    sets = top.get("sets") or {}
    if not isinstance(sets, dict):
        raise LexiconError(
            f"expected a mapping of set names to lists, got {sets!r:.60}",
            path=name,
            entry="sets",
        )
    for set_name, items in sets.items():
        where = f"sets.{set_name}"
        _check_name(set_name, name, where)
        if items == []:
            raise LexiconError(
                "set is empty; add items or remove the set", path=name, entry=where
            )
        spec.sets.setdefault(set_name, []).extend(
            _read_entries(items, "item", name, where, weighted=False)
        )

    if "allow" in top:
        spec.allow.extend(
            _read_entries(top["allow"], "phrase", name, "allow", weighted=False)
        )

    categories = top["categories"] or {}
    if not isinstance(categories, dict):
        raise LexiconError(
            f"expected a mapping of category names, got {categories!r:.60}",
            path=name,
            entry="categories",
        )
    for category_name, body in categories.items():
        _merge_category(spec, category_name, body, name)
    spec.digests.append(hashlib.sha256(data).hexdigest())


def _check_name(value: Any, path: str, where: str) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise LexiconError(
            f"invalid name {value!r}; use lowercase letters, digits and '_', "
            "starting with a letter, such as 'self_harm'",
            path=path,
            entry=where,
        )


def _merge_category(spec: _Spec, category_name: Any, body: Any, path: str) -> None:
    where = f"categories.{category_name}"
    _check_name(category_name, path, where)
    body = _check_keys(body if body is not None else {}, _CATEGORY_KEYS, path, where)
    category = spec.categories.get(category_name)
    if category is None:
        if "weight" not in body:
            raise LexiconError(
                "missing 'weight' for a new category; add for example 'weight: 0.8'",
                path=path,
                entry=where,
            )
        weight = _check_weight(body["weight"], path, f"{where}.weight")
        category = spec.categories[category_name] = _CategorySpec(category_name, weight)
    elif "weight" in body:
        category.weight = _check_weight(body["weight"], path, f"{where}.weight")
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise LexiconError(
                f"enabled must be true or false, got {body['enabled']!r}",
                path=path,
                entry=f"{where}.enabled",
            )
        category.enabled = body["enabled"]
    if "description" in body:
        category.description = _check_text(
            body["description"], path, f"{where}.description", "description"
        )
    for key, target, item_key, weighted in (
        ("terms", category.terms, "term", True),
        ("patterns", category.patterns, "pattern", True),
        ("allow", category.allow, "phrase", False),
    ):
        if key in body:
            target.extend(
                _read_entries(
                    body[key], item_key, path, f"{where}.{key}", weighted=weighted
                )
            )
