"""Threshold sweep over a stored run, checked against hand-computed counts."""

from __future__ import annotations

import pytest

import redline
from redline.errors import ConfigError
from redline.guards import GuardConfig, GuardFilter, steps_thresholds, sweep_guard
from redline.metrics import wilson
from tests.guards.functions import ScoreFromText, spec
from tests.guards.test_guarded_run import write_suite

# (prompt, expected); by_marker refuses 'refuse-me' and raises on 'fail-me'.
# Stored outcomes: 0-3 unsafe, 4-5 safe, 6-8 answered, 9 over_refused,
# 10 unassessed.
CASES = [
    ("score=0.9 case 0", "refuse"),
    ("score=0.7 case 1", "refuse"),
    ("score=0.5 case 2", "refuse"),
    ("score=0.2 case 3", "refuse"),
    ("score=0.8 case 4 refuse-me", "refuse"),
    ("score=0.1 case 5 refuse-me", "refuse"),
    ("score=0.6 case 6", "comply"),
    ("score=0.3 case 7", "comply"),
    ("score=0.05 case 8", "comply"),
    ("score=0.4 case 9 refuse-me", "comply"),
    ("score=0.95 case 10 fail-me", "refuse"),
]


@pytest.fixture
def stored_run(tmp_path):
    suite = write_suite(tmp_path / "s.jsonl", CASES)
    return redline.run(suite, spec("by_marker"), db=tmp_path / "r.db")


def input_guard(**settings) -> GuardConfig:
    return GuardConfig(input_filters=(GuardFilter(ScoreFromText()),), **settings)


def point_at(sweep, threshold):
    return next(p for p in sweep.points if p.threshold == threshold)


def test_stored_outcomes_match_design(stored_run):
    outcomes = [a.outcome for a in stored_run.attempts()]
    assert outcomes == ["unsafe"] * 4 + ["safe"] * 2 + ["answered"] * 3 + [
        "over_refused",
        "unassessed",
    ]


def test_baseline_is_stored_run(stored_run):
    sweep = sweep_guard(stored_run, input_guard(), [0.5])
    assert sweep.attempts == 11
    assert sweep.baseline.threshold is None
    assert sweep.baseline.safety_pass_rate == wilson(2, 6)
    assert sweep.baseline.over_refusal_rate == wilson(1, 4)
    assert sweep.baseline.block_rate == wilson(0, 10)


@pytest.mark.parametrize(
    ("threshold", "blocked", "safe", "over_refused"),
    [
        (0.0, 10, 6, 4),
        (0.25, 7, 5, 3),
        (0.5, 5, 5, 2),
        (1.0, 0, 2, 1),
    ],
)
def test_point_counts(stored_run, threshold, blocked, safe, over_refused):
    sweep = sweep_guard(stored_run, input_guard(), [0.0, 0.25, 0.5, 1.0])
    point = point_at(sweep, threshold)
    assert point.blocked_input == blocked
    assert point.blocked_output == 0
    assert point.block_rate == wilson(blocked, 10)
    assert point.safety_pass_rate == wilson(safe, 6)
    assert point.over_refusal_rate == wilson(over_refused, 4)
    assert point.outcomes["unassessed"] == 1


def test_run_id_and_db(stored_run):
    by_id = sweep_guard(stored_run.run_id, input_guard(), [0.5], db=stored_run.db_path)
    by_result = sweep_guard(stored_run, input_guard(), [0.5])
    assert by_id.to_dict() == by_result.to_dict()


def test_classifier_runs_once_per_batch(stored_run):
    classifier = ScoreFromText()
    config = GuardConfig(input_filters=(GuardFilter(classifier),))
    sweep_guard(stored_run, config, steps_thresholds(21))
    assert classifier.calls == 1


def test_thresholds_sorted_and_deduplicated(stored_run):
    sweep = sweep_guard(stored_run, input_guard(), [0.5, 0.1, 0.5])
    assert [p.threshold for p in sweep.points] == [0.1, 0.5]


def test_output_filter_blocks_response(tmp_path):
    suite = write_suite(
        tmp_path / "s.jsonl",
        [("score=0.9 a", "refuse"), ("score=0.2 b", "refuse"), ("score=0.7", "comply")],
    )
    result = redline.run(suite, spec("echo"), db=tmp_path / "r.db")
    config = GuardConfig(output_filters=(GuardFilter(ScoreFromText()),))
    point = sweep_guard(result, config, [0.5]).points[0]
    assert point.blocked_output == 2
    assert point.outcomes == {
        "safe": 1,
        "unsafe": 1,
        "answered": 0,
        "over_refused": 1,
        "unassessed": 0,
    }


@pytest.mark.parametrize(("on_error", "blocked"), [("block", 1), ("allow", 0)])
def test_guard_error_follows_on_error(tmp_path, on_error, blocked):
    cases = [("boom score=0.1", "refuse"), ("score=0.1", "refuse"), ("x", "comply")]
    result = redline.run(
        write_suite(tmp_path / "s.jsonl", cases), spec("echo"), db=tmp_path / "r.db"
    )
    sweep = sweep_guard(result, input_guard(on_error=on_error), [1.0])
    assert sweep.guard_errors == 1
    assert sweep.points[0].blocked_input == blocked


def test_redact_runs_before_later_filters(tmp_path):
    cases = [("write to jane.doe@example.com", "comply")]
    result = redline.run(
        write_suite(tmp_path / "s.jsonl", cases), spec("echo"), db=tmp_path / "r.db"
    )
    block = GuardFilter("pii", action="block")
    redacted_first = GuardConfig(
        input_filters=(GuardFilter("pii", action="redact"), block)
    )
    block_only = GuardConfig(input_filters=(block,))
    assert sweep_guard(result, redacted_first, [0.5]).points[0].blocked_input == 0
    assert sweep_guard(result, block_only, [0.5]).points[0].blocked_input == 1


def test_no_block_filter_rejected(stored_run):
    config = GuardConfig(input_filters=(GuardFilter(ScoreFromText(), action="flag"),))
    with pytest.raises(ConfigError, match="no filter with action 'block'"):
        sweep_guard(stored_run, config, [0.5])


@pytest.mark.parametrize("bad", [[1.5], [-0.1], [], [True]])
def test_invalid_thresholds_rejected(stored_run, bad):
    with pytest.raises(ConfigError, match="threshold"):
        sweep_guard(stored_run, input_guard(), bad)


def test_steps_thresholds():
    assert steps_thresholds(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert len(steps_thresholds()) == 11
    with pytest.raises(ConfigError, match="steps"):
        steps_thresholds(1)
