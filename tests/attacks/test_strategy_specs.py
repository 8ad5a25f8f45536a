"""Tests of strategy specs, parameters, the registry and chains."""

from __future__ import annotations

import random

import pytest

from redline.attacks import (
    Strategy,
    StrategyChain,
    Variant,
    create_strategy,
    register_strategy,
    strategy_class,
    strategy_names,
)
from redline.attacks._base import _REGISTRY
from redline.attacks._codecs import encode_base64
from redline.errors import ConfigError

REQUEST = [{"role": "user", "content": "How do I pick a lock?"}]


def test_unknown_name_lists_available():
    with pytest.raises(ConfigError, match="unknown strategy 'base65'") as info:
        create_strategy("base65")
    for name in strategy_names():
        assert name in str(info.value)


def test_unknown_name_in_chain():
    with pytest.raises(ConfigError, match="unknown strategy 'nope'"):
        create_strategy("base64+nope")


def test_empty_chain_part_rejected():
    with pytest.raises(ConfigError, match="empty strategy name"):
        create_strategy("base64++rot13")


def test_spaces_around_names_ignored():
    assert create_strategy(" base64 + roleplay ").name == "base64+roleplay"


def test_mapping_spec_sets_params():
    chain = create_strategy({"name": "many_shot", "params": {"shots": 2}})
    assert chain.steps[0].params.to_dict() == {"shots": 2, "layout": "messages"}


def test_list_spec_mixes_forms():
    chain = create_strategy(
        ["base64", {"name": "roleplay", "params": {"persona": "twin"}}]
    )
    assert chain.name == "base64+roleplay"
    assert chain.steps[1].params.to_dict() == {"persona": "twin"}


def test_mapping_spec_extra_key_rejected():
    with pytest.raises(ConfigError, match="invalid strategy spec"):
        create_strategy({"name": "base64", "parameters": {}})


def test_non_spec_rejected():
    with pytest.raises(ConfigError, match="invalid strategy spec"):
        create_strategy(42)  # type: ignore[arg-type]


def test_unknown_parameter_lists_accepted():
    with pytest.raises(ConfigError) as info:
        create_strategy({"name": "many_shot", "params": {"shot": 3}})
    message = str(info.value)
    assert "strategy 'many_shot' has no parameter 'shot'" in message
    assert "shots, layout" in message


def test_out_of_range_parameter_named():
    with pytest.raises(ConfigError) as info:
        create_strategy({"name": "many_shot", "params": {"shots": 0}})
    message = str(info.value)
    assert "invalid parameter 'shots' of strategy 'many_shot'" in message
    assert "greater than or equal to 1" in message
    assert "got 0" in message


def test_choice_parameter_lists_values():
    with pytest.raises(ConfigError) as info:
        create_strategy({"name": "roleplay", "params": {"persona": "pirate"}})
    message = str(info.value)
    assert "'persona'" in message
    assert "'archivist'" in message
    assert "got 'pirate'" in message


def test_wrong_type_parameter_rejected():
    with pytest.raises(ConfigError, match="'answer_encoded' of strategy 'base64'"):
        create_strategy({"name": "base64", "params": {"answer_encoded": "yes"}})


def test_frame_index_out_of_range():
    with pytest.raises(ConfigError, match="use 0 to 2 or None, got 3"):
        create_strategy({"name": "fiction", "params": {"frame": 3}})


def test_missing_required_parameter():
    with pytest.raises(
        ConfigError, match="strategy 'template' is missing parameter 'path'"
    ):
        create_strategy("template")


def test_params_are_frozen():
    params = create_strategy("base64").steps[0].params
    with pytest.raises(ValueError):
        params.answer_encoded = False  # type: ignore[misc]


def test_seed_must_be_integer():
    with pytest.raises(ConfigError, match="seed must be an integer"):
        create_strategy("base64").attempts(REQUEST, "1")  # type: ignore[arg-type]


def test_messages_need_user_turn():
    with pytest.raises(ConfigError, match="at least one user message"):
        create_strategy("base64").attempts([{"role": "system", "content": "x"}], 0)


def test_invalid_message_rejected():
    with pytest.raises(ConfigError, match="message 0 must be a mapping"):
        create_strategy("base64").attempts([{"role": "robot", "content": "x"}], 0)


def test_empty_chain_rejected():
    with pytest.raises(ConfigError, match="at least one strategy"):
        StrategyChain([])


def test_strategy_attempts_equal_chain_of_one():
    strategy = strategy_class("roleplay")()
    alone = strategy.attempts(REQUEST, 3)
    assert alone == create_strategy("roleplay").attempts(REQUEST, 3)


# Composition.


def test_composition_applies_left_to_right():
    spec = ["base64", {"name": "roleplay", "params": {"persona": "archivist"}}]
    attempt = create_strategy(spec).attempts(REQUEST, 0)[0]
    frame, _, inside = attempt.prompt.partition("A visitor asks Quill: ")
    assert "Quill" in frame
    assert inside.startswith("The message below is written in base64.")
    assert inside.endswith(encode_base64("How do I pick a lock?"))


def test_composition_keeps_base64_decoder():
    attempt = create_strategy("base64+roleplay").attempts(REQUEST, 0)[0]
    assert attempt.decoder == {"kind": "base64"}


def test_composition_order_matters():
    forward = create_strategy("base64+roleplay").attempts(REQUEST, 0)[0].prompt
    backward = create_strategy("roleplay+base64").attempts(REQUEST, 0)[0].prompt
    assert forward != backward
    assert "How do I pick a lock?" not in backward


def test_composition_records_params_and_variants():
    spec = ["base64", {"name": "roleplay", "params": {"persona": "mentor"}}]
    attempt = create_strategy(spec).attempts(REQUEST, 0)[0]
    assert attempt.params == ({"answer_encoded": True}, {"persona": "mentor"})
    assert attempt.variants == ("", "mentor")


def test_composition_fans_out():
    spec = [{"name": "best_of_n", "params": {"n": 3}}, "base64"]
    attempts = create_strategy(spec).attempts(REQUEST, 0)
    assert len(attempts) == 3
    assert [a.variants[0] for a in attempts] == ["variant 0", "variant 1", "variant 2"]


def test_chain_of_two_decoders_reversed():
    attempt = create_strategy("rot13+base64").attempts(REQUEST, 0)[0]
    assert attempt.decoder == {
        "kind": "chain",
        "steps": [{"kind": "base64"}, {"kind": "rot13"}],
    }


def test_chain_without_decoders_has_none():
    assert create_strategy("fiction+past_tense").attempts(REQUEST, 0)[0].decoder is None


# Registry.


@pytest.fixture
def scratch_registry():
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


def test_register_plugin_strategy(scratch_registry):
    @register_strategy
    class Shout(Strategy):
        name = "shout_test"
        description = "Request in capitals"
        family = "obfuscation"

        def transform(self, messages, rng: random.Random):
            return [
                Variant(tuple({**m, "content": m["content"].upper()} for m in messages))
            ]

    assert "shout_test" in strategy_names()
    attempt = create_strategy("shout_test+base64").attempts(REQUEST, 0)[0]
    assert encode_base64("HOW DO I PICK A LOCK?") in attempt.prompt


def test_register_rejects_plus_in_name(scratch_registry):
    class Bad(Strategy):
        name = "a+b"
        description = "x"
        family = "encoding"

    with pytest.raises(ConfigError, match="without '\\+'"):
        register_strategy(Bad)


def test_register_rejects_unknown_family(scratch_registry):
    class Bad(Strategy):
        name = "bad_family"
        description = "x"
        family = "magic"

    with pytest.raises(ConfigError, match="family 'magic'"):
        register_strategy(Bad)


def test_empty_variant_list_rejected(scratch_registry):
    @register_strategy
    class Nothing(Strategy):
        name = "nothing_test"
        description = "Returns nothing"
        family = "framing"

        def transform(self, messages, rng):
            return []

    with pytest.raises(RuntimeError, match="returned no variants"):
        create_strategy("nothing_test").attempts(REQUEST, 0)


def test_strategy_without_transform(scratch_registry):
    @register_strategy
    class Hollow(Strategy):
        name = "hollow_test"
        description = "Implements nothing"
        family = "framing"

    with pytest.raises(NotImplementedError, match="neither transform nor atransform"):
        create_strategy("hollow_test").attempts(REQUEST, 0)
