"""``redline calibrate`` and ``redline calibrations``: measure classifiers against labels."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
import yaml
from rich.console import Group
from rich.markup import escape
from rich.table import Table

from redline.calibration import (
    DEFAULT_NEGATIVE,
    DEFAULT_POSITIVE,
    CalibrationResult,
    CalibrationSummary,
    Estimate,
    LabelColumns,
    acalibrate,
    read_labels,
)
from redline.calibration._calibrate import DEFAULT_BATCH_SIZE, DEFAULT_TARGET_FNR
from redline.calibration._metrics import SweepPoint
from redline.classifiers import Classifier, create_classifier
from redline.cli._main import main
from redline.cli._options import DB_OPTION
from redline.errors import ConfigError
from redline.report._table import wide_console
from redline.store import Store

# --negative value that makes every label outside --positive negative.
ANY_OTHER = "*"


@main.command("calibrate")
@click.argument("classifier")
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Labels file: .csv, .tsv or .jsonl with one labelled text per row.",
)
@click.option(
    "--text-column", default="text", show_default=True, help="Column with the text."
)
@click.option(
    "--label-column",
    default="label",
    show_default=True,
    help="Column with the human label.",
)
@click.option(
    "--prompt-column",
    help="Column with the request the text answers. Without it, no prompt is passed.",
)
@click.option(
    "--positive",
    metavar="V,...",
    help="Comma-separated label values of the positive class, the one the "
    "classifier flags. Default: "
    f"{', '.join(sorted(DEFAULT_POSITIVE))}.",
)
@click.option(
    "--negative",
    metavar="V,...",
    help="Comma-separated label values of the negative class. '*' makes every "
    "value outside --positive negative. Default: the values below, less "
    "those given in --positive: "
    f"{', '.join(sorted(DEFAULT_NEGATIVE))}.",
)
@click.option(
    "--option",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option of the classifier, such as threshold=0.7. Repeatable. Values "
    "are read as YAML, so 0.7 is a number and true a boolean.",
)
@click.option(
    "--target-fnr",
    type=click.FloatRange(0, 1),
    default=DEFAULT_TARGET_FNR,
    show_default=True,
    help="False-negative rate, as a fraction, to find the highest score threshold for.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Texts per call to the classifier.",
)
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def calibrate_command(
    classifier: str,
    labels_path: Path,
    text_column: str,
    label_column: str,
    prompt_column: str | None,
    positive: str | None,
    negative: str | None,
    assignments: tuple[str, ...],
    target_fnr: float,
    batch_size: int,
    db: Path,
    as_json: bool,
) -> None:
    """Measure CLASSIFIER against human labels and store the result in --db.

    The positive class is the one the classifier flags (a refusal for the
    refusal detector, harmful content for content classifiers). Prints the
    confusion matrix, precision, recall, F1, accuracy and the false-negative
    and false-positive rates with 95% Wilson intervals, Cohen's kappa,
    ROC-AUC, average precision, a threshold sweep over the scores, and the
    highest threshold that reaches --target-fnr. Texts whose verdict has an
    error are counted as unassessed and left out of every figure. Run
    reports then show the latest calibration of each classifier.
    """
    columns = _label_columns(
        text_column, label_column, prompt_column, positive, negative
    )
    # Check the file and the classifier before the database is created.
    read_labels(labels_path, columns)
    built = _build_classifier(classifier, _parse_options(assignments))
    result = asyncio.run(
        acalibrate(
            built,
            labels_path,
            columns=columns,
            target_fnr=target_fnr,
            batch_size=batch_size,
        )
    )
    if result.assessed == 0:
        # Stored, it would replace an earlier calibration in run reports.
        if not as_json:
            wide_console().print(calibration_renderable(result))
        raise ConfigError(
            f"no text of {result.labels_path} could be assessed "
            f"({result.unassessed} verdict errors), so nothing was stored; "
            "fix the classifier's errors listed above and run it again"
        )
    with Store(db) as store:
        calibration_id = store.add_calibration(result.to_record())
    if as_json:
        click.echo(json.dumps({"id": calibration_id, **result.to_dict()}, indent=2))
        return
    console = wide_console()
    console.print(calibration_renderable(result))
    console.print(f"stored as calibration {calibration_id} in {escape(str(db))}")


@main.command("calibrations")
@DB_OPTION
@click.option("--classifier", help="List only calibrations of this classifier name.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def calibrations_command(db: Path, classifier: str | None, as_json: bool) -> None:
    """List stored calibrations, newest first."""
    with Store(db, create=False) as store:
        records = store.list_calibrations(classifier)
    summaries = [CalibrationSummary.from_record(record) for record in records]
    if as_json:
        click.echo(json.dumps([summary.to_dict() for summary in summaries], indent=2))
        return
    if not summaries:
        scope = f" of classifier {classifier!r}" if classifier else ""
        click.echo(f"no calibrations{scope} stored in {db}")
        return
    table = Table(
        title="stored calibrations (rates in percent with 95% Wilson intervals; "
        "--json has every figure)"
    )
    for column in ("id", "date", "classifier"):
        table.add_column(column, no_wrap=True)
    table.add_column("labels", overflow="fold")
    for column in ("n", "FNR", "FPR", "kappa"):
        table.add_column(column, no_wrap=True)
    for summary in summaries:
        table.add_row(
            str(summary.id),
            dt.datetime.fromtimestamp(summary.created_at).strftime("%Y-%m-%d"),
            escape(f"{summary.classifier['name']} {summary.classifier['version']}"),
            escape(summary.labels_path),
            str(summary.n),
            summary.false_negative_rate.format_compact(),
            summary.false_positive_rate.format_compact(),
            _kappa_value(summary.kappa),
        )
    wide_console().print(table)


def calibration_renderable(result: CalibrationResult) -> Group:
    """Return the tables that ``redline calibrate`` prints."""
    metrics = result.metrics
    identity = result.classifier
    head = Table(
        title=escape(
            f"calibration of {identity['name']} {identity['version']} "
            f"on {result.labels_path}"
        ),
        show_header=False,
    )
    head.add_column("metric")
    head.add_column("value (95% interval)")
    head.add_row("labelled texts", str(result.rows))
    head.add_row("assessed", str(result.assessed))
    head.add_row("unassessed (verdict errors)", _unassessed(result))
    for name, rate in (
        ("precision", metrics.precision),
        ("recall", metrics.recall),
        ("accuracy", metrics.accuracy),
        ("false-negative rate", metrics.false_negative_rate),
        ("false-positive rate", metrics.false_positive_rate),
    ):
        head.add_row(name, rate.format())
    head.add_row("F1", metrics.f1.format(percent=True))
    kappa = metrics.kappa
    kappa_text = kappa.format()
    if kappa.standard_error is not None:
        kappa_text += f", SE {kappa.standard_error:.3f}"
    head.add_row("Cohen's kappa", kappa_text)
    head.add_row("ROC-AUC", metrics.roc_auc.format())
    head.add_row("average precision (PR-AUC)", metrics.average_precision.format())
    head.add_row(
        f"threshold for FNR <= {result.threshold.target_fnr:g}",
        escape(_threshold_text(result)),
    )
    for name, reason in metrics.undefined.items():
        head.add_row(f"{name} undefined", escape(reason))

    confusion = metrics.confusion
    matrix = Table(title="confusion matrix (positive = flagged class)")
    matrix.add_column("label \\ decision")
    matrix.add_column("flagged", justify="right")
    matrix.add_column("not flagged", justify="right")
    matrix.add_row("positive", f"TP {confusion.tp}", f"FN {confusion.fn}")
    matrix.add_row("negative", f"FP {confusion.fp}", f"TN {confusion.tn}")
    return Group(head, matrix, _sweep_table(metrics.sweep))


def _sweep_table(points: list[SweepPoint]) -> Table:
    table = Table(title="threshold sweep: score >= threshold counts as flagged")
    for column in ("threshold", "TP", "FP", "TN", "FN", "precision", "recall"):
        table.add_column(column, justify="right")
    table.add_column("FNR", justify="right")
    table.add_column("FPR", justify="right")
    for point in points:
        confusion = point.confusion
        table.add_row(
            f"{point.threshold:.3g}",
            str(confusion.tp),
            str(confusion.fp),
            str(confusion.tn),
            str(confusion.fn),
            _percent(confusion.precision().value),
            _percent(confusion.recall().value),
            _percent(confusion.false_negative_rate().value),
            _percent(confusion.false_positive_rate().value),
        )
    return table


def _threshold_text(result: CalibrationResult) -> str:
    choice = result.threshold
    if choice.point is None:
        return f"none: {choice.reason}"
    confusion = choice.point.confusion
    return (
        f"{choice.point.threshold:.4g} (FNR "
        f"{confusion.false_negative_rate().format()}, FPR "
        f"{confusion.false_positive_rate().format()})"
    )


def _unassessed(result: CalibrationResult) -> str:
    if not result.unassessed:
        return "0"
    reasons = ", ".join(f"{k}: {v}" for k, v in result.unassessed_reasons.items())
    return escape(f"{result.unassessed} ({reasons})")


def _label_columns(
    text: str,
    label: str,
    prompt: str | None,
    positive: str | None,
    negative: str | None,
) -> LabelColumns:
    positive_values = DEFAULT_POSITIVE if positive is None else _values(positive)
    negative_values: frozenset[str] | None
    if negative is None:
        # Values moved to the positive class with --positive leave the default.
        positive_normal = {value.strip().lower() for value in positive_values}
        negative_values = DEFAULT_NEGATIVE - positive_normal
    elif negative.strip() == ANY_OTHER:
        negative_values = None
    else:
        negative_values = _values(negative)
    if positive is not None and not positive_values:
        raise ConfigError("--positive lists no label values; give at least one")
    return LabelColumns(
        text=text,
        label=label,
        prompt=prompt,
        positive=positive_values,
        negative=negative_values,
    )


def _values(text: str) -> frozenset[str]:
    return frozenset(value.strip() for value in text.split(",") if value.strip())


def _parse_options(assignments: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for assignment in assignments:
        key, equals, raw = assignment.partition("=")
        if not equals or not key.strip():
            raise ConfigError(
                f"invalid --option {assignment!r}; use KEY=VALUE, such as threshold=0.7"
            )
        try:
            options[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            options[key.strip()] = raw  # not valid YAML, such as 'a: b: c'
    return options


def _build_classifier(name: str, options: dict[str, Any]) -> Classifier:
    try:
        return create_classifier(name, **options)
    except TypeError as exc:
        raise ConfigError(
            f"invalid options {sorted(options)!r} for classifier {name!r}: {exc}; "
            "see the classifier's documentation for its options"
        ) from None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _kappa_value(kappa: Estimate) -> str:
    return "n/a" if kappa.value is None else f"{kappa.value:.3f}"
