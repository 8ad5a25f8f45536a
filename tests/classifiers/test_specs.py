"""Tests of classifier specs: mappings, option assignments and YAML files."""

from __future__ import annotations

import pytest

from redline.classifiers import (
    ProfanityCheckClassifier,
    apply_option_assignments,
    build_classifier,
    load_classifier_config,
    public_spec,
)
from redline.errors import ConfigError


def test_name_spec_builds():
    assert isinstance(build_classifier("toxicity"), ProfanityCheckClassifier)


def test_mapping_spec_passes_options():
    classifier = build_classifier({"name": "toxicity", "options": {"threshold": 0.8}})
    assert classifier.threshold == 0.8  # type: ignore[attr-defined]


def test_instance_spec_returned_unchanged():
    instance = ProfanityCheckClassifier()
    assert build_classifier(instance) is instance


def test_unknown_option_names_classifier():
    with pytest.raises(
        ConfigError,
        match=r"classifiers\[1\]: invalid options for classifier 'toxicity'",
    ):
        build_classifier(
            {"name": "toxicity", "options": {"colour": 1}}, where="classifiers[1]"
        )


def test_invalid_option_value_names_where():
    with pytest.raises(ConfigError, match=r"classifiers\[0\]: toxicity threshold"):
        build_classifier(
            {"name": "toxicity", "options": {"threshold": 2}}, where="classifiers[0]"
        )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty classifier name"),
        (3, "expected a classifier name or a mapping"),
        ({"name": "toxicity", "opts": {}}, "unknown key 'opts'"),
        ({"options": {}}, "expected a classifier name, got None"),
        ({"name": "toxicity", "options": [1]}, "expected a mapping of option names"),
    ],
)
def test_malformed_specs_rejected(spec, message):
    with pytest.raises(ConfigError, match=message):
        build_classifier(spec)


def test_assignment_adds_typed_option():
    specs = apply_option_assignments(
        ["refusal", "toxicity"], ["toxicity.threshold=0.7"]
    )
    assert specs[1] == {"name": "toxicity", "options": {"threshold": 0.7}}


def test_assignment_keeps_text_values():
    specs = apply_option_assignments(
        ["judge"], ["judge.target=openai:guard", "judge.base_url=http://127.0.0.1:8/v1"]
    )
    assert specs[0]["options"] == {  # type: ignore[index]
        "target": "openai:guard",
        "base_url": "http://127.0.0.1:8/v1",
    }


def test_assignment_merges_into_mapping_spec():
    specs = apply_option_assignments(
        [{"name": "toxicity", "options": {"threshold": 0.3}}],
        ["toxicity.threshold=0.6"],
    )
    assert specs[0] == {"name": "toxicity", "options": {"threshold": 0.6}}


def test_assignment_for_absent_classifier_rejected():
    with pytest.raises(ConfigError, match="not in the classifier list"):
        apply_option_assignments(["refusal"], ["judge.target=openai:x"])


@pytest.mark.parametrize("assignment", ["judge", "judge=1", "judge.=1", ".x=1"])
def test_malformed_assignment_rejected(assignment):
    with pytest.raises(ConfigError, match="use NAME.KEY=VALUE"):
        apply_option_assignments(["judge"], [assignment])


def test_public_spec_drops_nested_secrets():
    spec = {
        "name": "cascade",
        "options": {
            "tiers": [
                {"classifier": "toxicity", "escalate": [0.2, 0.8]},
                {
                    "classifier": {
                        "name": "judge",
                        "options": {"api_key": "sk-1", "target": "openai:j"},
                    }
                },
            ]
        },
    }
    assert "sk-1" not in repr(public_spec(spec))


def test_yaml_config_read(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "classifiers:\n  - refusal\n  - name: toxicity\n    options: {threshold: 0.9}\n",
        encoding="utf-8",
    )
    assert load_classifier_config(path) == [
        "refusal",
        {"name": "toxicity", "options": {"threshold": 0.9}},
    ]


def test_yaml_config_error_names_entry(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "classifiers:\n  - refusal\n  - {name: toxicity, bad: 1}\n", encoding="utf-8"
    )
    with pytest.raises(
        ConfigError, match=r"c.yaml: classifiers\[1\]: unknown key 'bad'"
    ):
        load_classifier_config(path)


def test_yaml_config_without_list_rejected(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("refusal: true\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match="expected a mapping with a 'classifiers' list"
    ):
        load_classifier_config(path)


def test_yaml_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_classifier_config(tmp_path / "none.yaml")


def test_yaml_config_invalid_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("classifiers: [refusal\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_classifier_config(path)
