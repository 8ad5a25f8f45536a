"""Reader for files of human-labelled texts (CSV or JSONL), with column mapping.

Calibration and classifier training both read these files. Each row gives a
text, its label and optionally the prompt of the text. The label is read as a
string and mapped to the positive or the negative class. A value that is in
neither set is an error naming the line, never a silent negative.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.errors import LabelsError

DEFAULT_POSITIVE = frozenset(
    {
        "1",
        "true",
        "yes",
        "y",
        "positive",
        "unsafe",
        "harmful",
        "toxic",
        "hate",
        "refusal",
        "refused",
        "flagged",
    }
)
DEFAULT_NEGATIVE = frozenset(
    {
        "0",
        "false",
        "no",
        "n",
        "negative",
        "safe",
        "benign",
        "clean",
        "neutral",
        "compliance",
        "complied",
        "not_refusal",
        "ok",
    }
)
_FORMATS = (".csv", ".tsv", ".jsonl", ".ndjson")
# csv's default field limit is 128 KiB; model outputs can be longer.
_CSV_FIELD_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One human-labelled text.

    Attributes:
        text: The labelled text, usually a model output.
        positive: True when the label is in the positive class (refusal,
            harmful, toxic, as the file's labels define it).
        raw_label: The label exactly as written in the file.
        prompt: The request the text answers, when the file has that column.
        line: 1-based line of the row in the file, for error messages.
    """

    text: str
    positive: bool
    raw_label: str
    prompt: str | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class LabelColumns:
    """How to read a labels file.

    Attributes:
        text: Column with the labelled text.
        label: Column with the label.
        prompt: Column with the request, or None when the file has none.
        positive: Label values of the positive class, compared after
            stripping spaces and lower-casing.
        negative: Label values of the negative class. None means every value
            that is not positive; the default sets make an unknown value an error.
    """

    text: str = "text"
    label: str = "label"
    prompt: str | None = None
    positive: Collection[str] = DEFAULT_POSITIVE
    negative: Collection[str] | None = DEFAULT_NEGATIVE


def read_labels(
    path: str | Path, columns: LabelColumns | None = None
) -> list[LabelledText]:
    """Read every row of a CSV, TSV or JSONL labels file.

    Raises:
        LabelsError: The file is missing, empty, has an unknown format, lacks
            a column, or a row has an empty text or a label in neither class.
    """
    columns = columns or LabelColumns()
    path = Path(path)
    rows = list(_iter_labels(path, columns))
    if not rows:
        raise LabelsError(
            "no labelled rows found; add rows or check the file", path=str(path)
        )
    return rows


def _iter_labels(path: Path, columns: LabelColumns) -> Iterator[LabelledText]:
    positive = {_normal(value) for value in columns.positive}
    negative = (
        None if columns.negative is None else {_normal(v) for v in columns.negative}
    )
    named = [columns.text, columns.label] + ([columns.prompt] if columns.prompt else [])
    if len(set(named)) < len(named):
        raise LabelsError(
            f"the text, label and prompt columns must differ, got {named!r}; "
            "check --text-column, --label-column and --prompt-column",
            path=str(path),
        )
    overlap = positive & (negative or set())
    if overlap:
        raise LabelsError(
            f"label values {sorted(overlap)!r} are in both the positive and the "
            "negative class; give each value one class",
            path=str(path),
        )
    for line, row in _iter_rows(path):
        yield _labelled(path, line, row, columns, positive, negative)


def _labelled(
    path: Path,
    line: int,
    row: dict[str, Any],
    columns: LabelColumns,
    positive: set[str],
    negative: set[str] | None,
) -> LabelledText:
    wanted = [columns.text, columns.label] + (
        [columns.prompt] if columns.prompt else []
    )
    missing = [name for name in wanted if name not in row]
    if missing:
        raise LabelsError(
            f"missing column {missing[0]!r}; the row has columns "
            f"{sorted(row)!r}. Map the columns with --text-column, "
            "--label-column and --prompt-column",
            path=str(path),
            line=line,
        )
    for column in wanted:
        if isinstance(row[column], (dict, list)):
            raise LabelsError(
                f"column {column!r} is a JSON {type(row[column]).__name__}, "
                f"expected a string; got {str(row[column])[:80]!r}",
                path=str(path),
                line=line,
            )
    text = _as_text(row[columns.text])
    if not text.strip():
        raise LabelsError(
            f"empty text in column {columns.text!r}; remove the row or fill it",
            path=str(path),
            line=line,
        )
    raw_label = _as_text(row[columns.label])
    label = _normal(raw_label)
    if label in positive:
        is_positive = True
    elif negative is None or label in negative:
        is_positive = False
    else:
        raise LabelsError(
            f"label {raw_label!r} in column {columns.label!r} is in neither class; "
            f"positive values: {sorted(positive)!r}, negative values: "
            f"{sorted(negative)!r}. Set them with --positive and --negative",
            path=str(path),
            line=line,
        )
    prompt = _as_text(row[columns.prompt]) if columns.prompt else None
    return LabelledText(text, is_positive, raw_label, prompt or None, line)


def _iter_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise LabelsError(
            f"unknown labels format {suffix or '(no suffix)'!r}; use one of "
            f"{', '.join(_FORMATS)}",
            path=str(path),
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if suffix in (".jsonl", ".ndjson"):
                yield from _jsonl_rows(path, handle)
            else:
                yield from _csv_rows(path, handle, "\t" if suffix == ".tsv" else ",")
    except FileNotFoundError:
        raise LabelsError(
            "file not found; check the --labels path", path=str(path)
        ) from None
    except UnicodeDecodeError:
        # The text reader decodes in chunks, so the exception's offset is
        # relative to a chunk. The raw bytes give the offset in the file.
        line, offset = _first_invalid_utf8(path)
        raise LabelsError(
            f"not valid UTF-8 (invalid byte at file offset {offset}); save the "
            "file as UTF-8",
            path=str(path),
            line=line,
        ) from None
    except OSError as exc:
        raise LabelsError(f"cannot read file: {exc.strerror}", path=str(path)) from None


def _jsonl_rows(path: Path, handle: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, content in enumerate(handle, start=1):
        if not content.strip():
            continue
        try:
            row = json.loads(content, object_pairs_hook=_unique_keys)
        except _DuplicateKeyError as exc:
            raise LabelsError(
                f"duplicate key {exc.args[0]!r}; give each key once per line",
                path=str(path),
                line=line,
            ) from None
        except json.JSONDecodeError as exc:
            raise LabelsError(
                f"invalid JSON ({exc.msg} at column {exc.colno}); each line must be "
                "one JSON object",
                path=str(path),
                line=line,
            ) from None
        if not isinstance(row, dict):
            raise LabelsError(
                f"expected a JSON object, got {type(row).__name__}",
                path=str(path),
                line=line,
            )
        yield line, row


def _csv_rows(
    path: Path, handle: Any, delimiter: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.DictReader(handle, delimiter=delimiter)
    try:
        _check_header(path, reader.fieldnames or [])
        for row in reader:
            # A quoted field may span lines; report where the row ends.
            line = reader.line_num
            if None in row:
                header_fields = len(reader.fieldnames or [])
                extra = len(row[None])  # type: ignore[index]
                raise LabelsError(
                    f"row has {header_fields + extra} fields but the header "
                    f"has {header_fields}; quote fields that contain "
                    f"{delimiter!r}",
                    path=str(path),
                    line=line,
                )
            if None in row.values():
                header_fields = len(reader.fieldnames or [])
                present = sum(value is not None for value in row.values())
                raise LabelsError(
                    f"row has {present} of the header's {header_fields} fields; "
                    "fill the missing fields or quote fields that contain line breaks",
                    path=str(path),
                    line=line,
                )
            yield line, {k: v for k, v in row.items() if k is not None}
    except csv.Error as exc:
        raise LabelsError(
            f"invalid CSV: {exc}", path=str(path), line=reader.line_num
        ) from None


def _check_header(path: Path, names: Sequence[str]) -> None:
    # DictReader keeps only the last of two equal column names.
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LabelsError(
            f"column {duplicates[0]!r} appears {names.count(duplicates[0])} times "
            "in the header; rename the columns so each name is unique",
            path=str(path),
            line=1,
        )


class _DuplicateKeyError(ValueError):
    """A JSON object gives one key twice; ``args[0]`` is the key."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen[key] = value
    return seen


def _first_invalid_utf8(path: Path) -> tuple[int, int]:
    """Return the 1-based line and byte offset of the first invalid UTF-8 byte."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1, exc.start
    return 1, 0  # reached only when the file changed after it failed to decode


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _normal(value: str) -> str:
    return value.strip().lower()
