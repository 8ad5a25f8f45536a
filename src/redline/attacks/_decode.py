"""Decoding of responses to encoded attacks before they are scored.

An attempt's ``decoder`` descriptor names the encoding the response was
requested in. :func:`decode_response` turns the response back into plain
text and keeps the raw response next to it. A failed decoding is reported in
``error`` and ``decoded`` stays None: the raw text is never passed off as
decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redline.attacks._codecs import find_base64, find_hex, rot13
from redline.attacks._normalize import (
    LEET,
    from_homoglyphs,
    from_leet,
    strip_zero_width,
)
from redline.attacks._translation import HelperModel
from redline.errors import ConfigError, TargetError
from redline.targets import Target

DECODER_KINDS = (
    "base64",
    "chain",
    "hex",
    "homoglyph",
    "leetspeak",
    "reversed",
    "rot13",
    "translation",
    "zero_width",
)
"""Values of ``kind`` that :func:`decode_response` accepts."""


@dataclass(frozen=True, slots=True)
class DecodedResponse:
    """A response as received and as decoded.

    Attributes:
        raw: The response as the target returned it.
        decoded: Decoded text, or None when decoding failed. Equal to
            ``raw`` when the attempt had no decoder.
        steps: What was done, one short sentence per decoding step.
        error: Why decoding failed, or None.
    """

    raw: str
    decoded: str | None
    steps: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether decoding succeeded."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return {
            "raw": self.raw,
            "decoded": self.decoded,
            "ok": self.ok,
            "steps": list(self.steps),
            "error": self.error,
        }


class _DecodeFailure(Exception):
    pass


def _decode_base64(text: str, decoder: Mapping[str, Any]) -> tuple[str, str]:
    found = find_base64(text)
    if found is None:
        raise _DecodeFailure("no base64 run that decodes to UTF-8 text was found")
    run, decoded = found
    if len(run) == len(text.strip()):
        return decoded, "decoded the whole response from base64"
    return decoded, f"decoded a {len(run)}-character base64 run found in the response"


def _decode_hex(text: str, decoder: Mapping[str, Any]) -> tuple[str, str]:
    found = find_hex(text)
    if found is None:
        raise _DecodeFailure(
            "no run of hex byte pairs that decodes to UTF-8 text was found"
        )
    run, decoded = found
    return decoded, f"decoded a {len(run)}-character hex run found in the response"


def _decode_rot13(text: str, decoder: Mapping[str, Any]) -> tuple[str, str]:
    return rot13(text), "applied ROT13 to the whole response"


def _decode_reversed(text: str, decoder: Mapping[str, Any]) -> tuple[str, str]:
    return text[::-1], "reversed the whole response"


def _decode_leetspeak(text: str, decoder: Mapping[str, Any]) -> tuple[str, str]:
    level = decoder.get("level", "basic")
    if level not in LEET:
        raise ConfigError(
            f"invalid leetspeak decoder level {level!r}; use one of {', '.join(LEET)}"
        )
    return _normalized(
        from_leet(text, level), f"mapped {level} leetspeak symbols back to letters"
    )


def _decode_homoglyph(text: str, decoder: Mapping[str, Any]) -> tuple[str, str]:
    return _normalized(
        from_homoglyphs(text), "mapped redline's look-alike characters back"
    )


def _decode_zero_width(text: str, decoder: Mapping[str, Any]) -> tuple[str, str]:
    return _normalized(strip_zero_width(text), "removed zero-width characters")


def _normalized(text: str, done: str) -> tuple[str, str]:
    """Apply the classifiers' matching normaliser, when present, after an exact inverse.

    The exact inverse undoes the strategy's own table. The shared normaliser
    also folds look-alikes, invisible characters and leetspeak that the
    model added itself, and it lowercases the text.
    """
    try:
        from redline.classifiers._normalize import normalize_text
    except ImportError:
        # NOTE: without the shared normaliser only the exact inverse applies.
        return text, done
    return normalize_text(text), f"{done}, then applied normalize_text"


_SYNC_DECODERS: Mapping[str, Callable[[str, Mapping[str, Any]], tuple[str, str]]] = {
    "base64": _decode_base64,
    "hex": _decode_hex,
    "homoglyph": _decode_homoglyph,
    "leetspeak": _decode_leetspeak,
    "reversed": _decode_reversed,
    "rot13": _decode_rot13,
    "zero_width": _decode_zero_width,
}


def decode_response(text: str, decoder: Mapping[str, Any] | None) -> DecodedResponse:
    """Decode a response as its attempt's ``decoder`` descriptor specifies.

    Raises:
        ConfigError: The descriptor is invalid, or needs a model
            (``translation``); await :func:`adecode_response` for those.
    """
    if decoder is None:
        return DecodedResponse(text, text, ("no decoding needed",))
    steps: list[str] = []
    current = text
    for step in _flatten(decoder):
        kind = step["kind"]
        if kind == "translation":
            raise ConfigError(
                "decoder 'translation' calls a model; use "
                "'await adecode_response(text, decoder)' instead"
            )
        try:
            current, done = _SYNC_DECODERS[kind](current, step)
        except _DecodeFailure as exc:
            return DecodedResponse(text, None, tuple(steps), f"{kind}: {exc}")
        steps.append(done)
    return DecodedResponse(text, current, tuple(steps))


async def adecode_response(
    text: str,
    decoder: Mapping[str, Any] | None,
    *,
    helper: Target | None = None,
    api_key: str | None = None,
) -> DecodedResponse:
    """Decode a response, calling the helper model for ``translation`` steps.

    Args:
        text: Response as the target returned it.
        decoder: The attempt's decoder descriptor.
        helper: Target that translates; None builds one from the
            descriptor's ``target`` and ``base_url``.
        api_key: API key for a helper built from an ``openai:`` spec.

    Raises:
        ConfigError: The descriptor is invalid.
    """
    if decoder is None:
        return DecodedResponse(text, text, ("no decoding needed",))
    steps: list[str] = []
    current = text
    for step in _flatten(decoder):
        kind = step["kind"]
        try:
            if kind == "translation":
                current, done = await _translate_back(current, step, helper, api_key)
            else:
                current, done = _SYNC_DECODERS[kind](current, step)
        except _DecodeFailure as exc:
            return DecodedResponse(text, None, tuple(steps), f"{kind}: {exc}")
        steps.append(done)
    return DecodedResponse(text, current, tuple(steps))


async def _translate_back(
    text: str, decoder: Mapping[str, Any], helper: Target | None, api_key: str | None
) -> tuple[str, str]:
    language, spec = decoder.get("language"), decoder.get("target")
    if not isinstance(language, str) or not isinstance(spec, str):
        raise ConfigError(
            f"translation decoder {dict(decoder)!r} needs 'language' and 'target' strings"
        )
    model = HelperModel(
        helper if helper is not None else spec,
        base_url=decoder.get("base_url"),
        api_key=api_key,
    )
    try:
        translated = await model.translate(text, language, "English")
    except TargetError as exc:
        raise _DecodeFailure(f"translation back from {language} failed: {exc}") from exc
    return translated, f"translated from {language} into English with {model.spec}"


def _flatten(decoder: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if not isinstance(decoder, Mapping) or decoder.get("kind") not in DECODER_KINDS:
        kind = decoder.get("kind") if isinstance(decoder, Mapping) else decoder
        raise ConfigError(
            f"unknown decoder kind {kind!r}; use one of: {', '.join(DECODER_KINDS)}"
        )
    if decoder["kind"] != "chain":
        return [decoder]
    steps = decoder.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ConfigError("a 'chain' decoder needs a non-empty 'steps' list")
    return [leaf for step in steps for leaf in _flatten(step)]
