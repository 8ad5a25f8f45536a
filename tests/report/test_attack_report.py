"""Attack sections of the terminal, JSON and HTML reports."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from rich.console import Console

import redline
from redline.metrics import wilson
from redline.report import render_html_report, summary_renderable, write_json_report
from redline.report._html import heat_cell
from redline.runner import REPORT_FORMAT_VERSION
from redline.testing import REFUSAL_TEXT, FakeOpenAIServer
from tests.conftest import write_jsonl_suite

HOSTILE = '<script>alert("x")</script>'
PROMPTS = [f"request {i}" for i in range(6)]


def reply(prompt: str) -> str:
    if prompt in PROMPTS:
        return REFUSAL_TEXT
    if "written in base64" in prompt:
        return base64.b64encode(HOSTILE.encode()).decode()
    return HOSTILE


@pytest.fixture
def attack_result(tmp_path):
    with FakeOpenAIServer(reply) as server:
        suite = write_jsonl_suite(tmp_path / "s.jsonl", PROMPTS)
        return redline.run(
            suite,
            target="openai:m",
            target_options={"base_url": server.base_url},
            db=tmp_path / "r.db",
            strategies="base64,fiction",
        )


def render_text(result) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(summary_renderable(result))
    return console.export_text()


def test_table_lists_each_strategy(attack_result):
    text = render_text(attack_result)
    assert "attack success rate per strategy" in text
    assert "100.0% [51.0, 100.0]" in text
    assert "+100.0 pp" in text
    assert "fiction" in text


def test_json_report_has_attacks(attack_result, tmp_path):
    path = write_json_report(attack_result, tmp_path / "report.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == REPORT_FORMAT_VERSION == "1.3"
    assert data["attacks"]["strategies"]["base64"]["asr"]["successes"] == 4
    assert data["attacks"]["by_strategy_category"]["fiction"]["hate"]["total"] == 2
    assert len(data["attempts"]) == 3 * len(PROMPTS)


def test_json_report_stores_decoded_text(attack_result, tmp_path):
    path = write_json_report(attack_result, tmp_path / "report.json")
    attempts = json.loads(path.read_text(encoding="utf-8"))["attempts"]
    encoded = next(a for a in attempts if a["strategy"] == "base64")
    assert encoded["decoded_text"] == HOSTILE
    assert encoded["attack"]["decoder"] == {"kind": "base64"}


def test_html_has_heat_map(attack_result):
    page = render_html_report(attack_result)
    assert "ASR by strategy and category" in page
    assert '<td style="background: #ff5050">100%<br><small>n = 2</small></td>' in page


def test_html_escapes_decoded_text(attack_result):
    page = render_html_report(attack_result)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(" in page


def test_html_adds_no_script(attack_result):
    page = render_html_report(attack_result)
    assert page.count("<script>") == 1
    assert "default-src 'none'" in page


def test_html_escapes_heat_map_names(attack_result):
    attacks = attack_result.attacks
    hostile_name = "<b onmouseover=x>fiction</b>"
    strategies = {hostile_name: attacks.strategies["fiction"]}
    cells = {hostile_name: attacks.by_strategy_category["fiction"]}
    changed = dataclasses.replace(
        attack_result,
        attacks=dataclasses.replace(
            attacks, strategies=strategies, by_strategy_category=cells
        ),
    )
    page = render_html_report(changed)
    assert hostile_name not in page
    assert "&lt;b onmouseover=x&gt;fiction&lt;/b&gt;" in page


def test_html_without_attacks_has_no_heat_map(tmp_path):
    with FakeOpenAIServer() as server:
        suite = write_jsonl_suite(tmp_path / "s.jsonl", PROMPTS)
        result = redline.run(
            suite,
            target="openai:m",
            target_options={"base_url": server.base_url},
            db=tmp_path / "r.db",
        )
    assert "ASR by strategy and category" not in render_html_report(result)


def test_heat_cell_colours():
    assert heat_cell(wilson(0, 4))["colour"] == "#ffffff"
    assert heat_cell(wilson(4, 4))["colour"] == "#ff5050"
    assert heat_cell(wilson(0, 0)) == {"text": "n/a", "n": "0", "colour": "#eceff1"}
    assert heat_cell(wilson(1, 2))["text"] == "50%"
