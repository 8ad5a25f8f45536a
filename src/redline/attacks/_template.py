"""The ``template`` strategy: jailbreak templates read from a file or folder.

Accepted files, chosen by suffix:

- ``.json``: a list of templates, or an object whose ``templates`` key contains
  that list. A template is a string or an object with a ``template`` string
  and an optional ``name``.
- ``.jsonl``: one template per line, a JSON string or such an object.
- ``.yaml`` / ``.yml``: the same structures as JSON.
- ``.txt``: templates separated by lines that contain only ``---``.

A folder stands for every such file directly inside it, in name order. The
request replaces each placeholder in a template; a template without any
placeholder gets the request appended after a blank line.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from redline.attacks._base import (
    Strategy,
    StrategyParams,
    Variant,
    register_strategy,
    replace_request,
    request_of,
)
from redline.errors import ConfigError
from redline.targets import Message

TEMPLATE_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml", ".txt")
DEFAULT_PLACEHOLDERS = ("{prompt}", "[INSERT PROMPT HERE]")

_TEXT_SEPARATOR = "---"
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class TemplateError(ConfigError):
    """An invalid or unreadable template file.

    Attributes:
        path: File the error was found in.
        line: 1-based line number in that file, when known.
    """

    def __init__(self, message: str, *, path: Path | str, line: int | None = None):
        where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = str(path)
        self.line = line


@dataclass(frozen=True, slots=True)
class Template:
    """One jailbreak template.

    Attributes:
        text: Template text with placeholders.
        label: Where it came from, ``FILE:LINE``, or its name when the file
            gives one.
    """

    text: str
    label: str


def load_templates(path: Path | str) -> list[Template]:
    """Read every template of a file or folder.

    Raises:
        TemplateError: The path is missing, unreadable or malformed, or
            contains no template. The message names the file and, where known,
            the line.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.suffix.lower() in TEMPLATE_SUFFIXES
        )
        if not files:
            raise TemplateError(
                f"no template files ({', '.join(TEMPLATE_SUFFIXES)}) in this folder",
                path=path,
            )
        return [template for file in files for template in _load_file(file)]
    return _load_file(path)


def _load_file(path: Path) -> list[Template]:
    suffix = path.suffix.lower()
    if suffix not in TEMPLATE_SUFFIXES:
        raise TemplateError(
            f"unsupported template file type {suffix!r}; use one of "
            f"{', '.join(TEMPLATE_SUFFIXES)}",
            path=path,
        )
    text = _read_text(path)
    if suffix == ".json":
        items = _json_items(text, path)
    elif suffix == ".jsonl":
        items = _jsonl_items(text, path)
    elif suffix in (".yaml", ".yml"):
        items = _yaml_items(text, path)
    else:
        items = _text_items(text, path)
    templates = [_to_template(value, line, path) for value, line in items]
    if not templates:
        raise TemplateError("contains no templates", path=path)
    return templates


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(
            f"cannot read template file: {exc.strerror or exc}", path=path
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TemplateError(
            f"invalid UTF-8 at byte {exc.start}; save the file as UTF-8",
            path=path,
            line=line,
        ) from None


def _json_items(text: str, path: Path) -> list[tuple[Any, int]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(
            f"invalid JSON: {exc.msg}", path=path, line=exc.lineno
        ) from None
    if isinstance(data, list):
        return _json_array_with_lines(text, text.index("["))
    if isinstance(data, dict) and isinstance(data.get("templates"), list):
        match = re.search(r'"templates"\s*:\s*\[', text)
        assert match is not None
        return _json_array_with_lines(text, match.end() - 1)
    raise TemplateError(
        "expected a JSON list of templates or an object with a 'templates' list, "
        f"got {type(data).__name__}",
        path=path,
        line=1,
    )


def _json_array_with_lines(text: str, start: int) -> list[tuple[Any, int]]:
    # The text is valid JSON, so each element can be decoded in place, which
    # gives its offset and so its line.
    decoder = json.JSONDecoder()
    items = []
    line, counted_to = 1, 0
    position = _skip_space(text, start + 1)
    while text[position] != "]":
        value, end = decoder.raw_decode(text, position)
        line += text.count("\n", counted_to, position)
        counted_to = position
        items.append((value, line))
        position = _skip_space(text, end)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    return items


def _skip_space(text: str, position: int) -> int:
    match = _JSON_SPACE.match(text, position)
    assert match is not None
    return match.end()


def _jsonl_items(text: str, path: Path) -> list[tuple[Any, int]]:
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((json.loads(line), number))
        except json.JSONDecodeError as exc:
            raise TemplateError(
                f"invalid JSON: {exc.msg}", path=path, line=number
            ) from None
    return items


def _yaml_items(text: str, path: Path) -> list[tuple[Any, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(f"invalid YAML: {problem}", path=path, line=line) from None
    if isinstance(data, dict) and isinstance(data.get("templates"), list):
        assert isinstance(node, yaml.MappingNode)
        node = next(value for key, value in node.value if key.value == "templates")
        data = data["templates"]
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise TemplateError(
            "expected a YAML list of templates or a mapping with a 'templates' "
            f"list, got {type(data).__name__}",
            path=path,
            line=1,
        )
    return [
        (value, item.start_mark.line + 1)
        for value, item in zip(data, node.value, strict=True)
    ]


def _text_items(text: str, path: Path) -> list[tuple[Any, int]]:
    items: list[tuple[Any, int]] = []
    chunk: list[str] = []
    chunk_start = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() != _TEXT_SEPARATOR:
            chunk.append(line)
            continue
        if not "".join(chunk).strip():
            raise TemplateError(
                f"empty template before the {_TEXT_SEPARATOR!r} separator",
                path=path,
                line=number,
            )
        items.append(("\n".join(chunk).strip("\n"), chunk_start))
        chunk, chunk_start = [], number + 1
    # A separator after the last template is allowed.
    if "".join(chunk).strip():
        items.append(("\n".join(chunk).strip("\n"), chunk_start))
    return items


def _to_template(value: Any, line: int, path: Path) -> Template:
    name = None
    if isinstance(value, dict):
        name = value.get("name")
        value = value.get("template")
        if name is not None and not isinstance(name, str):
            raise TemplateError(
                f"template name must be a string, got {name!r:.60}",
                path=path,
                line=line,
            )
    if not isinstance(value, str):
        raise TemplateError(
            "a template must be a string or an object with a 'template' string, "
            f"got {value!r:.60}",
            path=path,
            line=line,
        )
    if not value.strip():
        raise TemplateError("empty template", path=path, line=line)
    return Template(value, name or f"{path.name}:{line}")


class TemplateParams(StrategyParams):
    """Parameters of the template strategy."""

    path: str = Field(min_length=1)
    """Template file, or folder of template files."""
    placeholders: tuple[str, ...] = Field(
        DEFAULT_PLACEHOLDERS, min_length=1, strict=False
    )
    """Texts in a template that are replaced by the request."""
    variables: dict[str, str] = Field(default_factory=dict)
    """Other texts to replace, such as ``{"{generator.name}": "the assistant"}``."""
    sample: int | None = Field(None, ge=1)
    """Number of templates to draw from the seed; None uses all, in file order."""


@register_strategy
class TemplateStrategy(Strategy):
    """Fill jailbreak templates from a file with the request, one attempt each.

    The file is read when the strategy is built, so a malformed file fails
    early with its name and line.
    """

    name = "template"
    description = "Jailbreak templates from a JSON, YAML or text file; one attempt each"
    family = "template"
    Params = TemplateParams
    requires_configuration = True

    def __init__(self, **params: Any):
        super().__init__(**params)
        assert isinstance(self.params, TemplateParams)
        if any(not placeholder for placeholder in self.params.placeholders):
            raise ConfigError(
                "invalid parameter 'placeholders' of strategy 'template': "
                "placeholders must be non-empty strings"
            )
        self._placeholder = re.compile(
            "|".join(re.escape(placeholder) for placeholder in self.params.placeholders)
        )
        self.templates = load_templates(self.params.path)

    @property
    def randomized(self) -> bool:  # type: ignore[override]
        """Whether the templates are drawn from the seed."""
        assert isinstance(self.params, TemplateParams)
        return self.params.sample is not None

    def transform(
        self, messages: Sequence[Message], rng: random.Random
    ) -> list[Variant]:
        assert isinstance(self.params, TemplateParams)
        chosen = self.templates
        if self.params.sample is not None and self.params.sample < len(chosen):
            chosen = rng.sample(chosen, self.params.sample)
        request = request_of(messages)
        return [
            Variant(
                replace_request(messages, self.fill(template, request)),
                label=template.label,
            )
            for template in chosen
        ]

    def fill(self, template: Template, request: str) -> str:
        """Return ``template`` with the variables and the request filled in."""
        assert isinstance(self.params, TemplateParams)
        text = template.text
        for old, new in self.params.variables.items():
            text = text.replace(old, new)
        if self._placeholder.search(text) is None:
            return f"{text.rstrip()}\n\n{request}"
        # One pass, so a placeholder inside the request stays as it is.
        return self._placeholder.sub(lambda match: request, text)
