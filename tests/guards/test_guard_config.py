"""Guard config files: parsing, validation messages and fingerprints."""

from __future__ import annotations

import logging

import pytest

from redline.errors import ConfigError
from redline.guards import (
    DEFAULT_SAFE_REPLY,
    GuardConfig,
    GuardFilter,
    load_guard_config,
)

VALID = """\
name: strict
input:
  - classifier: pii
    action: redact
  - classifier: toxicity
    threshold: 0.8
    action: block
output:
  - classifier: toxicity
    options: {threshold: 0.6}
    action: flag
on_error: allow
"""


def write(tmp_path, text: str):
    path = tmp_path / "guard.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_valid_config(tmp_path):
    config = load_guard_config(write(tmp_path, VALID))
    assert config.name == "strict"
    assert [f.action for f in config.input_filters] == ["redact", "block"]
    assert config.input_filters[1].threshold == 0.8
    assert config.output_filters[0] == GuardFilter(
        "toxicity", options={"threshold": 0.6}, action="flag"
    )
    assert config.safe_reply == DEFAULT_SAFE_REPLY
    assert config.on_error == "allow"
    assert config.path == tmp_path / "guard.yaml"


def test_action_defaults_to_block(tmp_path):
    config = load_guard_config(write(tmp_path, "input: [{classifier: toxicity}]\n"))
    assert config.input_filters[0].action == "block"


def test_fingerprint_follows_content(tmp_path):
    first = load_guard_config(write(tmp_path, VALID)).fingerprint
    same = load_guard_config(write(tmp_path, VALID)).fingerprint
    changed = load_guard_config(write(tmp_path, VALID.replace("0.8", "0.7")))
    assert first == same
    assert changed.fingerprint != first


def test_fingerprint_ignores_api_key():
    def config(options):
        return GuardConfig(output_filters=(GuardFilter("judge", options=options),))

    plain = config({"target": "openai:m"})
    with_key = config({"target": "openai:m", "api_key": "sk-secret"})
    assert with_key.fingerprint == plain.fingerprint
    assert "sk-secret" not in str(with_key.to_record())


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "input: [{classifier: toxicity, action: blok}]\n",
            ["input[0].action", "'blok'", "block, redact, flag"],
        ),
        (
            "input: [{classifier: pii}]\noutput:\n  - {classifier: pii}\n"
            "  - {classifier: toxicity, action: nope}\n",
            ["output[1].action", "'nope'"],
        ),
        (
            "input: [{classifier: toxic}]\n",
            ["input[0].classifier", "'toxic'", "toxicity"],
        ),
        (
            "input: [{classifier: toxicity, threshold: 1.5}]\n",
            ["input[0].threshold", "1.5", "[0, 1]"],
        ),
        (
            "input: [{classifier: toxicity, threshold: -0.1}]\n",
            ["input[0].threshold", "-0.1"],
        ),
        (
            "input: [{classifier: toxicity, threshold: true}]\n",
            ["input[0].threshold", "True"],
        ),
        (
            "output: [{classifier: toxicity, action: redact}]\n",
            ["output[0].action", "'redact'", "'pii'", "'toxicity'"],
        ),
        (
            "input: [{classifier: toxicity, colour: red}]\n",
            ["input[0]", "unknown key 'colour'", "classifier, options, threshold"],
        ),
        (
            "inputs: [{classifier: toxicity}]\n",
            ["unknown key 'inputs'", "name, input, output"],
        ),
        (
            "input: [{classifier: toxicity}]\non_error: ignore\n",
            ["on_error", "'ignore'", "block, allow"],
        ),
        (
            "input: [{classifier: toxicity}]\ninput_scope: first\n",
            ["input_scope", "'first'", "last, all"],
        ),
        (
            "input: [{classifier: toxicity}]\nsafe_reply: ''\n",
            ["safe_reply", "non-empty string"],
        ),
        (
            "input: [{classifier: toxicity, options: {colour: red}}]\n",
            ["input[0].options", "'toxicity'", "colour"],
        ),
        (
            "input: [{classifier: toxicity, options: {threshold: 2}}]\n",
            ["input[0].options", "threshold"],
        ),
        (
            "input: [{action: block}]\n",
            ["input[0].classifier", "missing"],
        ),
        ("input: {classifier: toxicity}\n", ["input", "expected a list"]),
        ("input: [toxicity]\n", ["input[0]", "expected a mapping"]),
        ("name: empty\n", ["no filters"]),
        ("- just a list\n", ["expected a mapping"]),
        ("input: [\n", ["invalid YAML"]),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path, text, fragments):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_guard_config(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_guard_config(tmp_path / "absent.yaml")


def test_safe_reply_that_is_not_refusal_warns(tmp_path, caplog):
    text = "input: [{classifier: toxicity}]\nsafe_reply: 'Here is the answer.'\n"
    with caplog.at_level(logging.WARNING, logger="redline.guards"):
        load_guard_config(write(tmp_path, text))
    assert "will count as unsafe" in caplog.text
