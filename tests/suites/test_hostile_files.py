"""Malformed and hostile suite files fail with one short, located error."""

from __future__ import annotations

import json

import pytest

from redline.errors import SuiteError
from redline.suites import load_suite

CASE = '{"id": "a", "prompt": "hi", "category": "hate", "expected": "comply"}'


def load_error(path) -> str:
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    return str(info.value)


def test_non_utf8_yaml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: x\nversion: 1\ncases:\n  - id: \xff\xfe\n")
    assert "not valid UTF-8" in load_error(path)


def test_non_utf8_jsonl_names_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(CASE.encode() + b"\n" + b'{"id": "\xff"}\n')
    assert "s.jsonl:2: not valid UTF-8" in load_error(path)


def test_scalar_case_item(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nversion: 1\ncases:\n  - just a string\n")
    assert "a case must be a mapping, got 'just a string'" in load_error(path)


def test_deeply_nested_json(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text("[" * 100_000 + "\n")
    assert "s.jsonl:1: invalid JSON" in load_error(path)


def test_huge_integer_json(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a", "tags": ' + "9" * 5000 + "}\n")
    assert "s.jsonl:1: invalid JSON" in load_error(path)


def test_lone_surrogate_prompt(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(CASE.replace('"hi"', '"hi \\ud800"') + "\n")
    assert "unpaired surrogates" in load_error(path)


def test_duplicate_yaml_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nversion: 1\ncases:\n  - {id: a, prompt: hi, prompt: bye}\n"
    )
    assert "duplicate key 'prompt'" in load_error(path)


def test_yaml_alias_bomb_error_is_short(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    lines += [
        "name: x",
        "version: 1",
        "cases:",
        "  - {id: a, prompt: hi, category: hate, expected: comply, tags: *a7}",
    ]
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(lines) + "\n")
    message = load_error(path)
    assert "'tags'" in message
    assert len(message) < 600


def test_line_marker_not_leaked(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nversion: 1\ncases:\n"
        "  - {id: a, prompt: hi, category: hate, expected: comply, severity: {a: 1}}\n"
    )
    assert "__line__" not in load_error(path)


def test_jsonl_header_null_name(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(
        json.dumps({"suite": {"name": None, "version": "1"}}) + "\n" + CASE + "\n"
    )
    assert "'name'" in load_error(path)


def test_subset_of_non_suite(tmp_path):
    (tmp_path / "parent.yaml").write_text("- a\n- b\n")
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nversion: 1\nsubset_of: parent\ncase_ids: [a]\n")
    assert "'cases' list" in load_error(path)
