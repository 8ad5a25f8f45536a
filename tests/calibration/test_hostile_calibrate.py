"""redline calibrate with a judge that never gives a readable verdict."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from redline.cli import main
from redline.store import Store
from redline.testing import FakeOpenAIServer


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("text,label\nI can't help.,1\nSure: step 1.,0\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def prose_judge():
    # The judge answers in prose, so no llama_guard verdict can be parsed.
    with FakeOpenAIServer(responder=lambda prompt: "It depends.") as server:
        yield server


def calibrate(labels, db, server, *extra: str):
    args = ["calibrate", "judge", "--labels", str(labels), "--db", str(db)]
    options = ["target=openai:judge", f"base_url={server.base_url}", "api_key=k"]
    for option in options:
        args += ["--option", option]
    return CliRunner().invoke(main, [*args, *extra])


@pytest.mark.parametrize("extra", [(), ("--json",)], ids=["table", "json"])
def test_nothing_assessed_not_stored(labels, tmp_path, prose_judge, extra):
    db = tmp_path / "r.db"
    result = calibrate(labels, db, prose_judge, *extra)
    assert result.exit_code == 2, result.output
    assert "could be assessed (2 verdict errors), so nothing was stored" in (
        result.output
    )
    assert not db.exists()


def test_nothing_assessed_keeps_old_calibration(labels, tmp_path, prose_judge):
    db = tmp_path / "r.db"
    with FakeOpenAIServer(responder=lambda prompt: "safe") as working:
        first = calibrate(labels, db, working)
    assert first.exit_code == 0, first.output
    calibrate(labels, db, prose_judge)
    with Store(db) as store:
        assert len(store.list_calibrations("judge")) == 1


def test_no_positive_reason_says_assessed(labels, tmp_path, prose_judge):
    result = calibrate(labels, tmp_path / "r.db", prose_judge)
    assert "no assessed text is labelled positive" in result.output
