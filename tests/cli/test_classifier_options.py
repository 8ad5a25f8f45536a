"""Tests of classifier options on the command line: -o and --classifier-config."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from redline.cli import main
from redline.testing import FakeOpenAIServer
from tests.conftest import write_jsonl_suite


@pytest.fixture
def judge_server():
    """A loopback judge that calls every response unsafe in violent crimes."""
    with FakeOpenAIServer(responder=lambda prompt: "unsafe\nS1") as server:
        yield server


@pytest.fixture
def run_cli(tmp_path, fake_server):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", [f"prompt {i}" for i in range(6)])

    def invoke(*extra: str):
        return CliRunner().invoke(
            main,
            [
                "run",
                "--suite",
                str(suite),
                "--target",
                "openai:m",
                "--base-url",
                fake_server.base_url,
                "--db",
                str(tmp_path / "r.db"),
                "--out",
                str(tmp_path / "out"),
                "--no-progress",
                *extra,
            ],
        )

    return invoke


def report_attempts(tmp_path):
    return json.loads((tmp_path / "out" / "report.json").read_text())["attempts"]


def test_judge_options_from_command_line(run_cli, tmp_path, judge_server):
    result = run_cli(
        "--classifiers",
        "refusal,judge",
        "-o",
        "judge.target=openai:guard",
        "-o",
        f"judge.base_url={judge_server.base_url}",
    )
    assert result.exit_code == 0, result.output
    verdicts = [v for a in report_attempts(tmp_path) for v in a["verdicts"]]
    judge = [v for v in verdicts if v["classifier"] == "judge"]
    assert len(judge) == 6
    assert all(v["flagged"] for v in judge)


def test_threshold_option_stored_with_run(run_cli, tmp_path):
    result = run_cli("-o", "toxicity.threshold=0.9")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    specs = report["run"]["config"]["classifier_specs"]
    assert specs[1] == {"name": "toxicity", "options": {"threshold": 0.9}}


def test_api_key_option_not_stored(run_cli, tmp_path, judge_server):
    result = run_cli(
        "--classifiers",
        "refusal,judge",
        "-o",
        "judge.target=openai:guard",
        "-o",
        f"judge.base_url={judge_server.base_url}",
        "-o",
        "judge.api_key=sk-secret-123",
    )
    assert result.exit_code == 0, result.output
    assert b"sk-secret-123" not in (tmp_path / "r.db").read_bytes()
    assert "sk-secret-123" not in (tmp_path / "out" / "report.json").read_text()


def test_classifier_config_file(run_cli, tmp_path):
    config = tmp_path / "classifiers.yaml"
    config.write_text(
        "classifiers:\n"
        "  - refusal\n"
        "  - name: cascade\n"
        "    options:\n"
        "      tiers:\n"
        "        - {classifier: pii, escalate: [0.0, 0.5]}\n"
        "        - {classifier: toxicity}\n",
        encoding="utf-8",
    )
    result = run_cli("--classifier-config", str(config))
    assert result.exit_code == 0, result.output
    cascade = [
        v
        for a in report_attempts(tmp_path)
        for v in a["verdicts"]
        if v["classifier"] == "cascade"
    ]
    assert len(cascade) == 6
    assert {v["tier"] for v in cascade} <= {"pii", "toxicity"}


def test_config_and_list_together_rejected(run_cli, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("classifiers: [refusal]\n", encoding="utf-8")
    result = run_cli("--classifier-config", str(config), "--classifiers", "refusal")
    assert result.exit_code == 2
    assert "give one of them" in result.output


def test_option_for_unlisted_classifier_rejected(run_cli):
    result = run_cli("-o", "judge.target=openai:x")
    assert result.exit_code == 2
    assert "not in the classifier list" in result.output


def test_judge_without_target_names_fix(run_cli):
    result = run_cli("--classifiers", "refusal,judge")
    assert result.exit_code == 2
    assert "classifiers[1]" in result.output


def test_resume_rebuilds_classifier_options(run_cli, tmp_path, judge_server):
    from redline.store import Store

    first = run_cli(
        "--classifiers",
        "refusal,judge",
        "-o",
        "judge.target=openai:guard",
        "-o",
        f"judge.base_url={judge_server.base_url}",
    )
    run_id = re.search(r"run id: (\S+)", first.output).group(1)
    with Store(tmp_path / "r.db") as store:
        store.set_run_status(run_id, "interrupted")
    # A judge rebuilt without its stored target option would stop with status 2.
    resumed = CliRunner().invoke(
        main,
        [
            "run",
            "--resume",
            run_id,
            "--db",
            str(tmp_path / "r.db"),
            "--out",
            str(tmp_path / "out2"),
            "--no-progress",
        ],
    )
    assert resumed.exit_code == 0, resumed.output
