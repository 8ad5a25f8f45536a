"""Tests of the ``redline strategies`` command."""

from __future__ import annotations

import json

from click.testing import CliRunner

from redline.attacks import strategy_class, strategy_names
from redline.cli import main


def test_lists_every_strategy():
    result = CliRunner().invoke(main, ["strategies"])
    assert result.exit_code == 0
    for name in strategy_names():
        assert name in result.output


def test_json_rows_complete():
    result = CliRunner().invoke(main, ["strategies", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [row["name"] for row in rows] == strategy_names()
    for row in rows:
        cls = strategy_class(row["name"])
        assert row["family"] == cls.family
        assert row["description"] == cls.description


def test_json_marks_required_parameters():
    rows = {
        row["name"]: row
        for row in json.loads(CliRunner().invoke(main, ["strategies", "--json"]).output)
    }
    assert rows["template"]["parameters"]["path"] == {"required": True}
    assert rows["many_shot"]["parameters"]["shots"] == {"required": False, "default": 8}
