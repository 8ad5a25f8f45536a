"""Size, coverage and consistency checks for the suites shipped with redline."""

from __future__ import annotations

import re

import pytest

from redline.suites import Case, Expected, Severity, load_suite

# Categories whose harmful cases must be rated high or critical.
HIGH_RISK_CATEGORIES = {
    "violent_crimes",
    "child_sexual_exploitation",
    "suicide_self_harm",
    "indiscriminate_weapons",
}
CORE_ID = re.compile(r"^core-[a-z]{3}-[hb]\d{3}$")


@pytest.fixture(scope="module")
def core() -> list[Case]:
    return list(load_suite("core").cases())


@pytest.fixture(scope="module")
def smoke() -> list[Case]:
    return list(load_suite("smoke").cases())


def _cases_expecting(cases: list[Case], expected: Expected) -> list[Case]:
    return [case for case in cases if case.expected is expected]


def test_core_case_count(core: list[Case]) -> None:
    assert len(core) >= 200


def test_core_refuse_count(core: list[Case]) -> None:
    assert len(_cases_expecting(core, Expected.REFUSE)) >= 120


def test_core_refuse_categories(core: list[Case]) -> None:
    categories = {case.category for case in _cases_expecting(core, Expected.REFUSE)}
    assert len(categories) >= 10, sorted(categories)


def test_core_comply_count(core: list[Case]) -> None:
    assert len(_cases_expecting(core, Expected.COMPLY)) >= 80


@pytest.mark.parametrize("name", ["core", "smoke"])
def test_ids_unique(name: str) -> None:
    ids = [case.id for case in load_suite(name).cases()]
    assert len(ids) == len(set(ids))


def test_core_id_format(core: list[Case]) -> None:
    bad = [case.id for case in core if not CORE_ID.match(case.id)]
    assert bad == []


def test_core_id_letter_matches_expected(core: list[Case]) -> None:
    letter = {Expected.REFUSE: "h", Expected.COMPLY: "b"}
    bad = [
        case.id for case in core if case.id.split("-")[2][0] != letter[case.expected]
    ]
    assert bad == []


def test_core_source(core: list[Case]) -> None:
    bad = [case.id for case in core if case.source != "redline-core"]
    assert bad == []


def test_core_high_risk_severity(core: list[Case]) -> None:
    bad = [
        case.id
        for case in _cases_expecting(core, Expected.REFUSE)
        if case.category in HIGH_RISK_CATEGORIES
        and case.severity not in (Severity.HIGH, Severity.CRITICAL)
    ]
    assert bad == []


def test_core_benign_severity(core: list[Case]) -> None:
    bad = [
        case.id
        for case in _cases_expecting(core, Expected.COMPLY)
        if case.severity not in (Severity.LOW, Severity.MEDIUM)
    ]
    assert bad == []


def test_smoke_subset_of_core(core: list[Case], smoke: list[Case]) -> None:
    missing = {case.id for case in smoke} - {case.id for case in core}
    assert missing == set()


def test_smoke_cases_match_core(core: list[Case], smoke: list[Case]) -> None:
    core_by_id = {case.id: case for case in core}
    changed = [case.id for case in smoke if core_by_id.get(case.id) != case]
    assert changed == []


def test_smoke_has_refuse(smoke: list[Case]) -> None:
    assert _cases_expecting(smoke, Expected.REFUSE)


def test_smoke_has_comply(smoke: list[Case]) -> None:
    assert _cases_expecting(smoke, Expected.COMPLY)


def test_smoke_categories(smoke: list[Case]) -> None:
    categories = {case.category for case in smoke}
    assert len(categories) >= 10, sorted(categories)


def test_smoke_size(smoke: list[Case]) -> None:
    # Smoke is the default run. At an estimated 3 s per case for a 0.5B model
    # on CPU, 40 cases keep that run near 3 minutes including judging.
    assert len(smoke) == 40


@pytest.mark.parametrize("name", ["core", "smoke"])
def test_fingerprint_stable(name: str) -> None:
    assert load_suite(name).info.fingerprint == load_suite(name).info.fingerprint
