from __future__ import annotations

import pytest

from redline.compare import compare_runs
from redline.config import CompareSettings, Price
from redline.store import Store
from tests.paired_runs import (
    CANDIDATE_UNSAFE,
    baseline_responder,
    candidate_responder,
    run_with,
    write_golden_suite,
)


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """The baseline run, the candidate run and a repeat of the baseline."""
    folder = tmp_path_factory.mktemp("golden")
    suite = write_golden_suite(folder / "golden.jsonl")
    db = folder / "r.db"
    base = run_with(baseline_responder, suite, db)
    candidate = run_with(candidate_responder, suite, db)
    repeat = run_with(baseline_responder, suite, db)
    return db, base, candidate, repeat


def _compare(golden, base_index=1, candidate_index=2, **kwargs):
    db = golden[0]
    with Store(db) as store:
        return compare_runs(
            store, golden[base_index], golden[candidate_index], **kwargs
        )


def test_regression_flips_listed(golden):
    safety = _compare(golden).test("safety_pass_rate")
    assert [flip.case_id for flip in safety.worse_cases] == CANDIDATE_UNSAFE
    assert [flip.case_id for flip in safety.better_cases] == ["harm-19"]
    assert {(f.base, f.candidate) for f in safety.worse_cases} == {("safe", "unsafe")}


def test_regression_mcnemar_p_value(golden):
    # 8 pairs got worse and 1 better, so under the null hypothesis the
    # worse count is Binomial(9, 1/2) and the exact two-sided p-value is
    # 2 * (C(9,0) + C(9,1)) / 2**9 = 2 * (1 + 9) / 512 = 0.0390625.
    safety = _compare(golden).test("safety_pass_rate")
    assert safety.worse == 8
    assert safety.better == 1
    assert safety.p_value == pytest.approx(0.0390625, abs=1e-12)


def test_regression_verdict_and_owner(golden):
    comparison = _compare(golden, owner="alice", rollback_target="openai:m-v1")
    assert comparison.verdict == "regressed"
    assert comparison.owner == "alice"
    assert comparison.rollback_target == "openai:m-v1"
    assert "safety_pass_rate worse" in comparison.reasons[0]


def test_unassessed_pairs_left_out_and_counted(golden):
    safety = _compare(golden).test("safety_pass_rate")
    # harm-10 is unassessed in the candidate: 19 of 20 harmful pairs remain.
    assert safety.pairs == 19
    assert safety.unassessed == 1
    assert safety.base.successes == 18
    assert safety.candidate.successes == 11


def test_unassessed_rate_counts_every_pair(golden):
    unassessed = _compare(golden).test("unassessed_rate")
    assert unassessed.pairs == 30
    assert unassessed.worse == 1
    assert not unassessed.decides_verdict


def test_over_refusal_flip_not_significant(golden):
    over_refusal = _compare(golden).test("over_refusal_rate")
    assert [flip.case_id for flip in over_refusal.worse_cases] == ["benign-00"]
    assert over_refusal.p_value == 1.0
    assert over_refusal.direction == "same"


def test_delta_interval_contains_estimate(golden):
    safety = _compare(golden).test("safety_pass_rate")
    low, high = safety.interval
    assert safety.delta == pytest.approx((11 - 18) / 19)
    assert low < safety.delta < high
    assert high < 0


def test_identical_behaviour_no_change(golden):
    comparison = _compare(golden, base_index=1, candidate_index=3)
    assert comparison.verdict == "no significant change"
    assert all(test.worse == test.better == 0 for test in comparison.tests)
    assert all(test.p_value == 1.0 for test in comparison.tests)


def test_reverse_direction_improved(golden):
    comparison = _compare(golden, base_index=2, candidate_index=1)
    assert comparison.verdict == "improved"
    assert comparison.test("safety_pass_rate").better == 8


def test_alpha_decides_significance(golden):
    strict = CompareSettings(alpha=0.01)
    assert _compare(golden, settings=strict).verdict == "no significant change"


def test_metric_outside_verdict_ignored(golden):
    settings = CompareSettings(metrics=["over_refusal_rate"])
    assert _compare(golden, settings=settings).verdict == "no significant change"


def test_cost_delta_and_tolerance(golden):
    prices = {"openai:m": Price(input_per_million=1.0, output_per_million=2.0)}
    comparison = _compare(golden, prices=prices)
    assert comparison.cost.base is not None
    assert comparison.cost.candidate is not None
    assert comparison.cost.delta == pytest.approx(
        comparison.cost.candidate - comparison.cost.base
    )
    tight = CompareSettings(metrics=["over_refusal_rate"], cost_max_increase=0.0)
    regressed = _compare(golden, prices=prices, settings=tight)
    # The candidate writes more tokens (compliance is longer than a refusal).
    assert comparison.cost.candidate > comparison.cost.base
    assert regressed.verdict == "regressed"
    assert "cost per 1,000 cases" in regressed.reasons[0]


def test_cost_missing_without_price(golden):
    comparison = _compare(golden)
    assert comparison.cost.delta is None
    assert "no price for 'openai:m'" in comparison.cost.missing["base"]


def test_latency_pairs_cover_timed_cases(golden):
    latency = _compare(golden).latency
    # harm-10 has a successful request with empty output, so it is timed too.
    assert latency.pairs == 30
    assert latency.slower + latency.faster <= 30
    assert latency.base["p95"] is not None


def test_different_suite_not_comparable(golden, tmp_path):
    db = golden[0]
    other = write_golden_suite(tmp_path / "golden.jsonl", version="2", extra_cases=1)
    other_run = run_with(baseline_responder, other, db)
    with Store(db) as store:
        comparison = compare_runs(store, golden[1], other_run)
    assert comparison.verdict == "not comparable"
    assert "suite fingerprint differs" in comparison.differences[0]
    assert "golden 2" in comparison.differences[0]
    assert comparison.shared_cases == 30
    assert comparison.candidate_only == 1


def test_different_classifiers_not_comparable(golden, tmp_path):
    db = golden[0]
    suite = write_golden_suite(tmp_path / "golden.jsonl")
    other_run = run_with(baseline_responder, suite, db, classifiers=["refusal"])
    with Store(db) as store:
        comparison = compare_runs(store, golden[1], other_run)
    assert comparison.verdict == "not comparable"
    assert comparison.differences[0].startswith("classifiers differ")
    assert "toxicity" in comparison.differences[0]


def test_json_form_has_discordant_counts(golden):
    data = _compare(golden).to_dict()
    safety = data["tests"][0]
    assert safety["metric"] == "safety_pass_rate"
    assert safety["discordant"] == {"worse": 8, "better": 1}
    assert data["verdict"] == "regressed"


def test_classifier_order_still_comparable(golden, tmp_path):
    db = golden[0]
    suite = write_golden_suite(tmp_path / "golden.jsonl")
    reordered = run_with(
        baseline_responder, suite, db, classifiers=["toxicity", "refusal"]
    )
    with Store(db) as store:
        comparison = compare_runs(store, golden[1], reordered)
    assert comparison.differences == ()
    assert comparison.verdict == "no significant change"
