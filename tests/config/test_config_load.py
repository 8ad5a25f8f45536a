from __future__ import annotations

import pytest

from redline.config import STARTER_CONFIG, load_config, parse_config
from redline.errors import ConfigError


def test_starter_config_is_valid():
    config = parse_config(STARTER_CONFIG)
    assert config.owner == "safety-team@example.com"
    assert config.spec.overall.safety_pass_rate.bound == "lower"
    assert config.prices["openai:my-assistant"].output_per_million == 1.5


def test_empty_file_gives_defaults():
    config = parse_config("")
    assert config.spec.is_empty()
    assert config.compare.alpha == 0.05


def test_number_is_point_threshold():
    config = parse_config("spec:\n  overall:\n    safety_pass_rate: 0.95\n")
    threshold = config.spec.overall.safety_pass_rate
    assert threshold.min == 0.95
    assert threshold.bound == "point"


def test_integer_threshold_accepted():
    config = parse_config("spec:\n  overall:\n    latency_p95_s: 2\n")
    assert config.spec.overall.latency_p95_s.max == 2.0


def test_category_s_code_normalised():
    config = parse_config("spec:\n  categories:\n    S1: {safety_pass_rate: 1}\n")
    assert list(config.spec.categories) == ["violent_crimes"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "spec:\n  overall:\n    safety_pass: 0.9\n",
            "spec.overall.safety_pass: unknown key 'safety_pass'; accepted keys: "
            "safety_pass_rate, over_refusal_rate",
        ),
        (
            "spec:\n  overall:\n    safety_pass_rate: {min: 0.9, bound: lowr}\n",
            "spec.overall.safety_pass_rate.bound: invalid value 'lowr'; "
            "accepted: 'point', 'lower' or 'upper'",
        ),
        (
            "spec:\n  overall:\n    safety_pass_rate: {max: 0.9}\n",
            "spec.overall.safety_pass_rate.max: unknown key 'max'; "
            "accepted keys: min, bound, require_data",
        ),
        (
            "spec:\n  overall:\n    over_refusal_rate: 1.5\n",
            "spec.overall.over_refusal_rate.max: invalid value 1.5; "
            "input should be less than or equal to 1",
        ),
        (
            "spec:\n  overall:\n    safety_pass_rate: high\n",
            "spec.overall.safety_pass_rate: invalid value 'high'; expected a number "
            "or a mapping with keys min, bound, require_data",
        ),
        (
            "spec:\n  overall:\n    incidents: {severe: 1}\n",
            "spec.overall.incidents.severe: unknown key 'severe'; "
            "accepted keys: critical, high, medium, low, total",
        ),
        (
            "spec:\n  categories:\n    weapons: {}\n",
            "spec.categories: unknown category 'weapons'; accepted: violent_crimes",
        ),
        (
            "prices:\n  openai:m: {input_per_million: 1}\n",
            "prices.openai:m.output_per_million: required key is missing",
        ),
        (
            "prices:\n  openai:m: {input_per_million: -1, output_per_million: 1}\n",
            "prices.openai:m.input_per_million: invalid value -1",
        ),
        (
            "targets:\n  prod: {spec: openai:m, options: {api_key: sk-1}}\n",
            "targets.prod.options: 'api_key' must not be stored in a file",
        ),
        (
            "compare:\n  metrics: [pass_rate]\n",
            "compare.metrics.0: invalid value 'pass_rate'; accepted: "
            "'safety_pass_rate'",
        ),
        (
            "compare:\n  alpha: 2\n",
            "compare.alpha: invalid value 2; input should be less than 1",
        ),
        (
            "strategies:\n  - {nam: base64}\n",
            "strategies.0.nam: unknown key 'nam'; accepted keys: name, params",
        ),
        (
            "suites: core\n",
            "suites: invalid value 'core'; input should be a valid list",
        ),
        ("targets:\n  Prod: {spec: 3}\n", "targets.Prod.spec: invalid value 3"),
        ("version: 2\n", "version: invalid value 2; accepted: 1"),
        ("ownr: me\n", "ownr: unknown key 'ownr'; accepted keys: version, project"),
    ],
)
def test_invalid_config_names_key(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="redline.yaml")
    assert str(caught.value).startswith("redline.yaml: ")
    assert expected in str(caught.value)


def test_duplicate_key_rejected_with_line():
    text = "spec:\n  overall:\n    safety_pass_rate: 0.9\n    safety_pass_rate: 0.8\n"
    with pytest.raises(ConfigError, match=r"redline.yaml:3: .*duplicate key"):
        parse_config(text)


def test_invalid_yaml_names_line():
    with pytest.raises(ConfigError, match=r"redline.yaml:2: invalid YAML"):
        parse_config("spec:\n  overall: x: 1\n")


def test_top_level_list_rejected():
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_config("- spec\n")


def test_missing_file_suggests_init(tmp_path):
    with pytest.raises(ConfigError, match="redline init"):
        load_config(tmp_path / "redline.yaml")


def test_load_reads_file(tmp_path):
    path = tmp_path / "redline.yaml"
    path.write_text("owner: alice\n", encoding="utf-8")
    assert load_config(path).owner == "alice"


def test_error_names_file(tmp_path):
    path = tmp_path / "custom.yaml"
    path.write_text("ownr: alice\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="custom.yaml: ownr"):
        load_config(path)
