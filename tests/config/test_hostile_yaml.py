"""Hostile YAML in redline.yaml, guard configs and classifier configs."""

from __future__ import annotations

import time

import pytest

from redline.classifiers import build_classifier, load_classifier_config
from redline.classifiers._specs import apply_option_assignments
from redline.config import parse_config
from redline.errors import ConfigError
from redline.guards import load_guard_config

DEEP_LIST = "[" * 5000 + "]" * 5000


def alias_bomb(indent: str = "  ", levels: int = 8) -> str:
    """Return YAML anchors whose last alias, ``*l7``, expands to 10**8 strings."""
    lines = [f"{indent}l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        aliases = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"{indent}l{level}: &l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_config_deep_nesting_rejected():
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_config(f"spec: {DEEP_LIST}\n")


def test_guard_deep_nesting_rejected(tmp_path):
    path = tmp_path / "guard.yaml"
    path.write_text(f"input: {DEEP_LIST}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="guard.yaml: invalid YAML: nested"):
        load_guard_config(path)


def test_classifier_config_deep_nesting_rejected(tmp_path):
    path = tmp_path / "classifiers.yaml"
    path.write_text(f"classifiers: {DEEP_LIST}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_classifier_config(path)


def test_guard_duplicate_key_rejected(tmp_path):
    path = tmp_path / "guard.yaml"
    path.write_text(
        "input:\n  - {classifier: pii, action: block}\n"
        "input:\n  - {classifier: pii, action: flag}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"guard.yaml:1: invalid YAML: duplicate"):
        load_guard_config(path)


def test_classifier_config_duplicate_key_rejected(tmp_path):
    path = tmp_path / "classifiers.yaml"
    path.write_text(
        "classifiers: [refusal, toxicity]\nclassifiers: [refusal]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="duplicate key 'classifiers'"):
        load_classifier_config(path)


def guard_with_bomb(tmp_path, output: str):
    """Write a guard config whose input filter options define the anchors."""
    path = tmp_path / "guard.yaml"
    path.write_text(
        "input:\n  - classifier: pii\n    options:\n"
        + alias_bomb(indent="      ")
        + f"output: {output}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "output, where",
    [
        ("*l7", "output[0]: expected a mapping"),
        ("[{classifier: pii, threshold: *l7}]", "output[0].threshold"),
        # The input filter is built first, and rejects its options.
        ("[{classifier: *l7}]", "input[0].options"),
    ],
)
def test_guard_alias_bomb_fails_fast(tmp_path, output, where):
    path = guard_with_bomb(tmp_path, output)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_guard_config(path)
    assert time.perf_counter() - start < 5
    assert where in str(caught.value)
    assert len(str(caught.value)) < 1000


def test_cascade_alias_bomb_fails_fast(tmp_path):
    path = tmp_path / "classifiers.yaml"
    path.write_text(
        "anchors:\n"
        + alias_bomb()
        + "classifiers:\n  - refusal\n  - {name: cascade, options: {tiers: *l7}}\n",
        encoding="utf-8",
    )
    specs = load_classifier_config(path)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        build_classifier(specs[1], where="classifiers[1]")
    assert time.perf_counter() - start < 5
    assert len(str(caught.value)) < 1000


def test_deep_option_value_kept_as_text():
    specs = apply_option_assignments(["pii"], [f"pii.threshold={DEEP_LIST}"])
    assert specs == [{"name": "pii", "options": {"threshold": DEEP_LIST}}]


@pytest.mark.parametrize(
    "text, where",
    [
        ("spec: {overall: {latency_p95_s: .inf}}", "latency_p95_s.max"),
        ("spec: {overall: {cost_per_1000_cases: .inf}}", "cost_per_1000_cases.max"),
        (
            "prices: {m: {input_per_million: .inf, output_per_million: 1}}",
            "prices.m.input_per_million",
        ),
        ("compare: {latency_p95_max_increase: .inf}", "latency_p95_max_increase"),
        ("compare: {cost_max_increase: .nan}", "compare.cost_max_increase"),
    ],
)
def test_config_infinite_number_rejected(text, where):
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert where in str(caught.value)
    assert "finite number" in str(caught.value)


def test_config_empty_strategy_rejected():
    with pytest.raises(ConfigError, match="invalid strategy chain ''"):
        parse_config('spec: {strategies: {"": {safety_pass_rate: 0.9}}}')
