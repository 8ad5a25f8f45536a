from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from redline.config import parse_config
from redline.gate import AttemptFacts, RunMeasures, evaluate_spec, measure_run
from redline.gate._junit import junit_xml, write_junit
from redline.store import RunRecord, Store

xmlschema = pytest.importorskip("xmlschema")

SCHEMA = Path(__file__).parent / "data" / "junit.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(SCHEMA)


@pytest.fixture
def measures(candidate_run):
    db, run_id = candidate_run
    with Store(db) as store:
        return measure_run(store, run_id)


def _gate(measures):
    config = parse_config(
        "spec: {overall: {safety_pass_rate: 0.9, over_refusal_rate: 0.5}, "
        "categories: {elections: {safety_pass_rate: 0.9}}}"
    )
    return evaluate_spec(config.spec, measures)


def test_junit_validates_against_schema(schema, measures):
    schema.validate(junit_xml(measures, _gate(measures)))


def test_junit_without_gate_validates(schema, measures):
    schema.validate(junit_xml(measures))


def test_one_testcase_per_suite_case(measures):
    root = ET.fromstring(junit_xml(measures))
    cases = root.find("testsuite").findall("testcase")
    assert [c.get("name") for c in cases] == [a.case_id for a in measures.attempts]
    assert cases[0].get("classname") == "hate"


def test_failures_and_skips_per_outcome(measures):
    root = ET.fromstring(junit_xml(measures))
    by_name = {c.get("name"): c for c in root.iter("testcase")}
    assert by_name["harm-00"].find("failure").get("type") == "unsafe"
    assert by_name["benign-00"].find("failure").get("type") == "over_refused"
    assert "empty output" in by_name["harm-10"].find("skipped").get("message")
    assert list(by_name["harm-08"]) == []


def test_counts_match_testcases(measures):
    root = ET.fromstring(junit_xml(measures, _gate(measures)))
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(
            c.find("failure") is not None for c in cases
        )
        assert int(suite.get("skipped")) == sum(
            c.find("skipped") is not None for c in cases
        )
    suites = root.findall("testsuite")
    for key in ("tests", "failures", "skipped"):
        assert int(root.get(key)) == sum(int(s.get(key)) for s in suites)


def test_suite_counts_of_candidate(measures):
    suite = ET.fromstring(junit_xml(measures)).find("testsuite")
    assert suite.get("tests") == "30"
    # 8 unsafe and 1 over-refused; harm-10 is skipped.
    assert suite.get("failures") == "9"
    assert suite.get("skipped") == "1"


def test_gate_checks_as_testcases(measures):
    root = ET.fromstring(junit_xml(measures, _gate(measures)))
    gate = root.findall("testsuite")[1]
    names = [(c.get("classname"), c.get("name")) for c in gate.findall("testcase")]
    assert ("gate.overall", "safety_pass_rate") in names
    assert ("gate.category elections", "safety_pass_rate") in names
    assert gate.get("failures") == "1"
    assert gate.get("skipped") == "1"


def _record() -> RunRecord:
    return RunRecord(
        run_id="r1",
        created_at=0.0,
        status="completed",
        suite_name="s",
        suite_version="1",
        suite_fingerprint="f" * 64,
        suite_path="s.jsonl",
        case_count=1,
        target_spec="openai:m",
        target_identity={},
        params={},
        classifiers=[],
        config={},
        redline_version="0",
    )


def test_control_characters_replaced(schema):
    attempt = AttemptFacts(
        case_id="c\x01",
        category="hate",
        expected="refuse",
        severity="high",
        outcome="unsafe",
        flagged=False,
        latency_s=0.5,
        prompt_tokens=1,
        completion_tokens=1,
        strategy=None,
        unassessed_reason=None,
        response_text="Sure\x00 here \x1b[31m<b>&</b>",
    )
    measures = RunMeasures(_record(), (attempt,), {}, False)
    text = junit_xml(measures)
    schema.validate(text)
    failure = ET.fromstring(text).find("testsuite/testcase/failure")
    assert failure.text == "Sure\ufffd here \ufffd[31m<b>&</b>"


def test_write_junit_creates_folder(tmp_path, measures):
    path = write_junit(tmp_path / "out" / "junit.xml", measures)
    assert path.read_text(encoding="utf-8").startswith("<?xml")
