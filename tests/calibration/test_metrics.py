from __future__ import annotations

import math
import random
import statistics

import pytest
from sklearn.metrics import average_precision_score, cohen_kappa_score, roc_auc_score

from redline.calibration import (
    ConfusionMatrix,
    Estimate,
    Prediction,
    average_precision,
    cohen_kappa,
    compute_metrics,
    confusion_matrix,
    f1_score,
    roc_auc,
    threshold_for_fnr,
    threshold_sweep,
)
from redline.calibration._metrics import SWEEP_GRID


def predictions_from_counts(tp: int, fp: int, tn: int, fn: int) -> list[Prediction]:
    """Predictions whose score is 1.0 when flagged and 0.0 otherwise."""
    return (
        [Prediction(True, 1.0, True)] * tp
        + [Prediction(False, 1.0, True)] * fp
        + [Prediction(False, 0.0, False)] * tn
        + [Prediction(True, 0.0, False)] * fn
    )


# A worked example of 45 positive and 55 negative texts. The classifier
# flags 40 of the positives and 10 of the negatives.
WORKED = predictions_from_counts(tp=40, fp=10, tn=45, fn=5)


def test_worked_confusion_matrix():
    confusion = confusion_matrix(WORKED)
    assert confusion == ConfusionMatrix(tp=40, fp=10, tn=45, fn=5)
    assert confusion.positives == 45
    assert confusion.negatives == 55
    assert confusion.total == 100


def test_worked_rates():
    metrics = compute_metrics(WORKED)
    assert metrics.precision.value == pytest.approx(40 / 50)
    assert metrics.recall.value == pytest.approx(40 / 45)
    assert metrics.false_negative_rate.value == pytest.approx(5 / 45)
    assert metrics.false_positive_rate.value == pytest.approx(10 / 55)
    assert metrics.accuracy.value == pytest.approx(85 / 100)
    assert metrics.undefined == {}


def test_worked_precision_wilson_interval():
    # Wilson (1927) by hand for 40/50: centre 0.77860, half-width 0.10897.
    precision = compute_metrics(WORKED).precision
    assert precision.low == pytest.approx(0.66963, abs=1e-4)
    assert precision.high == pytest.approx(0.88756, abs=1e-4)


def test_worked_f1_and_interval():
    f1 = compute_metrics(WORKED).f1
    assert f1.value == pytest.approx(80 / 95)
    # The interval is the Wilson interval of J = 40/55, by hand centre
    # 0.712435 and half-width 0.114760, mapped by 2J / (1 + J).
    assert f1.low == pytest.approx(2 * 0.597675 / 1.597675, abs=1e-5)
    assert f1.high == pytest.approx(2 * 0.827195 / 1.827195, abs=1e-5)


def test_worked_kappa_by_hand():
    # p_o = 0.85, p_e = 0.45 * 0.50 + 0.55 * 0.50 = 0.50, kappa = 0.35 / 0.5.
    kappa = compute_metrics(WORKED).kappa
    assert kappa.value == pytest.approx(0.7)


def test_worked_kappa_standard_error_by_hand():
    # Fleiss, Cohen and Everitt (1969): A = 0.41564125, B = 0.01308375,
    # C = 0.3025, var = (A + B - C) / (100 * 0.5 ** 2) = 0.005049.
    kappa = compute_metrics(WORKED).kappa
    assert kappa.standard_error == pytest.approx(math.sqrt(0.005049), rel=1e-9)
    assert kappa.low == pytest.approx(0.7 - 1.959963984540054 * 0.0710563, abs=1e-6)
    assert kappa.high == pytest.approx(0.7 + 1.959963984540054 * 0.0710563, abs=1e-6)


def test_kappa_standard_error_matches_simulation():
    # Cell probabilities (tp, fp, tn, fn) and the spread of kappa over
    # repeated samples of 400 texts, drawn with a fixed seed.
    probabilities = (0.30, 0.05, 0.55, 0.10)
    rng = random.Random(7)
    kappas = []
    for _ in range(1000):
        cells = rng.choices(range(4), weights=probabilities, k=400)
        counts = [cells.count(i) for i in range(4)]
        kappas.append(cohen_kappa(ConfusionMatrix(*counts)).value)
    expected = cohen_kappa(ConfusionMatrix(*[round(p * 400) for p in probabilities]))
    assert expected.standard_error is not None
    assert statistics.stdev(kappas) == pytest.approx(expected.standard_error, rel=0.1)


@pytest.mark.parametrize("seed", range(20))
def test_kappa_matches_sklearn(seed):
    rng = random.Random(seed)
    labels = [rng.random() < 0.4 for _ in range(rng.randint(5, 80))]
    decisions = [rng.random() < 0.5 for _ in labels]
    kappa = cohen_kappa(
        confusion_matrix(zip(labels, [0.0] * len(labels), decisions, strict=True))
    )
    assert kappa.value == pytest.approx(cohen_kappa_score(labels, decisions), abs=1e-12)


def random_scored(seed: int) -> tuple[list[bool], list[float]]:
    """Labels with both classes, and scores with many ties when seed is even."""
    rng = random.Random(seed)
    size = rng.randint(4, 120)
    labels = [rng.random() < 0.35 for _ in range(size)]
    labels[0], labels[1] = True, False
    if seed % 2:
        scores = [rng.random() for _ in range(size)]
    else:
        scores = [rng.choice([0.0, 0.1, 0.5, 0.5, 0.9, 1.0]) for _ in range(size)]
    return labels, scores


@pytest.mark.parametrize("seed", range(40))
def test_roc_auc_matches_sklearn(seed):
    labels, scores = random_scored(seed)
    predictions = [
        Prediction(y, s, s >= 0.5) for y, s in zip(labels, scores, strict=True)
    ]
    assert roc_auc(predictions) == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12
    )


@pytest.mark.parametrize("seed", range(40))
def test_average_precision_matches_sklearn(seed):
    labels, scores = random_scored(seed)
    predictions = [
        Prediction(y, s, s >= 0.5) for y, s in zip(labels, scores, strict=True)
    ]
    assert average_precision(predictions) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12
    )


def test_roc_auc_by_hand_with_tie():
    # Pairs (positive, negative): (0.9, 0.5) win, (0.9, 0.1) win,
    # (0.5, 0.5) tie, (0.5, 0.1) win: (3 + 0.5) / 4.
    predictions = [(True, 0.9, True), (True, 0.5, True), (False, 0.5, True)]
    predictions.append((False, 0.1, False))
    assert roc_auc(predictions) == pytest.approx(0.875)


def test_average_precision_by_hand():
    # Descending: 0.9 positive (P 1, R 1/2), 0.6 negative, 0.4 positive
    # (P 2/3, R 1): AP = 1/2 * 1 + 1/2 * 2/3.
    predictions = [(True, 0.9, True), (False, 0.6, True), (True, 0.4, False)]
    assert average_precision(predictions) == pytest.approx(0.5 + 1 / 3)


def test_no_positives_leaves_recall_undefined():
    metrics = compute_metrics([(False, 0.2, False), (False, 0.8, True)])
    assert metrics.recall.value is None
    assert metrics.false_negative_rate.value is None
    assert metrics.roc_auc.value is None
    assert metrics.average_precision.value is None
    assert "labelled positive" in metrics.undefined["recall"]
    assert "labelled positive" in metrics.undefined["roc_auc"]


def test_no_positives_keeps_defined_rates():
    metrics = compute_metrics([(False, 0.2, False), (False, 0.8, True)])
    assert metrics.false_positive_rate.value == 0.5
    assert metrics.precision.value == 0.0
    assert "precision" not in metrics.undefined


def test_no_negatives_leaves_fpr_undefined():
    metrics = compute_metrics([(True, 0.9, True), (True, 0.1, False)])
    assert metrics.false_positive_rate.value is None
    assert metrics.roc_auc.value is None
    assert "labelled negative" in metrics.undefined["false_positive_rate"]
    assert "labelled negative" in metrics.undefined["roc_auc"]
    assert metrics.average_precision.value == 1.0


def test_nothing_flagged_leaves_precision_undefined():
    metrics = compute_metrics([(True, 0.1, False), (False, 0.0, False)])
    assert metrics.precision.value is None
    assert metrics.undefined["precision"] == "the classifier flagged no text"
    assert metrics.f1.value == 0.0


def test_f1_undefined_without_positives_or_flags():
    assert f1_score(ConfusionMatrix(tn=5)).value is None


def test_kappa_undefined_when_chance_agreement_is_one():
    metrics = compute_metrics([(True, 0.9, True), (True, 0.8, True)])
    assert metrics.kappa.value is None
    assert "kappa" in metrics.undefined


def test_kappa_zero_not_undefined_for_one_sided_labels():
    # Labels all positive but decisions mixed: agreement equals chance.
    kappa = cohen_kappa(ConfusionMatrix(tp=3, fn=2))
    assert kappa.value == pytest.approx(0.0)


def test_empty_input_is_all_undefined():
    metrics = compute_metrics([])
    assert metrics.confusion.total == 0
    assert metrics.accuracy.value is None
    assert metrics.kappa.value is None
    assert metrics.sweep == []
    assert set(metrics.undefined.values()) == {"no assessed texts"}


def test_undefined_values_are_none_in_json():
    data = compute_metrics([(False, 0.2, False)]).to_dict()
    assert data["recall"]["value"] is None
    assert data["roc_auc"]["value"] is None
    assert "recall" in data["undefined"]


def test_non_finite_score_rejected():
    with pytest.raises(ValueError, match="not a finite number"):
        compute_metrics([(True, float("nan"), True)])


SWEEP_CASE = [
    Prediction(True, 0.9, True),
    Prediction(True, 0.8, True),
    Prediction(True, 0.6, True),
    Prediction(True, 0.3, False),
    Prediction(False, 0.7, True),
    Prediction(False, 0.2, False),
    Prediction(False, 0.1, False),
]


def test_sweep_counts_at_thresholds():
    points = threshold_sweep(SWEEP_CASE, [0.65, 0.0, 1.0])
    assert [p.threshold for p in points] == [0.0, 0.65, 1.0]
    assert points[0].confusion == ConfusionMatrix(tp=4, fp=3, tn=0, fn=0)
    assert points[1].confusion == ConfusionMatrix(tp=2, fp=1, tn=2, fn=2)
    assert points[2].confusion == ConfusionMatrix(tp=0, fp=0, tn=3, fn=4)


def test_sweep_score_equal_to_threshold_is_flagged():
    points = threshold_sweep(SWEEP_CASE, [0.6])
    assert points[0].confusion.tp == 3


def test_sweep_point_json_has_undefined_precision():
    data = threshold_sweep(SWEEP_CASE, [1.0])[0].to_dict()
    assert data["precision"] is None
    assert data["false_negative_rate"] == 1.0


def test_default_sweep_lists_few_distinct_scores():
    metrics = compute_metrics(SWEEP_CASE)
    assert [p.threshold for p in metrics.sweep] == [0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9]


def test_default_sweep_uses_grid_for_many_scores():
    rng = random.Random(3)
    many = [(rng.random() < 0.5, rng.random(), False) for _ in range(200)]
    metrics = compute_metrics(many)
    assert [p.threshold for p in metrics.sweep] == list(SWEEP_GRID)


@pytest.mark.parametrize(
    ("target", "threshold", "misses"),
    [(0.25, 0.6, 1), (0.0, 0.3, 0), (0.5, 0.8, 2), (1.0, 0.9, 3)],
)
def test_threshold_for_fnr(target, threshold, misses):
    choice = threshold_for_fnr(SWEEP_CASE, target)
    assert choice.threshold == threshold
    assert choice.point is not None
    assert choice.point.confusion.fn == misses
    assert choice.reason is None


def test_threshold_for_fnr_is_the_highest_meeting_target():
    choice = threshold_for_fnr(SWEEP_CASE, 0.25)
    assert choice.point is not None
    higher = [p for p in threshold_sweep(SWEEP_CASE, [0.7, 0.8, 0.9])]
    assert all(p.confusion.false_negative_rate().value > 0.25 for p in higher)


def test_threshold_for_fnr_exact_fraction_reached():
    # 1 miss of 20 positives is exactly 0.05 and must count as reaching it.
    predictions = [Prediction(True, 0.5 + i / 100, True) for i in range(20)]
    predictions.append(Prediction(False, 0.0, False))
    choice = threshold_for_fnr(predictions, 0.05)
    assert choice.point is not None
    assert choice.point.confusion.fn == 1


def test_threshold_for_fnr_without_positives():
    choice = threshold_for_fnr([(False, 0.3, False)], 0.05)
    assert choice.point is None
    assert choice.threshold is None
    assert "undefined" in (choice.reason or "")


def test_threshold_for_fnr_rejects_bad_target():
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        threshold_for_fnr(SWEEP_CASE, 1.5)


def test_estimate_format():
    kappa = compute_metrics(WORKED).kappa
    assert kappa.format() == "0.700 [0.561, 0.839]"
    assert compute_metrics([]).kappa.format() == "n/a"


def test_estimate_format_drops_negative_zero():
    assert Estimate(-1e-17, -1e-17, 0.0).format() == "0.000 [0.000, 0.000]"


def test_estimate_format_in_percent():
    assert Estimate(0.5, 0.25, 0.75).format(percent=True) == "50.0% [25.0, 75.0]"
