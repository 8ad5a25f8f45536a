"""Character tables of the obfuscation strategies and their exact inverses.

The inverses undo exactly what the strategies here produce. The decoders
then apply ``redline.classifiers._normalize.normalize_text``, which folds
the look-alikes and invisible characters a model adds on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Latin letters and Cyrillic or Greek letters drawn almost the same in common
# fonts. Each look-alike maps back to one Latin letter, so the table inverts.
HOMOGLYPHS: Mapping[str, str] = {
    "a": "\u0430",  # Cyrillic small a
    "c": "\u0441",  # Cyrillic small es
    "d": "\u0501",  # Cyrillic small komi de
    "e": "\u0435",  # Cyrillic small ie
    "h": "\u04bb",  # Cyrillic small shha
    "i": "\u0456",  # Cyrillic small Byelorussian-Ukrainian i
    "j": "\u0458",  # Cyrillic small je
    "o": "\u043e",  # Cyrillic small o
    "p": "\u0440",  # Cyrillic small er
    "s": "\u0455",  # Cyrillic small dze
    "v": "\u03bd",  # Greek small nu
    "x": "\u0445",  # Cyrillic small ha
    "y": "\u0443",  # Cyrillic small u
    "A": "\u0410",
    "B": "\u0412",
    "C": "\u0421",
    "E": "\u0415",
    "H": "\u041d",
    "I": "\u0406",
    "J": "\u0408",
    "K": "\u041a",
    "M": "\u041c",
    "N": "\u039d",  # Greek capital nu
    "O": "\u041e",
    "P": "\u0420",
    "S": "\u0405",
    "T": "\u0422",
    "X": "\u0425",
    "Y": "\u03a5",  # Greek capital upsilon
    "Z": "\u0396",  # Greek capital zeta
}
_FROM_HOMOGLYPH = str.maketrans({glyph: latin for latin, glyph in HOMOGLYPHS.items()})

ZERO_WIDTH: tuple[str, ...] = (
    "\u200b",  # zero width space
    "\u200c",  # zero width non-joiner
    "\u200d",  # zero width joiner
    "\u2060",  # word joiner
    "\ufeff",  # zero width no-break space (byte order mark)
)
_STRIP_ZERO_WIDTH = str.maketrans(dict.fromkeys(ZERO_WIDTH))

# Leetspeak substitutions by level. Each level maps every replaced letter to a
# distinct symbol, so decoding is unique except for the letter's case.
LEET: Mapping[str, Mapping[str, str]] = {
    "basic": {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"},
    "advanced": {
        "a": "4",
        "b": "8",
        "e": "3",
        "g": "9",
        "i": "1",
        "l": "|",
        "o": "0",
        "s": "5",
        "t": "7",
        "z": "2",
    },
}


def to_homoglyphs(text: str) -> str:
    """Replace every letter that has a look-alike in :data:`HOMOGLYPHS`."""
    table: dict[str, Any] = dict(HOMOGLYPHS)
    return text.translate(str.maketrans(table))


def from_homoglyphs(text: str) -> str:
    """Map the look-alikes of :data:`HOMOGLYPHS` back to Latin letters."""
    return text.translate(_FROM_HOMOGLYPH)


def strip_zero_width(text: str) -> str:
    """Remove the characters of :data:`ZERO_WIDTH`."""
    return text.translate(_STRIP_ZERO_WIDTH)


def to_leet(text: str, level: str = "basic") -> str:
    """Replace letters, either case, with the symbols of ``LEET[level]``."""
    table = LEET[level]
    mapping: dict[str, Any] = {**table, **{k.upper(): v for k, v in table.items()}}
    return text.translate(str.maketrans(mapping))


def from_leet(text: str, level: str = "basic") -> str:
    """Map the symbols of ``LEET[level]`` back to lowercase letters.

    Digits that were digits in the original text are mapped too, because
    the text does not show which digits stood for letters.
    """
    mapping: dict[str, Any] = {v: k for k, v in LEET[level].items()}
    return text.translate(str.maketrans(mapping))
