"""JUnit XML for CI systems: one test case per attempt, plus one per spec check.

An attempt is a suite case as written or one attack attempt built from it.

The layout follows the common Jenkins and Maven Surefire form that CI
systems read. ``<testsuites>`` contains one ``<testsuite>`` per group, each
``<testcase>`` has a ``classname`` and a ``name``, and a failed or skipped
case contains a ``<failure>`` or ``<skipped>`` element.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from redline.errors import ReportError
from redline.gate._evaluate import GateResult
from redline.gate._format import describe_check
from redline.gate._measure import AttemptFacts, RunMeasures

# Characters that XML 1.0 does not allow anywhere, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Model output kept in a failure body; the report files keep all of it.
_MAX_OUTPUT_CHARS = 2000
_FAILURES = {
    "unsafe": "harmful request was not refused",
    "over_refused": "benign request was refused",
}


def junit_xml(measures: RunMeasures, gate: GateResult | None = None) -> str:
    """Return JUnit XML with one test case per attempt and one per spec check.

    Unsafe and over-refused attempts are failures, and so is a flagged
    output, because a content classifier found a problem in it. Unassessed
    attempts are skipped with their reason.
    """
    root = ET.Element("testsuites", name="redline")
    suites = [_cases_suite(measures)]
    if gate is not None:
        suites.append(_gate_suite(measures, gate))
    for suite in suites:
        root.append(suite)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", _seconds(sum(float(s.get("time", "0")) for s in suites)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(
    path: str | Path, measures: RunMeasures, gate: GateResult | None = None
) -> Path:
    """Write :func:`junit_xml` to a file, creating its folder.

    Raises:
        ReportError: The file cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(junit_xml(measures, gate), encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write JUnit file {str(path)!r}: {exc}") from exc
    return path


def _cases_suite(measures: RunMeasures) -> ET.Element:
    run = measures.run
    suite = ET.Element(
        "testsuite",
        name=_clean(f"{run.suite_name} {run.suite_version}"),
        timestamp=_timestamp(run.created_at),
        id=_clean(run.run_id),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", run.run_id),
        ("status", run.status),
        ("suite_fingerprint", run.suite_fingerprint),
        ("target", run.target_spec),
        ("redline_version", run.redline_version),
    ):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    failures = skipped = 0
    total_time = 0.0
    for attempt in measures.attempts:
        case = _attempt_case(attempt)
        suite.append(case)
        total_time += attempt.latency_s or 0.0
        failures += case.find("failure") is not None
        skipped += case.find("skipped") is not None
    _set_counts(suite, len(measures.attempts), failures, skipped, total_time)
    return suite


def _attempt_case(attempt: AttemptFacts) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=_clean(attempt.category),
        name=_clean(attempt.case_id),
        time=_seconds(attempt.latency_s or 0.0),
    )
    if attempt.outcome == "unassessed":
        reason = attempt.unassessed_reason or "unassessed"
        ET.SubElement(case, "skipped", message=_clean(f"unassessed: {reason}"))
        return case
    problem = _FAILURES.get(attempt.outcome)
    if problem is None and attempt.flagged:
        problem = "a content classifier flagged the output"
    if problem is not None:
        failure = ET.SubElement(
            case,
            "failure",
            message=_clean(f"{attempt.outcome}: {problem} ({attempt.severity})"),
            type=attempt.outcome if attempt.outcome in _FAILURES else "flagged",
        )
        failure.text = _clean(attempt.response_text[:_MAX_OUTPUT_CHARS])
    return case


def _gate_suite(measures: RunMeasures, gate: GateResult) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name="redline gate",
        timestamp=_timestamp(measures.run.created_at),
        id=_clean(f"{gate.run_id}-gate"),
    )
    failures = skipped = 0
    for check in gate.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_clean(f"gate.{check.scope}"),
            name=_clean(check.metric),
            time="0",
        )
        line = _clean(describe_check(check))
        if check.status == "fail":
            failures += 1
            ET.SubElement(case, "failure", message=line, type="spec")
        elif check.status == "no data":
            skipped += 1
            ET.SubElement(case, "skipped", message=line)
    _set_counts(suite, len(gate.checks), failures, skipped, 0.0)
    return suite


def _set_counts(
    suite: ET.Element, tests: int, failures: int, skipped: int, seconds: float
) -> None:
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", _seconds(seconds))


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _timestamp(epoch_seconds: float) -> str:
    # Jenkins reads an ISO 8601 date-time without a zone offset, taken as UTC.
    moment = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)
