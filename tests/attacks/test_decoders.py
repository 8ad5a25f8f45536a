"""Tests of the response decoders, including round trips through each encoding."""

from __future__ import annotations

import base64
import string
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.attacks import DECODER_KINDS, create_strategy, decode_response
from redline.attacks._codecs import encode_base64, encode_hex, rot13
from redline.attacks._normalize import (
    ZERO_WIDTH,
    from_homoglyphs,
    from_leet,
    strip_zero_width,
    to_homoglyphs,
    to_leet,
)
from redline.errors import ConfigError

ANSWER = "Step 1: preheat the oven to 180 C. Step 2: wait, then bake for 20 minutes."
REFUSAL = "I'm sorry, but I can't help with that request."
PRINTABLE = st.text(
    alphabet=string.ascii_letters + string.digits + string.punctuation + " ",
    min_size=4,
)


def embed(encoded: str) -> str:
    """Return ``encoded`` wrapped in the kind of prose models add."""
    return f"Sure! Here is my reply:\n\n{encoded}\n\nHope that helps."


# Round trips: encode with the strategy's codec, decode with its decoder.


@given(st.text(min_size=1))
def test_base64_round_trip(text):
    decoded = decode_response(encode_base64(text), {"kind": "base64"})
    assert decoded.ok
    assert decoded.decoded == text


@given(st.text(min_size=1))
def test_hex_round_trip(text):
    decoded = decode_response(encode_hex(text), {"kind": "hex"})
    assert decoded.ok
    assert decoded.decoded == text


@given(st.text())
def test_rot13_round_trip(text):
    assert decode_response(rot13(text), {"kind": "rot13"}).decoded == text


@given(st.text())
def test_reversed_round_trip(text):
    assert decode_response(text[::-1], {"kind": "reversed"}).decoded == text


@given(PRINTABLE)
def test_base64_in_prose_round_trip(text):
    decoded = decode_response(embed(encode_base64(text)), {"kind": "base64"})
    assert decoded.decoded == text


@given(PRINTABLE)
def test_hex_in_prose_round_trip(text):
    decoded = decode_response(embed(encode_hex(text)), {"kind": "hex"})
    assert decoded.decoded == text


# The obfuscation decoders end with a normaliser for matching, so the check
# is that an obfuscated text decodes to what the plain text decodes to.


@given(st.text(alphabet=string.ascii_letters + string.digits + " .,?!", min_size=1))
def test_homoglyph_round_trip(text):
    decoder = {"kind": "homoglyph"}
    expected = decode_response(text, decoder).decoded
    assert decode_response(to_homoglyphs(text), decoder).decoded == expected


@given(st.text(min_size=1).filter(lambda text: not set(text) & set(ZERO_WIDTH)))
def test_zero_width_round_trip(text):
    obfuscated = (
        create_strategy("zero_width")
        .attempts([{"role": "user", "content": text}], 0)[0]
        .prompt
    )
    decoder = {"kind": "zero_width"}
    expected = decode_response(text, decoder).decoded
    assert decode_response(obfuscated, decoder).decoded == expected


@given(st.text(alphabet=string.ascii_lowercase + " .,?", min_size=1))
def test_leetspeak_round_trip(text):
    decoder = {"kind": "leetspeak", "level": "advanced"}
    expected = decode_response(text, decoder).decoded
    assert decode_response(to_leet(text, "advanced"), decoder).decoded == expected


@given(st.text(alphabet=string.ascii_letters + string.punctuation + " "))
def test_homoglyph_exact_inverse(text):
    assert from_homoglyphs(to_homoglyphs(text)) == text


@given(st.text().filter(lambda text: not set(text) & set(ZERO_WIDTH)))
def test_zero_width_exact_inverse(text):
    padded = ZERO_WIDTH[0].join(text)
    assert strip_zero_width(padded) == text


@given(st.text(alphabet=string.ascii_lowercase + " .,?"))
def test_leetspeak_exact_inverse(text):
    assert from_leet(to_leet(text, "basic"), "basic") == text


# Responses embedded in prose or formatted the way models write them.


def test_base64_found_in_prose():
    decoded = decode_response(embed(encode_base64(ANSWER)), {"kind": "base64"})
    assert decoded.decoded == ANSWER
    assert "run found in the response" in decoded.steps[0]


def test_base64_missing_padding_fixed():
    encoded = encode_base64(ANSWER + "!").rstrip("=")
    assert decode_response(embed(encoded), {"kind": "base64"}).decoded == ANSWER + "!"


def test_base64_url_safe_alphabet():
    encoded = base64.urlsafe_b64encode("¿qué? ~~~ >>>".encode()).decode()
    assert "-" in encoded or "_" in encoded
    decoded = decode_response(f"Answer: {encoded}", {"kind": "base64"})
    assert decoded.decoded == "¿qué? ~~~ >>>"


def test_base64_wrapped_lines_joined():
    long_answer = ANSWER * 4
    wrapped = "\n".join(textwrap.wrap(encode_base64(long_answer), 64))
    decoded = decode_response(embed(wrapped), {"kind": "base64"})
    assert decoded.decoded == long_answer


def test_base64_in_code_fence():
    fenced = f"Here you go:\n```\n{encode_base64(ANSWER)}\n```"
    assert decode_response(fenced, {"kind": "base64"}).decoded == ANSWER


def test_hex_spaced_pairs_in_prose():
    spaced = " ".join(f"{byte:02x}" for byte in ANSWER.encode())
    assert decode_response(embed(spaced), {"kind": "hex"}).decoded == ANSWER


def test_hex_prefixed_pairs_in_prose():
    prefixed = " ".join(f"0x{byte:02X}" for byte in ANSWER.encode())
    assert decode_response(embed(prefixed), {"kind": "hex"}).decoded == ANSWER


def test_rot13_in_prose_contains_answer():
    decoded = decode_response(embed(rot13(ANSWER)), {"kind": "rot13"})
    assert ANSWER in (decoded.decoded or "")


def test_reversed_in_prose_contains_answer():
    decoded = decode_response(embed(ANSWER[::-1]), {"kind": "reversed"})
    assert ANSWER in (decoded.decoded or "")


def test_homoglyphs_in_prose_normalised():
    decoded = decode_response(
        f"Sure: {to_homoglyphs('pick the lock')}", {"kind": "homoglyph"}
    )
    assert "pick the lock" in (decoded.decoded or "").lower()


def test_leetspeak_in_prose_decoded():
    decoded = decode_response(
        f"Here: {to_leet('pick the lock')}", {"kind": "leetspeak"}
    )
    assert "pick the lock" in (decoded.decoded or "").lower()


# Failures are reported and never replaced by the raw text.


@pytest.mark.parametrize("kind", ["base64", "hex"])
def test_plain_refusal_fails_decoding(kind):
    decoded = decode_response(REFUSAL, {"kind": kind})
    assert not decoded.ok
    assert decoded.decoded is None
    assert decoded.raw == REFUSAL
    assert decoded.error is not None
    assert decoded.error.startswith(f"{kind}: ")


@pytest.mark.parametrize("kind", ["base64", "hex"])
def test_empty_response_fails_decoding(kind):
    decoded = decode_response("", {"kind": kind})
    assert not decoded.ok
    assert decoded.decoded is None


def test_binary_noise_not_taken_as_text():
    noise = base64.b64encode(bytes(range(0, 256, 7))).decode()
    assert not decode_response(embed(noise), {"kind": "base64"}).ok


def test_no_decoder_keeps_raw():
    decoded = decode_response(ANSWER, None)
    assert decoded.ok
    assert decoded.decoded == ANSWER
    assert decoded.steps == ("no decoding needed",)


def test_result_to_dict_has_both_forms():
    data = decode_response(embed(encode_base64(ANSWER)), {"kind": "base64"}).to_dict()
    assert data["raw"] == embed(encode_base64(ANSWER))
    assert data["decoded"] == ANSWER
    assert data["ok"] is True


def test_unknown_decoder_lists_kinds():
    with pytest.raises(ConfigError, match="unknown decoder kind 'morse'") as info:
        decode_response("x", {"kind": "morse"})
    for kind in DECODER_KINDS:
        assert kind in str(info.value)


def test_invalid_leetspeak_level():
    with pytest.raises(ConfigError, match="leetspeak decoder level 'elite'"):
        decode_response("x", {"kind": "leetspeak", "level": "elite"})


def test_sync_translation_decoder_rejected():
    decoder = {"kind": "translation", "language": "Welsh", "target": "python:m:f"}
    with pytest.raises(ConfigError, match="adecode_response"):
        decode_response("x", decoder)


# Chains decode in the order the descriptor lists.


def test_chain_decoder_applies_in_order():
    response = encode_base64(rot13(ANSWER))
    decoder = {"kind": "chain", "steps": [{"kind": "base64"}, {"kind": "rot13"}]}
    decoded = decode_response(response, decoder)
    assert decoded.decoded == ANSWER
    assert len(decoded.steps) == 2


def test_chain_failure_names_step():
    decoder = {"kind": "chain", "steps": [{"kind": "rot13"}, {"kind": "base64"}]}
    decoded = decode_response(REFUSAL, decoder)
    assert decoded.decoded is None
    assert decoded.steps == ("applied ROT13 to the whole response",)
    assert decoded.error is not None
    assert decoded.error.startswith("base64: ")


def test_empty_chain_rejected():
    with pytest.raises(ConfigError, match="non-empty 'steps'"):
        decode_response("x", {"kind": "chain", "steps": []})


def test_attempt_decoder_reads_encoded_reply():
    attempt = create_strategy("hex+base64").attempts(
        [{"role": "user", "content": "Say hello."}], 0
    )[0]
    assert attempt.decoder == {
        "kind": "chain",
        "steps": [{"kind": "base64"}, {"kind": "hex"}],
    }
    response = embed(encode_base64(encode_hex(ANSWER)))
    assert decode_response(response, attempt.decoder).decoded == ANSWER
