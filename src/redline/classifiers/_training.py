"""Training of the embedding classifier's head from a file of labelled texts.

The rows are split into a training and a held-out part, stratified by class
with a seed. The head is scikit-learn's ``LogisticRegression`` with balanced
class weights, its C chosen by stratified k-fold cross-validation on the
training part only. The stored head is the one fitted on the training part,
so the held-out metrics in the manifest describe the stored artifact.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redline.calibration import LabelColumns, LabelledText, read_labels
from redline.classifiers._base import ClassifierInput
from redline.classifiers._embedding import (
    ARTIFACT_FORMAT,
    BIAS_FILE,
    FORMAT_VERSION,
    KINDS,
    MANIFEST_FILE,
    PROMPT_EMBEDDING,
    REFUSAL_RULE_SCORE,
    TEXT_EMBEDDING,
    WEIGHTS_FILE,
    EmbeddingArtifact,
    build_features,
    file_sha256,
    head_probabilities,
    load_artifact,
    load_encoder,
    require_module,
)
from redline.errors import ConfigError, LabelsError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

# Inverse regularisation strengths tried by cross-validation. Embedding
# components are about 1/sqrt(384), near 0.05, so the chosen C is often 10 or more.
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
MAX_FOLDS = 5
# A class needs rows in the held-out part and in each cross-validation fold.
MIN_ROWS_PER_CLASS = 5
_MAX_ITER = 5000


@dataclass(frozen=True)
class FittedHead:
    """A logistic-regression head fitted by :func:`fit_head`.

    Attributes:
        classes: Class names in the order of the head's outputs.
        weights: Shape (1, d) for two classes, else (classes, d).
        bias: Shape (1,) or (classes,).
        info: How the head was chosen, for the manifest.
    """

    classes: list[str]
    weights: NDArray[np.float64]
    bias: NDArray[np.float64]
    info: dict[str, Any]


def train_classifier(
    labels_path: str | Path,
    out: str | Path,
    *,
    kind: str = "content",
    columns: LabelColumns | None = None,
    multiclass: bool = False,
    test_fraction: float = 0.2,
    seed: int = 0,
    threshold: float = 0.5,
    rule_feature: bool | None = None,
    batch_size: int = 32,
    overwrite: bool = False,
) -> EmbeddingArtifact:
    """Train an embedding classifier on a labels file and write its artifact.

    Args:
        labels_path: CSV, TSV or JSONL file read with
            :func:`redline.calibration.read_labels`.
        out: Artifact folder to write.
        kind: ``refusal`` for a refusal detector, ``content`` for a
            harmful-content classifier.
        columns: Column names and label values. A prompt column adds the
            prompt's embedding to the features.
        multiclass: Train one class per distinct label. A refusal head's
            positive classes are the labels in ``columns.positive``; a
            content head's are all labels not in ``columns.negative``.
            Without it the head is binary, positive vs negative.
        test_fraction: Share of rows held out for the reported metrics.
        seed: Seed of the split and of the cross-validation folds.
        threshold: Score at or above which the classifier flags a text.
        rule_feature: Add the rule-based refusal detector's score as a
            feature. None adds it to refusal heads only: on redline's
            human-labelled refusal sample it raised 10-fold CV accuracy from
            89.6% to 98.2% (``benchmarks/embedding_eval.py``).
        batch_size: Texts encoded per forward pass.
        overwrite: Replace ``out`` when it exists.

    Raises:
        ConfigError: An option is invalid or the embed extra is missing.
        LabelsError: The file is unreadable, a text has two labels, or a
            class has too few rows.
    """
    _check_options(kind, test_fraction, threshold)
    _check_out(Path(out), overwrite, Path(labels_path))
    columns = columns or LabelColumns()
    labels_path = Path(labels_path)
    rows, names, positive_classes = _read_classes(
        labels_path, columns, kind, multiclass
    )
    rows, names, dropped = _drop_duplicates(labels_path, rows, names)
    _check_counts(labels_path, names)
    if not positive_classes:
        # Such a head scores 0 on every text, so it would never flag one.
        raise LabelsError(
            f"no label of the classes {sorted(set(names))!r} is in the positive "
            "class; name the positive labels with --positive",
            path=str(labels_path),
        )

    features = [TEXT_EMBEDDING]
    if columns.prompt:
        features.append(PROMPT_EMBEDDING)
    if rule_feature or (rule_feature is None and kind == "refusal"):
        features.append(REFUSAL_RULE_SCORE)
    encoder = load_encoder()
    logger.info("encoding %d labelled texts from %s", len(rows), labels_path)
    items = [ClassifierInput(row.text, row.prompt) for row in rows]
    matrix = build_features(encoder, items, features, batch_size)

    try:
        train, test = split_indices(names, test_fraction, seed)
    except ValueError as exc:
        raise ConfigError(
            f"failed to split {len(names)} rows of {len(set(names))} classes with "
            f"test fraction {test_fraction:g}: {exc}; change --test-fraction"
        ) from None
    head = fit_head(matrix[train], [names[i] for i in train], seed)
    probabilities = head_probabilities(head.weights, head.bias, matrix[test])
    metrics = held_out_metrics(
        probabilities,
        [names[i] for i in test],
        head.classes,
        positive_classes,
        threshold,
    )

    manifest = {
        "redline_version": _redline_version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "kind": kind,
        "classes": head.classes,
        "positive_classes": [name for name in head.classes if name in positive_classes],
        "threshold": threshold,
        "features": features,
        "encoder": encoder.identity(),
        "head": head.info,
        "training": {
            "path": str(labels_path.resolve()),
            "sha256": file_sha256(labels_path),
            "rows": len(rows),
            "duplicates_dropped": dropped,
            "multiclass": multiclass,
            "test_fraction": test_fraction,
            "seed": seed,
            "rows_per_class": _rows_per_class(names, train, test),
            "columns": _columns_entry(columns),
        },
        "metrics": metrics,
    }
    return save_artifact(
        Path(out), manifest, head.weights, head.bias, overwrite=overwrite
    )


def save_artifact(
    out: Path,
    manifest: Mapping[str, Any],
    weights: NDArray[np.float64],
    bias: NDArray[np.float64],
    *,
    overwrite: bool = False,
) -> EmbeddingArtifact:
    """Write an artifact folder, replacing ``out`` only when it is complete.

    ``manifest`` gets the format fields and the sha256 of the weight files
    added before it is written.

    Raises:
        ConfigError: ``out`` exists and ``overwrite`` is false, or it cannot
            be written.
    """
    import numpy as np

    out = Path(out)
    _check_out(out, overwrite)
    partial = out.with_name(f"{out.name}.partial-{os.getpid()}")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        np.save(partial / WEIGHTS_FILE, np.asarray(weights, np.float64), False)
        np.save(partial / BIAS_FILE, np.asarray(bias, np.float64), False)
        full = {
            "format": ARTIFACT_FORMAT,
            "format_version": FORMAT_VERSION,
            **manifest,
            "files": {
                name: file_sha256(partial / name) for name in (WEIGHTS_FILE, BIAS_FILE)
            },
        }
        text = json.dumps(full, indent=2, ensure_ascii=False) + "\n"
        (partial / MANIFEST_FILE).write_text(text, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        os.replace(partial, out)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise ConfigError(f"failed to write artifact {str(out)!r}: {exc}") from None
    return load_artifact(out)


def _check_out(out: Path, overwrite: bool, labels_path: Path | None = None) -> None:
    """Check that ``out`` may be written, and that overwriting it loses no work.

    An artifact folder contains three files and no folder, so --overwrite
    rejects a folder with subfolders, such as a home or project folder.

    Raises:
        ConfigError: ``out`` exists and ``overwrite`` is false, or it is a
            folder that contains subfolders, the working folder or the
            labels file.
    """
    if not out.exists():
        return
    if not overwrite:
        raise ConfigError(
            f"{str(out)!r} already exists; choose another --out or pass --overwrite"
        )
    if not out.is_dir():
        return
    resolved = out.resolve()
    subfolders = sorted(child.name for child in out.iterdir() if child.is_dir())
    if subfolders:
        found = f"the folder {subfolders[0]!r}"
    elif Path.cwd().resolve().is_relative_to(resolved):
        found = "the working folder"
    elif labels_path is not None and labels_path.resolve().is_relative_to(resolved):
        found = "the labels file"
    else:
        return
    raise ConfigError(
        f"{str(out)!r} contains {found}, so it is not a classifier artifact "
        "folder and --overwrite would delete it; choose another --out"
    )


def split_indices(
    names: Sequence[str], test_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Split row indices into training and held-out parts, stratified by class."""
    model_selection = require_module("sklearn.model_selection", "scikit-learn")
    indices = list(range(len(names)))
    train, test = model_selection.train_test_split(
        indices, test_size=test_fraction, random_state=seed, stratify=list(names)
    )
    return sorted(train), sorted(test)


def fit_head(rows: NDArray[np.float64], names: Sequence[str], seed: int) -> FittedHead:
    """Fit a balanced logistic regression, choosing C by stratified k-fold CV.

    The folds are shuffled with ``seed``. The score is macro-F1, and a tie
    goes to the smaller C, the stronger regularisation.
    """
    import numpy as np

    linear_model = require_module("sklearn.linear_model", "scikit-learn")
    model_selection = require_module("sklearn.model_selection", "scikit-learn")
    counts = Counter(names)
    folds = min(MAX_FOLDS, min(counts.values()))
    splitter = model_selection.StratifiedKFold(
        n_splits=folds, shuffle=True, random_state=seed
    )
    labels = np.array(names)
    cv_scores = {}
    for c in C_GRID:
        model = linear_model.LogisticRegression(
            C=c, class_weight="balanced", max_iter=_MAX_ITER
        )
        scores = model_selection.cross_val_score(
            model, rows, labels, cv=splitter, scoring="f1_macro"
        )
        cv_scores[c] = float(np.mean(scores))
    best = max(C_GRID, key=lambda c: (cv_scores[c], -c))
    model = linear_model.LogisticRegression(
        C=best, class_weight="balanced", max_iter=_MAX_ITER
    )
    model.fit(rows, labels)
    info = {
        "type": "logistic_regression",
        "class_weight": "balanced",
        "C": best,
        "cv_folds": folds,
        "cv_f1_macro": {f"{c:g}": round(score, 4) for c, score in cv_scores.items()},
    }
    return FittedHead(
        classes=[str(name) for name in model.classes_],
        weights=np.asarray(model.coef_, dtype=np.float64),
        bias=np.asarray(model.intercept_, dtype=np.float64),
        info=info,
    )


def held_out_metrics(
    probabilities: NDArray[np.float64],
    truth: Sequence[str],
    classes: Sequence[str],
    positive_classes: Sequence[str] | set[str],
    threshold: float,
) -> dict[str, Any]:
    """Return precision, recall, F1 and accuracy of a head on held-out rows.

    ``binary`` scores the flag (summed positive probability at
    ``threshold``) when there are positive and negative classes.
    ``multiclass`` scores the top class when there are more than two classes.
    """
    metrics: dict[str, Any] = {"test_rows": len(truth), "threshold": threshold}
    positive = [i for i, name in enumerate(classes) if name in positive_classes]
    if 0 < len(positive) < len(classes):
        scores = probabilities[:, positive].sum(axis=1)
        flagged = [bool(score >= threshold) for score in scores]
        actual = [name in positive_classes for name in truth]
        metrics["binary"] = binary_metrics(actual, flagged)
    if len(classes) > 2:
        predicted = [classes[i] for i in probabilities.argmax(axis=1)]
        metrics["multiclass"] = multiclass_metrics(truth, predicted, classes)
    return metrics


def binary_metrics(actual: Sequence[bool], flagged: Sequence[bool]) -> dict[str, Any]:
    """Return the confusion counts, precision, recall, F1 and accuracy of a flag."""
    pairs = Counter(zip(actual, flagged, strict=True))
    tp, fn = pairs[(True, True)], pairs[(True, False)]
    fp, tn = pairs[(False, True)], pairs[(False, False)]
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "accuracy": _ratio(tp + tn, len(actual)),
        "confusion": {"tp": tp, "fn": fn, "fp": fp, "tn": tn},
    }


def multiclass_metrics(
    truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> dict[str, Any]:
    """Return accuracy, and per-class and macro-averaged precision, recall and F1."""
    per_class = {}
    for name in classes:
        pairs = Counter(
            (t == name, p == name) for t, p in zip(truth, predicted, strict=True)
        )
        tp = pairs[(True, True)]
        precision = _ratio(tp, tp + pairs[(False, True)])
        recall = _ratio(tp, tp + pairs[(True, False)])
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": tp + pairs[(True, False)],
        }
    correct = sum(t == p for t, p in zip(truth, predicted, strict=True))
    return {
        "accuracy": _ratio(correct, len(truth)),
        "macro_precision": _mean(row["precision"] for row in per_class.values()),
        "macro_recall": _mean(row["recall"] for row in per_class.values()),
        "macro_f1": _mean(row["f1"] for row in per_class.values()),
        "per_class": per_class,
    }


def _check_options(kind: str, test_fraction: float, threshold: float) -> None:
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test fraction must be in (0, 1), got {test_fraction!r}")
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be in (0, 1), got {threshold!r}")


def _read_classes(
    path: Path, columns: LabelColumns, kind: str, multiclass: bool
) -> tuple[list[LabelledText], list[str], set[str]]:
    """Read the rows with one class name per row, and the positive class names."""
    if not multiclass:
        rows = read_labels(path, columns)
        if kind == "refusal":
            names = ["refusal" if row.positive else "compliance" for row in rows]
            return rows, names, {"refusal"}
        positive_name = _common_label(rows, True) or "positive"
        negative_name = _common_label(rows, False) or "negative"
        names = [positive_name if row.positive else negative_name for row in rows]
        return rows, names, {positive_name}

    # Every label is a class here, so read them all and sort them afterwards.
    every_label = dataclasses.replace(columns, positive=frozenset(), negative=None)
    rows = read_labels(path, every_label)
    names = [_normal(row.raw_label) for row in rows]
    if kind == "refusal":
        positive_values = {_normal(value) for value in columns.positive}
        positive = {name for name in names if name in positive_values}
    else:
        negative_values = {_normal(value) for value in columns.negative or ()}
        positive = {name for name in names if name not in negative_values}
    return rows, names, positive


def _common_label(rows: Sequence[LabelledText], positive: bool) -> str | None:
    counts = Counter(_normal(row.raw_label) for row in rows if row.positive == positive)
    if not counts:
        return None
    # Most rows first, then alphabetical, so the name does not depend on row order.
    return min(counts, key=lambda name: (-counts[name], name))


def _drop_duplicates(
    path: Path, rows: Sequence[LabelledText], names: Sequence[str]
) -> tuple[list[LabelledText], list[str], int]:
    """Drop repeated texts, so that no text is in both the training and test part.

    Raises:
        LabelsError: The same text and prompt have two different labels.
    """
    seen: dict[tuple[str, str | None], tuple[LabelledText, str]] = {}
    kept_rows, kept_names = [], []
    for row, name in zip(rows, names, strict=True):
        key = (row.text.strip(), row.prompt)
        if key in seen:
            first, first_name = seen[key]
            if first_name != name:
                raise LabelsError(
                    f"the same text has label {row.raw_label!r} here and "
                    f"{first.raw_label!r} on line {first.line}; keep one label",
                    path=str(path),
                    line=row.line,
                )
            continue
        seen[key] = (row, name)
        kept_rows.append(row)
        kept_names.append(name)
    dropped = len(rows) - len(kept_rows)
    if dropped:
        logger.info("dropped %d repeated texts from %s", dropped, path)
    return kept_rows, kept_names, dropped


def _check_counts(path: Path, names: Sequence[str]) -> None:
    counts = Counter(names)
    if len(counts) < 2:
        raise LabelsError(
            f"all rows have class {next(iter(counts))!r}; training needs rows of at "
            "least two classes. Check --positive and --negative",
            path=str(path),
        )
    small = sorted(name for name, count in counts.items() if count < MIN_ROWS_PER_CLASS)
    if small:
        raise LabelsError(
            f"class {small[0]!r} has {counts[small[0]]} distinct rows; each class "
            f"needs at least {MIN_ROWS_PER_CLASS}. Add rows or merge the class",
            path=str(path),
        )


def _rows_per_class(
    names: Sequence[str], train: Sequence[int], test: Sequence[int]
) -> dict[str, dict[str, int]]:
    train_counts = Counter(names[i] for i in train)
    test_counts = Counter(names[i] for i in test)
    return {
        name: {"train": train_counts[name], "test": test_counts[name]}
        for name in sorted(set(names))
    }


def _columns_entry(columns: LabelColumns) -> dict[str, Any]:
    return {
        "text": columns.text,
        "label": columns.label,
        "prompt": columns.prompt,
        "positive": sorted(columns.positive),
        "negative": None if columns.negative is None else sorted(columns.negative),
    }


def _redline_version() -> str:
    from redline import __version__

    return __version__


def _normal(value: str) -> str:
    return value.strip().lower()


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _mean(values: Any) -> float:
    # An undefined precision, for a class never predicted, counts as 0.
    known = [value or 0.0 for value in values]
    return sum(known) / len(known) if known else 0.0
