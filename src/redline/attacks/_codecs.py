"""Text encodings of the encoding strategies and tolerant decoders for responses.

Models that respond in an encoding often wrap it in prose ("Sure! Here it
is: ..."), drop base64 padding or wrap long lines. The finders below pick out
the longest run that decodes to readable UTF-8 text.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

# A base64 run: alphabet characters (standard or URL-safe) with optional
# padding. Runs of at least this many characters are tried, unless the whole
# response is one run, because short English words are valid base64 too.
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_MIN_BASE64_CHARS = 8
# Wrapped lines of a long base64 block are at least this long, except the last.
_MIN_WRAPPED_LINE = 16

_HEX_PREFIX = re.compile(r"(?:0x|\\x)(?=[0-9a-fA-F]{2})")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{2}(?:[ \t:,-]?[0-9a-fA-F]{2})*")
_HEX_SEPARATORS = re.compile(r"[ \t:,-]")
_MIN_HEX_DIGITS = 8

# Share of decoded characters that must be printable (or whitespace) for a
# run found inside prose to count as text rather than noise. A response that
# is one run and nothing else needs only to be valid UTF-8.
_MIN_PRINTABLE_SHARE = 0.95


def encode_base64(text: str) -> str:
    """Return the standard base64 of the UTF-8 bytes of ``text``."""
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


def encode_hex(text: str) -> str:
    """Return the lowercase hex digits of the UTF-8 bytes of ``text``."""
    return text.encode("utf-8", "surrogatepass").hex()


def rot13(text: str) -> str:
    """Rotate ASCII letters by 13 places; other characters are unchanged."""
    return codecs.encode(text, "rot13")


def find_base64(text: str) -> tuple[str, str] | None:
    """Return the longest base64 run of ``text`` and its decoding, or None.

    Line-wrapped blocks are joined, URL-safe characters are accepted and
    missing padding is added. Only runs that decode to readable UTF-8 count.
    """
    best: tuple[str, str] | None = None
    stripped = text.strip()
    for run in _base64_runs(text):
        whole = run == stripped
        if len(run) < _MIN_BASE64_CHARS and not whole:
            continue
        decoded = decode_base64_run(run, require_printable=not whole)
        if decoded is not None and (best is None or len(decoded) > len(best[1])):
            best = (run, decoded)
    return best


def decode_base64_run(run: str, require_printable: bool = True) -> str | None:
    """Decode one base64 run, fixing padding.

    Returns None unless the bytes are UTF-8 and, when ``require_printable``
    is set, almost all printable.
    """
    compact = re.sub(r"\s+", "", run).rstrip("=").replace("-", "+").replace("_", "/")
    if len(compact) % 4 == 1:
        return None
    padded = compact + "=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except binascii.Error:
        return None
    return _readable(raw, require_printable)


def _base64_runs(text: str) -> list[str]:
    tokens = list(_BASE64_TOKEN.finditer(text))
    runs = [token.group() for token in tokens]
    # Join tokens separated only by a line break when the earlier one is long
    # enough to be a wrapped line of one block.
    index = 0
    while index < len(tokens):
        end = index
        while (
            end + 1 < len(tokens)
            and len(tokens[end].group()) >= _MIN_WRAPPED_LINE
            and not tokens[end].group().endswith("=")
            and text[tokens[end].end() : tokens[end + 1].start()].strip(" \t") == "\n"
        ):
            end += 1
        if end > index:
            runs.append("".join(token.group() for token in tokens[index : end + 1]))
        index = end + 1
    return runs


def find_hex(text: str) -> tuple[str, str] | None:
    """Return the longest run of hex byte pairs in ``text`` and its decoding, or None.

    Pairs may be joined or separated by spaces, colons, commas or dashes,
    and may carry ``0x`` or ``\\x`` prefixes. Only runs that decode to
    readable UTF-8 count.
    """
    best: tuple[str, str] | None = None
    cleaned = _HEX_PREFIX.sub("", text)
    for match in _HEX_RUN.finditer(cleaned):
        digits = _HEX_SEPARATORS.sub("", match.group())
        whole = match.group() == cleaned.strip()
        if len(digits) < _MIN_HEX_DIGITS and not whole:
            continue
        decoded = _readable(bytes.fromhex(digits), require_printable=not whole)
        if decoded is not None and (best is None or len(decoded) > len(best[1])):
            best = (match.group(), decoded)
    return best


def _readable(raw: bytes, require_printable: bool) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded:
        return None
    if not require_printable:
        return decoded
    printable = sum(1 for char in decoded if char.isprintable() or char.isspace())
    return decoded if printable / len(decoded) >= _MIN_PRINTABLE_SHARE else None
