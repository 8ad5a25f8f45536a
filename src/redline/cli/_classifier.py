"""``redline classifier train`` and ``info``: embedding classifier artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from redline.calibration import DEFAULT_NEGATIVE, DEFAULT_POSITIVE, LabelColumns
from redline.cli._main import main
from redline.errors import ConfigError
from redline.report._table import wide_console


@main.group("classifier")
def classifier_group() -> None:
    """Train and inspect embedding classifiers (needs the embed extra)."""


@classifier_group.command("train")
@click.argument("labels", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Artifact folder to write.",
)
@click.option(
    "--kind",
    type=click.Choice(["refusal", "content"]),
    default="content",
    show_default=True,
    help="refusal: the positive class is a refusal; content: harmful content.",
)
@click.option(
    "--text-column", default="text", show_default=True, help="Column with the text."
)
@click.option(
    "--label-column", default="label", show_default=True, help="Column with the label."
)
@click.option(
    "--prompt-column",
    help="Column with the request; its embedding is added to the features.",
)
@click.option(
    "--positive",
    metavar="V,...",
    help="Comma-separated label values of the positive class. Default: common "
    "values such as 1, true, unsafe, toxic, refusal.",
)
@click.option(
    "--negative",
    metavar="V,...",
    help="Comma-separated label values of the negative class. Default: common "
    "values such as 0, false, safe, neutral, compliance.",
)
@click.option(
    "--multiclass",
    is_flag=True,
    help="One class per distinct label. A refusal head's positive classes are "
    "the --positive values; a content head's are all labels not in --negative.",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of rows held out for the reported metrics.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the split and CV folds.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.5,
    show_default=True,
    help="Score at or above which the classifier flags a text.",
)
@click.option(
    "--rule-feature/--no-rule-feature",
    default=None,
    help="Add the rule-based refusal detector's score to the features. "
    "Default: on for --kind refusal, off for --kind content.",
)
@click.option("--overwrite", is_flag=True, help="Replace --out when it exists.")
def train_command(labels: Path, **options: Any) -> None:
    """Train a classifier head on MiniLM embeddings of a labelled CSV/JSONL file.

    Holds out part of the rows, prints precision, recall, F1 and accuracy on
    them, and writes an artifact folder for the 'embedding' classifier. Use a
    content head in a run with --classifiers refusal,embedding and a refusal
    head with --classifiers embedding,toxicity, adding -o embedding.model=PATH.
    """
    from redline.classifiers import train_classifier

    artifact = train_classifier(
        labels,
        options["out"],
        kind=options["kind"],
        columns=_columns(options),
        multiclass=options["multiclass"],
        test_fraction=options["test_fraction"],
        seed=options["seed"],
        threshold=options["threshold"],
        rule_feature=options["rule_feature"],
        overwrite=options["overwrite"],
    )
    manifest = artifact.manifest
    rows = manifest["training"]["rows_per_class"]
    counts = ", ".join(
        f"{name} {row['train']}+{row['test']}" for name, row in rows.items()
    )
    click.echo(f"wrote {artifact.path} (sha256 {artifact.sha256[:12]})")
    click.echo(f"rows per class, training+held-out: {counts}")
    click.echo(
        f"C = {manifest['head']['C']:g}, chosen by {manifest['head']['cv_folds']}-fold CV"
    )
    _print_metrics(manifest["metrics"])


@classifier_group.command("info")
@click.argument("path", type=click.Path(path_type=Path))
def info_command(path: Path) -> None:
    """Validate an artifact folder and print its manifest as JSON."""
    from redline.classifiers._embedding import load_artifact

    artifact = load_artifact(path)
    click.echo(json.dumps({"sha256": artifact.sha256, **artifact.manifest}, indent=2))


def _columns(options: dict[str, Any]) -> LabelColumns:
    if options["multiclass"] and options["positive"] and options["kind"] == "content":
        raise ConfigError(
            "--positive has no effect on a multi-class content head, whose "
            "positive classes are all labels not in --negative; drop --positive"
        )
    positive = _values(options["positive"], "--positive") or DEFAULT_POSITIVE
    negative: frozenset[str] | None = (
        _values(options["negative"], "--negative") or DEFAULT_NEGATIVE
    )
    if options["positive"] and not options["negative"]:
        # Explicit positives with the default negatives would reject the file's
        # other values, so every value that is not positive counts as negative.
        negative = None
    return LabelColumns(
        text=options["text_column"],
        label=options["label_column"],
        prompt=options["prompt_column"],
        positive=positive,
        negative=negative,
    )


def _values(text: str | None, option: str) -> frozenset[str] | None:
    if text is None:
        return None
    values = frozenset(value.strip() for value in text.split(",") if value.strip())
    if not values:
        raise ConfigError(f"{option} {text!r} has no values; give V1,V2,...")
    return values


def _print_metrics(metrics: dict[str, Any]) -> None:
    click.echo(
        f"held-out metrics on {metrics['test_rows']} rows "
        f"(threshold {metrics['threshold']:g}):"
    )
    table = Table()
    for column in ("decision", "precision", "recall", "F1", "accuracy"):
        table.add_column(column)
    binary = metrics.get("binary")
    if binary:
        table.add_row(
            "flagged",
            *(_cell(binary[key]) for key in ("precision", "recall", "f1", "accuracy")),
        )
    multiclass = metrics.get("multiclass")
    if multiclass:
        table.add_row(
            "top class, macro",
            *(
                _cell(multiclass[key])
                for key in ("macro_precision", "macro_recall", "macro_f1", "accuracy")
            ),
        )
        for name, row in multiclass["per_class"].items():
            table.add_row(
                escape(f"  {name} ({row['support']})"),
                *(_cell(row[key]) for key in ("precision", "recall", "f1")),
                "",
            )
    wide_console().print(table)
    if binary:
        confusion = binary["confusion"]
        click.echo(
            "confusion: "
            + ", ".join(f"{key} {value}" for key, value in confusion.items())
        )


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
