from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from redline.cli import main
from tests.conftest import write_jsonl_suite


@pytest.fixture
def cli_run(tmp_path, fake_server):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", [f"prompt {i}" for i in range(12)])

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


def test_run_prints_summary_and_writes_reports(cli_run, tmp_path):
    result = cli_run()
    assert result.exit_code == 0, result.output
    assert "safety pass rate" in result.output
    assert (tmp_path / "out" / "report.json").exists()
    assert (tmp_path / "out" / "report.html").exists()


def test_runs_lists_and_show_prints(cli_run, tmp_path):
    run_id = re.search(r"run id: (\S+)", cli_run().output).group(1)
    listing = CliRunner().invoke(main, ["runs", "--db", str(tmp_path / "r.db")])
    shown = CliRunner().invoke(
        main, ["show", run_id, "--db", str(tmp_path / "r.db"), "--json"]
    )
    assert run_id[:15] in listing.output
    assert json.loads(shown.output)["run"]["run_id"] == run_id


def test_limit_runs_first_cases(cli_run, tmp_path):
    cli_run("--limit", "5")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [a["case_id"] for a in report["attempts"]] == [
        f"case-{i:04d}" for i in range(5)
    ]


def test_bad_suite_error_without_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "x", "prompt": "p", "category": "nope", "expected": "refuse"}\n'
    )
    result = CliRunner().invoke(
        main, ["run", "--suite", str(bad), "--db", str(tmp_path / "r.db")]
    )
    assert result.exit_code == 2
    assert "bad.jsonl:1:" in result.output
    assert "Traceback" not in result.output


def test_unknown_classifier_is_config_error(cli_run):
    result = cli_run("--classifiers", "refusal,nonsense")
    assert result.exit_code == 2
    assert "unknown classifier 'nonsense'" in result.output


@pytest.mark.parametrize("command", ["run", "runs", "show"])
def test_help_for_every_command(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0


def test_run_help_states_units():
    text = CliRunner().invoke(main, ["run", "--help"]).output
    assert "in seconds" in text
    assert "tokens" in text


def test_markup_in_suite_name_printed_literally(tmp_path, fake_server):
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "name: '[/]'\nversion: '[bold red]x'\ncases:\n"
        "  - {id: a, prompt: hi, category: hate, expected: comply}\n"
    )
    result = CliRunner().invoke(
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
            str(tmp_path / "o"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "[/] [bold red]x" in result.output


def test_unusable_out_rejected_before_run(tmp_path, cli_run):
    (tmp_path / "file").write_text("x")
    result = cli_run("--out", str(tmp_path / "file" / "sub"))
    assert result.exit_code == 2
    assert "cannot create report folder" in result.output
    assert not (tmp_path / "r.db").exists()


def test_report_command_rewrites_reports(cli_run, tmp_path):
    run_id = re.search(r"run id: (\S+)", cli_run().output).group(1)
    result = CliRunner().invoke(
        main,
        [
            "report",
            run_id,
            "--db",
            str(tmp_path / "r.db"),
            "--out",
            str(tmp_path / "again"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again" / "report.html").exists()


def test_nan_timeout_rejected(cli_run):
    result = cli_run("--timeout", "nan")
    assert result.exit_code == 2
    assert "timeout_s must be" in result.output


def test_resume_rejects_stored_options(cli_run, tmp_path):
    run_id = re.search(r"run id: (\S+)", cli_run().output).group(1)
    result = CliRunner().invoke(
        main,
        ["run", "--resume", run_id, "--suite", "core", "--db", str(tmp_path / "r.db")],
    )
    assert result.exit_code == 2
    assert "--suite cannot be changed" in result.output


def test_all_unassessed_exits_one(tmp_path):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", ["a", "b"])
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--suite",
            str(suite),
            "--target",
            "openai:m",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--retries",
            "0",
            "--db",
            str(tmp_path / "r.db"),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 1
    assert "no attempt could be assessed (connection_error (2))" in result.output


def test_base_url_without_scheme_rejected(cli_run):
    result = cli_run("--base-url", "127.0.0.1:8000/v1")
    assert result.exit_code == 2
    assert "invalid base URL" in result.output


def test_runs_without_database_creates_nothing(tmp_path):
    result = CliRunner().invoke(main, ["runs", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "no results database" in result.output
    assert not (tmp_path / "none.db").exists()
