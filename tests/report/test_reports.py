from __future__ import annotations

import json

import pytest
from rich.console import Console

import redline
from redline.calibration import compute_metrics
from redline.report import (
    render_html_report,
    summary_renderable,
    write_html_report,
    write_json_report,
)
from redline.runner import REPORT_FORMAT_VERSION, load_result
from redline.store import CalibrationRecord, Store
from redline.testing import FakeOpenAIServer
from tests.conftest import write_jsonl_suite
from tests.store.test_store import make_attempt, make_run

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
    assert data["format_version"] == REPORT_FORMAT_VERSION
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


def verdict(classifier: str, score: float, **extra: str) -> dict:
    return {
        "classifier": classifier,
        "label": "x",
        "flagged": score >= 0.5,
        "score": score,
        **extra,
    }


def store_cascade_run(db) -> None:
    """Store a run judged by a refusal detector and a two-tier cascade."""
    run = make_run()
    run.classifiers = [
        {"name": "refusal", "kind": "refusal", "version": "1"},
        {"name": "cascade", "kind": "content", "version": "tiers-abc"},
    ]
    verdicts = [
        [verdict("refusal", 0.9), verdict("cascade", 0.1, tier="toxicity")],
        [verdict("refusal", 0.1), verdict("cascade", 0.8, tier="judge")],
        [
            verdict("refusal", 0.0, error="empty output"),
            verdict("cascade", 0.0, tier="judge", error="timeout"),
        ],
    ]
    attempts = []
    for index, attempt_verdicts in enumerate(verdicts):
        attempt = make_attempt(run.run_id, f"c{index}", index)
        attempt.verdicts = attempt_verdicts
        attempts.append(attempt)
    with Store(db) as store:
        store.create_run(run)
        store.add_attempts(attempts)


def calibration_record(labels_path: str = "/data/labels.csv") -> CalibrationRecord:
    return CalibrationRecord(
        created_at=1_700_000_000.0,
        classifier_name="refusal",
        classifier_version="1",
        classifier_identity={"name": "refusal", "kind": "refusal", "version": "1"},
        labels_path=labels_path,
        labels_sha256="ab" * 32,
        row_count=4,
        metrics={
            "unassessed": {"count": 1, "reasons": {"empty output": 1}},
            "metrics": compute_metrics(
                [(True, 0.9, True), (True, 0.2, False), (False, 0.1, False)]
            ).to_dict(),
        },
        redline_version="0",
    )


@pytest.fixture
def cascade_result(tmp_path):
    db = tmp_path / "r.db"
    store_cascade_run(db)
    with Store(db) as store:
        store.add_calibration(calibration_record())
        return load_result(store, "20260101-000000-abcdef")


def test_verdict_counts_per_classifier(cascade_result):
    counts = {report.name: report.counts for report in cascade_result.classifiers}
    assert counts["refusal"].verdicts == 3
    assert counts["refusal"].errors == 1
    assert counts["cascade"].verdicts == 3
    assert counts["cascade"].errors == 1


def test_cascade_verdicts_counted_per_tier(cascade_result):
    cascade = next(r for r in cascade_result.classifiers if r.name == "cascade")
    assert cascade.counts.by_tier == {"judge": 2, "toxicity": 1}


def test_latest_matching_calibration_attached(cascade_result):
    reports = {report.name: report for report in cascade_result.classifiers}
    calibration = reports["refusal"].calibration
    assert calibration is not None
    assert calibration.n == 3
    assert calibration.unassessed == 1
    assert calibration.false_negative_rate.value == 0.5
    assert reports["cascade"].calibration is None


def test_json_report_lists_classifiers(cascade_result, tmp_path):
    path = write_json_report(cascade_result, tmp_path / "report.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = {entry["name"]: entry for entry in data["classifiers"]}
    assert entries["cascade"]["by_tier"] == {"judge": 2, "toxicity": 1}
    assert entries["cascade"]["calibration"] is None
    assert entries["refusal"]["calibration"]["labels_path"] == "/data/labels.csv"
    assert entries["refusal"]["calibration"]["false_negative_rate"]["value"] == 0.5


def test_json_report_version_is_current(cascade_result):
    assert cascade_result.to_dict()["format_version"] == REPORT_FORMAT_VERSION


def test_table_shows_calibration_and_tiers(cascade_result):
    console = Console(width=120, record=True)
    console.print(summary_renderable(cascade_result))
    text = console.export_text()
    assert "FNR 50.0% [9.5, 90.5]" in text
    assert "judge 2" in text
    assert "toxicity 1" in text
    assert "not calibrated" in text
    assert "/data/labels.csv" in text


def test_html_shows_calibration_and_tiers(cascade_result):
    page = render_html_report(cascade_result)
    assert "<td>judge: 2, toxicity: 1</td>" in page
    assert "50.0% [9.5, 90.5]" in page
    assert '<td colspan="9">not calibrated</td>' in page


def test_html_escapes_labels_path(tmp_path):
    db = tmp_path / "r.db"
    store_cascade_run(db)
    with Store(db) as store:
        store.add_calibration(calibration_record(labels_path=HOSTILE))
        page = render_html_report(load_result(store, "20260101-000000-abcdef"))
    assert HOSTILE not in page
    assert page.count("<script>") == 1


def test_unreadable_calibration_reported_as_missing(tmp_path):
    db = tmp_path / "r.db"
    store_cascade_run(db)
    record = calibration_record()
    record.metrics = {"format_version": "9"}
    with Store(db) as store:
        store.add_calibration(record)
        result = load_result(store, "20260101-000000-abcdef")
    assert all(report.calibration is None for report in result.classifiers)
