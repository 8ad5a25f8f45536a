"""Load and validate suites from YAML and JSONL files."""

from __future__ import annotations

import hashlib
import json
import reprlib
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import yaml

from redline._yaml import check_unique_keys
from redline.errors import SuiteError
from redline.suites._model import (
    HAZARDS_BY_CODE,
    HAZARDS_BY_SLUG,
    Case,
    Expected,
    Severity,
    Suite,
    SuiteInfo,
)

_CASE_KEYS = {
    "id",
    "prompt",
    "messages",
    "category",
    "expected",
    "severity",
    "tags",
    "source",
}
_ROLES = {"system", "user", "assistant"}
_LINE_KEY = "__line__"


def builtin_suite_names() -> list[str]:
    """Return the names of the suites shipped with redline."""
    folder = resources.files("redline.suites") / "data"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_suite(name_or_path: str | Path) -> Suite:
    """Load a built-in suite by name, or a suite file by path.

    The file is validated in full before this returns, so a bad case fails
    here rather than in the middle of a run.

    Raises:
        SuiteError: The suite is not found or a case is invalid. The message
            names the file, the line when known, the case id and the field.
    """
    path = _resolve(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return _load_yaml(path)
    if path.suffix == ".jsonl":
        return _load_jsonl(path)
    raise SuiteError(
        f"unsupported suite file type {path.suffix!r}; use .yaml, .yml or .jsonl",
        path=str(path),
    )


def _resolve(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.exists():
        return path
    names = builtin_suite_names()
    if str(name_or_path) in names:
        folder = resources.files("redline.suites") / "data"
        return Path(str(folder / f"{name_or_path}.yaml"))
    raise SuiteError(
        f"suite {str(name_or_path)!r} is neither a file nor a built-in suite; "
        f"built-in suites: {', '.join(names)}"
    )


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that records the line of every mapping."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    check_unique_keys(node)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping[_LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _read_yaml(path: Path) -> Any:
    """Parse a YAML file, turning every way it can fail into a SuiteError."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(exc).split())
        raise SuiteError(f"invalid YAML: {message}", path=str(path), line=line) from exc
    except UnicodeDecodeError as exc:
        raise SuiteError(
            f"not valid UTF-8 at byte {exc.start}; save the file as UTF-8",
            path=str(path),
        ) from exc
    except RecursionError as exc:
        raise SuiteError("values are nested too deeply", path=str(path)) from exc
    except OSError as exc:
        raise SuiteError(f"cannot read suite file: {exc}", path=str(path)) from exc


def _load_yaml(path: Path) -> Suite:
    document = _read_yaml(path)
    if not isinstance(document, dict):
        raise SuiteError(
            "a suite file must be a mapping with 'name', 'version' and 'cases'",
            path=str(path),
        )
    name = _header_str(document, "name", path, default=path.stem)
    version = _header_str(document, "version", path)
    description = _header_str(document, "description", path, default="")

    raw_cases: Any
    if "subset_of" in document:
        raw_cases = _subset_cases(document, path)
    else:
        raw_cases = document.get("cases")
        if not isinstance(raw_cases, list) or not raw_cases:
            raise SuiteError(
                "missing or empty 'cases' list; add at least one case",
                path=str(path),
                line=document[_LINE_KEY],
            )
    cases = [_parse_case(raw, str(path), _line_of(raw)) for raw in raw_cases]
    info = _validate_all(iter(cases), name, version, description, path)
    return Suite(info, lambda: iter(cases))


def _line_of(raw: Any) -> int | None:
    return raw.get(_LINE_KEY) if isinstance(raw, dict) else None


def _subset_cases(document: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """Select cases by id from another YAML suite in the same folder."""
    parent_path = path.parent / f"{document['subset_of']}.yaml"
    ids = document.get("case_ids")
    if not isinstance(ids, list) or not ids:
        raise SuiteError(
            "'subset_of' needs a non-empty 'case_ids' list", path=str(path)
        )
    if not parent_path.exists():
        raise SuiteError(
            f"'subset_of' names {document['subset_of']!r} but {parent_path} "
            "does not exist",
            path=str(path),
        )
    parent = _read_yaml(parent_path)
    parent_cases = parent.get("cases") if isinstance(parent, dict) else None
    if not isinstance(parent_cases, list):
        raise SuiteError("a suite file must have a 'cases' list", path=str(parent_path))
    by_id = {_hashable_id(raw): raw for raw in parent_cases}
    missing = [case_id for case_id in ids if case_id not in by_id]
    if missing:
        raise SuiteError(
            f"case_ids not found in {parent_path.name}: {missing[:5]!r}",
            path=str(path),
        )
    return [by_id[case_id] for case_id in ids]


def _hashable_id(raw: Any) -> Any:
    case_id = raw.get("id") if isinstance(raw, dict) else None
    return case_id if isinstance(case_id, str) else None


def _load_jsonl(path: Path) -> Suite:
    header: dict[str, Any] = {}
    try:
        first = next((line for _, line in _numbered_lines(path)), "")
    except OSError as exc:
        raise SuiteError(f"cannot read suite file: {exc}", path=str(path)) from exc
    if first.strip():
        first_obj = _parse_json_line(first, path, 1)
        if isinstance(first_obj, dict) and "suite" in first_obj:
            header = first_obj["suite"]
            if not isinstance(header, dict):
                raise SuiteError(
                    "the header line's 'suite' must be an object with name and version",
                    path=str(path),
                    line=1,
                )

    def read() -> Iterator[Case]:
        for line_number, line in _numbered_lines(path):
            if not line.strip():
                continue
            raw = _parse_json_line(line, path, line_number)
            if line_number == 1 and header:
                continue
            yield _parse_case(raw, str(path), line_number)

    name = _header_str(header, "name", path, default=path.stem)
    version = _header_str(header, "version", path, default="unversioned")
    description = _header_str(header, "description", path, default="")
    info = _validate_all(read(), name, version, description, path)
    return Suite(info, read)


def _numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of a UTF-8 file, naming the line that fails to decode."""
    with path.open("rb") as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            try:
                yield line_number, raw_line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SuiteError(
                    f"not valid UTF-8 at byte {exc.start} of the line; save the file as UTF-8",
                    path=str(path),
                    line=line_number,
                ) from exc


def _parse_json_line(line: str, path: Path, line_number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"invalid JSON: {exc.msg} at column {exc.colno}",
            path=str(path),
            line=line_number,
        ) from exc
    except (ValueError, RecursionError) as exc:  # huge integers, deep nesting
        raise SuiteError(
            f"invalid JSON: {_short_repr(exc)}", path=str(path), line=line_number
        ) from exc


def _validate_all(
    cases: Iterator[Case], name: str, version: str, description: str, path: Path
) -> SuiteInfo:
    """Check every case once, computing the fingerprint and the count."""
    digest = hashlib.sha256()
    seen: set[str] = set()
    categories: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise SuiteError(
                f"duplicate case id {case.id!r}; every id in a suite must be unique",
                path=str(path),
            )
        seen.add(case.id)
        categories.add(case.category)
        digest.update(_canonical_bytes(case))
    if not seen:
        raise SuiteError("the suite has no cases", path=str(path))
    return SuiteInfo(
        name=name,
        version=version,
        fingerprint=digest.hexdigest(),
        case_count=len(seen),
        path=str(path),
        description=description,
        categories=tuple(sorted(categories)),
    )


def _canonical_bytes(case: Case) -> bytes:
    text = json.dumps(
        case.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return text.encode("utf-8") + b"\n"


def _header_str(
    document: Mapping[str, Any], key: str, path: Path, default: str | None = None
) -> str:
    value = document.get(key, default)
    if value is None:
        raise SuiteError(f"missing suite field {key!r}", path=str(path))
    if not isinstance(value, (str, int, float)):
        raise SuiteError(
            f"suite field {key!r} must be a string, got {_short_repr(value)}",
            path=str(path),
        )
    return str(value)


def _parse_case(raw: Any, path: str, line: int | None) -> Case:
    """Validate one raw case mapping and build a :class:`Case`."""
    if not isinstance(raw, dict):
        raise SuiteError(
            f"a case must be a mapping, got {_short_repr(raw)}", path=path, line=line
        )
    case_id = raw.get("id")
    fail = _case_failer(path, line, case_id)
    if not isinstance(case_id, str) or not case_id.strip():
        fail("id", case_id, "a non-empty string")
    _check_encodable(fail, "id", case_id)
    unknown = sorted(set(raw) - _CASE_KEYS - {_LINE_KEY}, key=str)
    if unknown:
        fail(str(unknown[0]), raw[unknown[0]], f"one of {sorted(_CASE_KEYS)}")

    messages = _parse_messages(raw, fail)
    category = _parse_category(raw.get("category"), fail)
    expected = _parse_enum(raw.get("expected"), Expected, "expected", fail)
    severity = _parse_enum(raw.get("severity", "medium"), Severity, "severity", fail)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        fail("tags", tags, "a list of strings")
    for tag in tags:
        _check_encodable(fail, "tags", tag)
    source = raw.get("source", "")
    if not isinstance(source, str):
        fail("source", source, "a string")
    _check_encodable(fail, "source", source)
    return Case(
        id=case_id,
        messages=messages,
        category=category,
        expected=expected,
        severity=severity,
        tags=tuple(tags),
        source=source,
    )


def _case_failer(path: str, line: int | None, case_id: Any) -> Callable[..., NoReturn]:
    def fail(field: str, value: Any, accepted: str) -> NoReturn:
        who = f"case {_short_repr(case_id)}" if isinstance(case_id, str) else "case"
        raise SuiteError(
            f"{who}: invalid {field!r} {_short_repr(value)}; expected {accepted}",
            path=path,
            line=line,
        )

    return fail


def _short_repr(value: Any, limit: int = 120) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, without line markers."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != _LINE_KEY}
    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    try:
        text = shortener.repr(value)
    except RecursionError:
        text = f"<deeply nested {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_encodable(fail: Callable[..., NoReturn], field: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        fail(field, value, "text without unpaired surrogates (\\ud800-\\udfff)")


def _parse_messages(
    raw: dict[str, Any], fail: Callable[..., NoReturn]
) -> tuple[dict[str, str], ...]:
    prompt = raw.get("prompt")
    messages = raw.get("messages")
    if (prompt is None) == (messages is None):
        fail(
            "prompt",
            prompt,
            "exactly one of 'prompt' (a string) or 'messages' (a list)",
        )
    if prompt is not None:
        if not isinstance(prompt, str) or not prompt.strip():
            fail("prompt", prompt, "a non-empty string")
        _check_encodable(fail, "prompt", prompt)
        return ({"role": "user", "content": prompt},)
    if not isinstance(messages, list) or not messages:
        fail("messages", messages, "a non-empty list of {role, content} mappings")
    parsed = []
    for message in messages:
        if not isinstance(message, dict):
            fail("messages", message, "a mapping with 'role' and 'content'")
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES:
            fail("messages.role", role, f"one of {sorted(_ROLES)}")
        if not isinstance(content, str):
            fail("messages.content", content, "a string")
        _check_encodable(fail, "messages.content", content)
        parsed.append({"role": role, "content": content})
    if parsed[-1]["role"] != "user":
        fail(
            "messages",
            parsed[-1]["role"],
            "a conversation that ends with a user message",
        )
    return tuple(parsed)


def _parse_category(value: Any, fail: Callable[..., NoReturn]) -> str:
    if isinstance(value, str):
        if value in HAZARDS_BY_SLUG:
            return value
        if value.upper() in HAZARDS_BY_CODE:
            return HAZARDS_BY_CODE[value.upper()].slug
    fail("category", value, f"a hazard slug or code: {', '.join(HAZARDS_BY_SLUG)}")


def _parse_enum(
    value: Any, enum_type: Any, field: str, fail: Callable[..., NoReturn]
) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        fail(field, value, f"one of {[member.value for member in enum_type]}")
