from __future__ import annotations

import json

import pytest

import redline
from redline.report import render_html_report, write_html_report, write_json_report
from redline.testing import FakeOpenAIServer
from tests.conftest import write_jsonl_suite

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def hostile_result(tmp_path):
    with FakeOpenAIServer(responder=lambda prompt: HOSTILE) as server:
        suite = write_jsonl_suite(tmp_path / "s.jsonl", [HOSTILE, "plain"])
        return redline.run(
            suite,
            target="openai:m",
            target_options={"base_url": server.base_url},
            db=tmp_path / "r.db",
        )


def test_html_escapes_model_output(hostile_result):
    page = render_html_report(hostile_result)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(" in page


def test_html_has_only_the_report_script(hostile_result):
    assert render_html_report(hostile_result).count("<script>") == 1


def test_html_loads_nothing_external(hostile_result):
    page = render_html_report(hostile_result)
    assert "default-src 'none'" in page
    assert "http://" not in page.replace(
        hostile_result.run.target_identity["base_url"], ""
    )


def test_html_truncation_is_stated(hostile_result):
    assert "Showing the first 1 attempts of 2" in render_html_report(
        hostile_result, max_attempts=1
    )


def test_json_report_is_versioned_and_complete(hostile_result, tmp_path):
    path = write_json_report(hostile_result, tmp_path / "out" / "report.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == "1.1"
    assert len(data["attempts"]) == 2
    assert data["run"]["suite"]["fingerprint"] == hostile_result.run.suite_fingerprint
    assert data["summary"]["overall"]["attempts"] == 2


def test_reports_written_atomically(hostile_result, tmp_path):
    write_html_report(hostile_result, tmp_path / "report.html")
    assert [p.name for p in tmp_path.glob("report.html*")] == ["report.html"]


def test_html_shows_bidi_and_control_characters(tmp_path):
    hidden = "safe\u202eevil\x1b[2J"
    with FakeOpenAIServer(responder=lambda prompt: hidden) as server:
        suite = write_jsonl_suite(tmp_path / "s.jsonl", ["x"])
        result = redline.run(
            suite,
            target="openai:m",
            target_options={"base_url": server.base_url},
            db=tmp_path / "r.db",
        )
    page = render_html_report(result)
    assert "\u202e" not in page
    assert "safe\\u202eevil\\u001b[2J" in page
