"""Tests of ``redline run`` defaults taken from the project config redline.yaml."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from redline.cli import main
from redline.testing import FakeOpenAIServer
from tests.conftest import write_jsonl_suite


@pytest.fixture
def project(tmp_path, fake_server, monkeypatch):
    """A working folder with a suite file, run from inside it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REDLINE_CONFIG", raising=False)
    write_jsonl_suite(tmp_path / "golden.jsonl", [f"prompt {i}" for i in range(4)])
    return tmp_path


def write_config(folder, text: str, name: str = "redline.yaml"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*extra: str):
    return CliRunner().invoke(
        main, ["run", "--no-progress", "--db", "r.db", "--out", "out", *extra]
    )


def stored_run(folder):
    return json.loads((folder / "out" / "report.json").read_text())["run"]


def test_single_target_and_suite_used(project, fake_server):
    write_config(
        project,
        "targets:\n"
        f"  staging: {{spec: 'openai:m', base_url: '{fake_server.base_url}'}}\n"
        "suites: [golden.jsonl]\n",
    )
    result = run()
    assert result.exit_code == 0, result.output
    stored = stored_run(project)
    assert stored["suite"]["name"] == "golden"
    assert stored["target"]["model"] == "m"


def test_target_chosen_by_name(project, fake_server):
    with FakeOpenAIServer() as other:
        write_config(
            project,
            "targets:\n"
            f"  prod: {{spec: 'openai:prod-model', base_url: '{other.base_url}'}}\n"
            f"  staging: {{spec: 'openai:m', base_url: '{fake_server.base_url}'}}\n"
            "suites: [golden.jsonl]\n",
        )
        result = run("--target", "prod")
        requests = other.requests_total
    assert result.exit_code == 0, result.output
    assert requests == 4
    assert stored_run(project)["target"]["model"] == "prod-model"


def test_several_targets_need_choice(project, fake_server):
    write_config(
        project,
        "targets:\n"
        f"  prod: {{spec: 'openai:a', base_url: '{fake_server.base_url}'}}\n"
        f"  staging: {{spec: 'openai:b', base_url: '{fake_server.base_url}'}}\n",
    )
    result = run("--suite", "golden.jsonl")
    assert result.exit_code == 2
    assert "lists 2 targets (prod, staging); choose one with --target NAME" in (
        result.output
    )


def test_several_suites_need_choice(project, fake_server):
    write_config(project, "suites: [golden.jsonl, smoke]\n")
    result = run("--target", "openai:m", "--base-url", fake_server.base_url)
    assert result.exit_code == 2
    assert "choose one with --suite" in result.output


def test_command_line_wins(project, fake_server):
    write_config(project, "suites: [smoke]\nclassifiers: [refusal, pii]\n")
    result = run(
        "--suite",
        "golden.jsonl",
        "--target",
        "openai:m",
        "--base-url",
        fake_server.base_url,
        "--classifiers",
        "refusal,toxicity",
    )
    assert result.exit_code == 0, result.output
    stored = stored_run(project)
    assert stored["suite"]["name"] == "golden"
    assert [c["name"] for c in stored["classifiers"]] == ["refusal", "toxicity"]


def test_classifiers_with_options_from_config(project, fake_server):
    write_config(
        project,
        "suites: [golden.jsonl]\n"
        "classifiers:\n  - refusal\n  - {name: toxicity, options: {threshold: 0.9}}\n",
    )
    result = run("--target", "openai:m", "--base-url", fake_server.base_url)
    assert result.exit_code == 0, result.output
    toxicity = stored_run(project)["classifiers"][1]
    assert toxicity["version"].endswith("@0.9")


def test_strategies_from_config(project, fake_server):
    write_config(project, "suites: [golden.jsonl]\nstrategies: [rot13]\n")
    result = run("--target", "openai:m", "--base-url", fake_server.base_url)
    assert result.exit_code == 0, result.output
    assert fake_server.requests_total == 8


def test_explicit_config_missing_named(project):
    result = run("--config", "nope.yaml")
    assert result.exit_code == 2
    assert "no config file at 'nope.yaml'" in result.output


def test_invalid_config_names_key(project):
    write_config(project, "suites: golden.jsonl\nsuite: [x]\n")
    result = run()
    assert result.exit_code == 2
    assert "redline.yaml" in result.output
    assert "'suite'" in result.output


def test_config_from_environment(project, fake_server, monkeypatch):
    path = write_config(
        project,
        f"targets:\n  t: {{spec: 'openai:env-model', base_url: '{fake_server.base_url}'}}\n"
        "suites: [golden.jsonl]\n",
        name="other.yaml",
    )
    monkeypatch.setenv("REDLINE_CONFIG", str(path))
    result = run()
    assert result.exit_code == 0, result.output
    assert stored_run(project)["target"]["model"] == "env-model"


def test_config_with_resume_rejected(project):
    write_config(project, "suites: [golden.jsonl]\n")
    result = run("--resume", "x", "--config", "redline.yaml")
    assert result.exit_code == 2
    assert "--config" in result.output


def test_resume_ignores_environment_config(project, fake_server, monkeypatch):
    path = write_config(
        project,
        f"targets:\n  t: {{spec: 'openai:m', base_url: '{fake_server.base_url}'}}\n"
        "suites: [golden.jsonl]\n",
    )
    first = run()
    run_id = first.output.split("run id: ")[1].split()[0]
    monkeypatch.setenv("REDLINE_CONFIG", str(path))
    resumed = run("--resume", run_id)
    assert resumed.exit_code == 0, resumed.output
