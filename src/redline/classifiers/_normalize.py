"""Text normalisation that undoes common tricks for hiding words from filters.

:func:`normalize_text` maps a text to a canonical form that word lists and
regular expressions can match: lowercase, mostly ASCII, single spaces. The
form is for matching only and is not meant to be shown. The steps, in order:

1. Capital-I runs. Two or more capital ``I`` right after a lowercase Latin
   letter become ``l``, because ``kiII`` uses capital I in place of ``ll``.
   This is the only step that reads case.
2. Character folding, one code point at a time:

   * a homoglyph table maps Cyrillic, Greek, Armenian and Cherokee letters,
     Latin small capitals, letters with strokes or hooks, and enclosed or
     emoji letters (negative circled and squared letters, regional
     indicators) to the Latin letter they look like;
   * NFKD decomposition applies the Unicode compatibility mappings, so
     fullwidth, mathematical, circled, superscript letters and ligatures
     become plain letters and accented letters split into letter and mark;
   * combining marks (categories Mn and Me: diacritics, variation
     selectors, "zalgo" noise) are dropped;
   * format characters (category Cf: zero-width space and joiners
     U+200B..U+200F, word joiner and invisible operators U+2060..U+2064,
     U+FEFF, the soft hyphen, bidi controls, tag characters), control
     characters, surrogates and invisible fillers (U+115F, U+1160, U+3164,
     U+FFA0, U+2800) are dropped;
   * every whitespace character becomes a space;
   * case folding (``str.casefold``), then the homoglyph table again.

   A character is folded until the result no longer changes, and the result
   is cached per code point.
3. Spaces. Runs of spaces become one space, and leading and trailing spaces
   go.
4. Inner punctuation. Punctuation and symbols between two word characters
   are removed (``ki.ll``, ``don't``, ``snake_case``), except between two
   digits (``3.14``, ``2024-01-01``). ``@ $ ! | € ¡`` are kept for the
   leetspeak step, and ``*`` is kept because it usually masks a letter, as
   in ``f*ck``.
5. Leetspeak. In a token that mixes Latin letters with digits or
   ``@ $ ! |``, the characters ``0 1 3 4 5 7 8 9 @ $ ! | € ¡`` become
   ``o i e a s t b g a s i l e i``, and a run of two or more ``1`` becomes
   ``l`` (``ki11``). ``!`` at the end of a token stays punctuation. These
   tokens are left as they are:

   * tokens without a letter (``2024``, ``$5``);
   * letters followed by digits that are not one repeated digit (``mp3``,
     ``covid19``, but not ``ki11``);
   * a number with a unit (``10am``, ``1990s``, ``5kg``);
   * ``$`` and a digit at the start (``$5bn``);
   * tokens with punctuation between digits (``v1.2``).
6. Spaced letters. Three or more single letters or digits separated by the
   same one to three non-word characters, as in ``k i l l``, ``k.i.l.l`` or
   ``k - i - l - l``, are joined. The run must contain at least two letters.
   A single-spaced phrase such as ``k i l l y o u`` becomes one word,
   ``killyou``, because the spacing no longer shows where words end.
   Leetspeak is decoded again in the joined word (``k 1 l l``).
7. Repeated letters. A run of three or more of the same Latin letter is cut
   to two, or to one for letters that English words rarely double
   (a h i j k q u v w x y), so ``kiiiill`` becomes ``kill`` and
   ``fuuuck`` becomes ``fuck``. Matchers should still accept one or two
   copies of each letter, because ``looooser`` becomes ``looser``.

:func:`normalize_with_offsets` also returns, for each character of the
result, the offset of the input character it came from, so that a span found
in the normalised text can be mapped back and redacted in the original.
Applying the normalisation to its own result returns the same text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["NormalizedText", "normalize_text", "normalize_with_offsets"]

NORMALIZER_VERSION = "1"
"""Changes whenever a step changes what a text normalises to."""

# Marks a deleted character between steps. Folding removes every control
# character, so the marker never occurs in folded text.
_DELETED = "\0"

# Look-alikes of each Latin letter, typed for this module. Uppercase forms
# are listed where they look unlike their lowercase form (Greek Eta looks like
# "h", eta like "n"), because the table is consulted before case folding.
# NOTE: the table applies in every script, so genuine Greek or Cyrillic words
# also fold to Latin letters; English lexicons rarely match the result.
_HOMOGLYPHS = {
    "a": "АаΑαɑɐᴀ⍺Ꭺ",
    "b": "ВвΒβЬьʙƅᏴᏏ",
    "c": "СсϲϹᴄᏟȼ",
    "d": "ԁᎠᴅɗđĐ",
    "e": "ЕеΕεᎬᴇɇҽ℮єЄ",
    "f": "ƒғҒϝ",
    "g": "ɡɢցԌԍǥᏀ",
    "h": "НнΗһҺհʜħĦᎻɦ",
    "i": "ІіΙιıɩɪᎥ",
    "j": "ЈјϳᎫᴊʝ",
    "k": "КкΚκᴋᏦƙ",
    "l": "ӏӀʟłŁƚᏞǀ׀",
    "m": "МмΜᴍᎷɱ",
    "n": "Νηпոɴƞ",
    "o": "ОоΟοσօᴏøØɵᎾ",
    "p": "РрΡρᴘᏢ",
    "q": "ԛԚզɋ",
    "r": "гʀɍᎡ",
    "s": "ЅѕꜱᏚʂ",
    "t": "ТтΤτᴛᎢŧƭ",
    "u": "μυսᴜʋ",
    "v": "νѵѴᴠᏙ",
    "w": "ωѡԝԜᴡшᎳɯ",
    "x": "ХхΧχҳ",
    "y": "УуΥγүҮʏᎽƴ",
    "z": "ΖᴢʐƶᏃȥ",
}

# Enclosed and emoji letters that have no compatibility decomposition, as
# the first code point of each A-to-Z block.
_LETTER_BLOCKS = (
    0x249C,  # parenthesized small a..z (their NFKD adds brackets)
    0x1F150,  # negative circled capital A..Z
    0x1F170,  # negative squared capital A..Z
    0x1F1E6,  # regional indicator symbols A..Z
)

_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc", "Cs"})


def _homoglyph_table() -> dict[str, str]:
    table = {glyph: latin for latin, glyphs in _HOMOGLYPHS.items() for glyph in glyphs}
    for first in _LETTER_BLOCKS:
        for index in range(26):
            table[chr(first + index)] = chr(ord("a") + index)
    return table


_HOMOGLYPH_TABLE = _homoglyph_table()


def _fold_once(char: str) -> str:
    """Fold one character: homoglyphs, NFKD, marks, invisibles, case."""
    if char in _HOMOGLYPH_TABLE:
        return _HOMOGLYPH_TABLE[char]
    if char.isspace():
        return " "
    pieces = []
    for piece in unicodedata.normalize("NFKD", char):
        if piece.isspace():
            pieces.append(" ")
        elif piece in _INVISIBLE or unicodedata.category(piece) in _DROPPED_CATEGORIES:
            continue
        elif piece in _HOMOGLYPH_TABLE:
            pieces.append(_HOMOGLYPH_TABLE[piece])
        else:
            for folded in unicodedata.normalize("NFKD", piece.casefold()):
                if unicodedata.category(folded) not in _DROPPED_CATEGORIES:
                    pieces.append(_HOMOGLYPH_TABLE.get(folded, folded))
    return "".join(pieces)


def _fold_char(char: str) -> str:
    """Fold one character until every character of the result is stable."""
    result = _fold_once(char)
    for _ in range(4):
        refolded = "".join(_fold_once(piece) for piece in result)
        if refolded == result:
            break
        result = refolded
    return result


class _FoldTable(dict[int, str]):
    """Translation table for ``str.translate`` that folds code points on first use."""

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_char(chr(codepoint))
        self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()
# ASCII characters that fold to no character or to several, such as control
# characters. A text without them folds one character to one.
_ASCII_UNEVEN = re.compile(
    "["
    + "".join(
        re.escape(chr(codepoint))
        for codepoint in range(128)
        if len(_FOLD_TABLE[codepoint]) != 1
    )
    + "]"
)

# --- steps after folding -----------------------------------------------------
# Each step returns a string of the same length as its input, with _DELETED in
# place of removed characters, so that offsets stay aligned.

_CAPITAL_I_RUN = re.compile(r"(?<=[a-z])I{2,}")
_EXTRA_SPACES = re.compile(r"^ +| +$| +(?= )")
_SPACED_RUN = re.compile(
    r"(?<![^\W_])([a-z0-9@$])\1*"
    r"(?P<sep>(?:(?![@$])[\W_]){1,3})"
    r"(?:([a-z0-9@$])\3*(?P=sep))+"
    r"([a-z0-9@$])\4*"
    r"(?![^\W_])"
)
_RUN_ELEMENTS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# A word character here is a letter, a digit, a leetspeak symbol or "*".
_WORD_CHAR = r"(?:[^\W_]|[@$!|*€¡])"
_PUNCTUATION_CHAR = r"(?:(?![@$!|*€¡\s])[\W_])"
_INNER_PUNCTUATION = re.compile(
    rf"(?<=[^\W_]|[@$!|*€¡]){_PUNCTUATION_CHAR}+(?={_WORD_CHAR})"
)
# After inner punctuation is removed, punctuation is left inside a token only
# between two digits, as in "3.14" or "v1.2".
_TOKEN = re.compile(rf"{_WORD_CHAR}+(?:{_PUNCTUATION_CHAR}+{_WORD_CHAR}+)*")
_HAS_PUNCTUATION = re.compile(_PUNCTUATION_CHAR)
_HAS_LETTER = re.compile(r"[a-z]")
_HAS_LEET = re.compile(r"[01345789@$!|€¡]")
_DIGIT_SUFFIX = re.compile(r"[a-z]+(?!([0-9])\1+$)[0-9]+")
_NUMBER_WITH_UNIT = re.compile(
    r"[0-9]+(?:st|nd|rd|th|s|am|pm|k|m|bn|b|g|x|p|d|h|hrs?|mins?|secs?|ms|ns|"
    r"kb|mb|gb|tb|px|pt|em|mm|cm|km|kg|mg|ml|l|lbs?|oz|ft|yrs?|v|w|kw|kwh|hz|"
    r"khz|mhz|ghz|fps|mph|kph|c|f)"
)
# A run of non-space characters that contains a leetspeak character. Tokens
# never contain spaces, so decoding such runs alone gives the same result as
# decoding the whole text.
_LEET_CHUNK = re.compile(r"(?<!\S)\S*?[01345789@$!|€¡]\S*")
_ONES_RUN = re.compile(r"1{2,}")
_LEET_TABLE = str.maketrans("01345789@$!|€¡", "oieastbgasilei")
_REPEATED_LETTER = re.compile(r"([a-z])\1{2,}")
_RARELY_DOUBLED = frozenset("ahijkquvwxy")


def _replace_capital_i_runs(text: str) -> str:
    return _CAPITAL_I_RUN.sub(lambda match: "l" * len(match.group()), text)


def _mark_extra_spaces(text: str) -> str:
    if "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return _EXTRA_SPACES.sub(lambda match: _DELETED * len(match.group()), text)


def _mark_spaced_run(match: re.Match[str]) -> str:
    run = match.group()
    if sum(char in _ASCII_LETTERS for char in run) < 2:
        return run
    return "".join(char if char in _RUN_ELEMENTS else _DELETED for char in run)


def _mark_spaced_runs(text: str) -> str:
    return _SPACED_RUN.sub(_mark_spaced_run, text)


def _mark_inner_punctuation_match(match: re.Match[str]) -> str:
    before = match.string[match.start() - 1]
    after = match.string[match.end()]
    if before.isdigit() and after.isdigit():
        return match.group()
    return _DELETED * len(match.group())


def _mark_inner_punctuation(text: str) -> str:
    return _INNER_PUNCTUATION.sub(_mark_inner_punctuation_match, text)


def _decode_leet_token(match: re.Match[str]) -> str:
    token = match.group()
    if token.isalpha() or token.isdigit():
        return token
    if not (_HAS_LETTER.search(token) and _HAS_LEET.search(token)):
        return token
    if (
        _HAS_PUNCTUATION.search(token)
        or _DIGIT_SUFFIX.fullmatch(token)
        or _NUMBER_WITH_UNIT.fullmatch(token)
        or (token[0] == "$" and token[1:2].isdigit())
    ):
        return token
    body = token.rstrip("!")
    body = _ONES_RUN.sub(lambda ones: "l" * len(ones.group()), body)
    return body.translate(_LEET_TABLE) + token[len(body) :]


def _decode_leet(text: str) -> str:
    # Only a token that contains one of these characters can change.
    if _HAS_LEET.search(text) is None:
        return text
    return _LEET_CHUNK.sub(_decode_leet_chunk, text)


def _decode_leet_chunk(match: re.Match[str]) -> str:
    return _TOKEN.sub(_decode_leet_token, match.group())


def _mark_repeated_letter(match: re.Match[str]) -> str:
    run = match.group()
    keep = 1 if run[0] in _RARELY_DOUBLED else 2
    return run[:keep] + _DELETED * (len(run) - keep)


def _mark_repeated_letters(text: str) -> str:
    return _REPEATED_LETTER.sub(_mark_repeated_letter, text)


# Leetspeak is decoded again after spaced letters are joined, because a run
# such as "k 1 l l" only becomes a token that mixes letters and digits then.
_STEPS: tuple[Callable[[str], str], ...] = (
    _mark_extra_spaces,
    _mark_inner_punctuation,
    _decode_leet,
    _mark_spaced_runs,
    _decode_leet,
    _mark_repeated_letters,
)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised text and where each of its characters came from.

    Attributes:
        text: The normalised text.
        offsets: For each character of ``text``, the offset in the original
            text of the character it came from. A character that folding
            expanded into several (``ß`` into ``ss``) gives the same offset
            to each of them.
    """

    text: str
    offsets: tuple[int, ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``text[start:end]`` to a span of the original text.

        The original span runs from the first to the last source character
        and so includes characters that normalisation removed between them,
        such as the spaces of ``k i l l``.

        Raises:
            ValueError: The span is empty or out of range.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(
                f"span {start}:{end} is empty or outside the normalised text "
                f"of length {len(self.text)}"
            )
        return self.offsets[start], self.offsets[end - 1] + 1


def normalize_text(text: str) -> str:
    """Normalise a text for matching; see the module docstring for the steps."""
    text = _replace_capital_i_runs(text).translate(_FOLD_TABLE)
    for step in _STEPS:
        text = step(text)
        if _DELETED in text:
            text = text.replace(_DELETED, "")
    return text


def normalize_with_offsets(text: str) -> NormalizedText:
    """Normalise a text as :func:`normalize_text` does and keep source offsets."""
    text = _replace_capital_i_runs(text)
    if text.isascii() and _ASCII_UNEVEN.search(text) is None:
        offsets = list(range(len(text)))
        text = text.translate(_FOLD_TABLE)
    else:
        pieces = [_FOLD_TABLE[ord(char)] for char in text]
        offsets = [index for index, piece in enumerate(pieces) for _ in piece]
        text = "".join(pieces)
    for step in _STEPS:
        marked = step(text)
        if _DELETED in marked:
            offsets = _drop_deleted(marked, offsets)
            marked = marked.replace(_DELETED, "")
        text = marked
    return NormalizedText(text, tuple(offsets))


_DELETED_RUN = re.compile(_DELETED + "+")


def _drop_deleted(marked: str, offsets: list[int]) -> list[int]:
    """Drop the offsets of the characters that a step marked as deleted."""
    kept: list[int] = []
    start = 0
    for run in _DELETED_RUN.finditer(marked):
        kept += offsets[start : run.start()]
        start = run.end()
    kept += offsets[start:]
    return kept
