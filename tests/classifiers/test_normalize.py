from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.classifiers import normalize_text
from redline.classifiers._normalize import (
    _HOMOGLYPH_TABLE,
    _HOMOGLYPHS,
    NormalizedText,
    normalize_with_offsets,
)

# (trick, text) pairs that must all normalise to "kill".
KILL_EVASIONS = [
    ("plain", "kill"),
    ("upper case", "KILL"),
    ("mixed case", "KiLl"),
    ("fullwidth", "ｋｉｌｌ"),
    ("mathematical bold", "𝐤𝐢𝐥𝐥"),
    ("mathematical script", "𝓀𝒾𝓁𝓁"),
    ("circled", "ⓚⓘⓛⓛ"),
    ("parenthesized", "⒦⒤⒧⒧"),
    ("negative squared", "🅺🅸🅻🅻"),
    ("regional indicators", "🇰🇮🇱🇱"),
    ("small capitals", "ᴋɪʟʟ"),
    ("cyrillic k", "кill"),
    ("greek kappa and iota", "κιll"),
    ("palochka for l", "kiӏӏ"),
    ("zero-width space", "k\u200bi\u200bl\u200bl"),
    ("zero-width joiners", "k\u200ci\u200dl\u2060l"),
    ("byte order mark", "\ufeffki\ufeffll"),
    ("soft hyphen", "ki\u00adll"),
    ("bidi controls", "\u202ekill\u202c"),
    ("bidi isolates", "k\u2066il\u2069l"),
    ("variation selector", "k\ufe0fill"),
    ("tag characters", "k\U000e0041ill"),
    ("hangul filler", "ki\u3164ll"),
    ("accent", "kíll"),
    ("zalgo marks", "k̷̢i̴̛l̸̨l̵̜"),
    ("leet 1", "k1ll"),
    ("leet ones for ll", "ki11"),
    ("leet bang", "k!ll"),
    ("leet pipes", "ki||"),
    ("capital I for l", "kiII"),
    ("spaced", "k i l l"),
    ("dotted", "k.i.l.l"),
    ("hyphenated", "k-i-l-l"),
    ("underscored", "k_i_l_l"),
    ("spaced dots", "k . i . l . l"),
    ("starred", "k*i*l*l"),
    ("newlines", "k\ni\nl\nl"),
    ("repeated letters", "kiiiill"),
    ("repeated every letter", "kkkiiiilllll"),
    ("inner punctuation", "ki.ll"),
    ("inner apostrophe", "ki'll"),
    ("surrounding spaces", "  kill  "),
    ("cyrillic and leet", "к1ll"),
    ("spaced and leet", "k 1 l l"),
    ("dotted leet", "k.1.l.l"),
    ("fullwidth leet", "ｋ１ｌｌ"),
    ("zero-width and repeated", "k\u200biiiiii\u200bll"),
    ("upper, spaced, accented", "K Í L L"),
    ("homoglyph, zero-width, repeated", "кі\u200bііlll"),
]


@pytest.mark.parametrize(("trick", "text"), KILL_EVASIONS)
def test_evasion_normalises_to_plain_word(trick, text):
    assert normalize_text(text) == "kill", trick


# (text, expected) pairs for other words and tricks.
WORD_EVASIONS = [
    ("sh!t", "shit"),
    ("$h1t", "shit"),
    ("@$$h0le", "asshole"),
    ("a55", "ass"),
    ("1d10t", "idiot"),
    ("n00b", "noob"),
    ("h4te", "hate"),
    ("b1tch", "bitch"),
    ("fuuuuck", "fuck"),
    ("stuuupiiid", "stupid"),
    ("ѕсunthоrре", "scunthorpe"),
    ("Ηello", "hello"),
    ("ѵеrmіո", "vermin"),
    ("i.d.i.o.t", "idiot"),
    ("U.S.A.", "usa."),
    ("don't", "dont"),
    ("You're", "youre"),
    ("ß", "ss"),
    ("ﬁne", "fine"),
]


@pytest.mark.parametrize(("text", "expected"), WORD_EVASIONS)
def test_word_evasion_normalised(text, expected):
    assert normalize_text(text) == expected


# Texts whose numbers, code and links must keep their shape.
UNCHANGED = [
    "2024",
    "$5",
    "$5bn",
    "3.14",
    "2024-01-01",
    "1,000,000",
    "v1.2.3",
    "mp3",
    "covid19",
    "sha256",
    "x86",
    "10am",
    "1990s",
    "5kg",
    "kill -9 1234",
    "wow!!!",
    "die!",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_numbers_and_code_keep_shape(text):
    assert normalize_text(text) == text


def test_spaced_phrase_joined_into_one_word():
    assert normalize_text("k i l l y o u") == "killyou"


def test_url_becomes_one_token():
    normalized = normalize_text("https://example.com/how-to-kill-a-process")
    assert " " not in normalized
    assert normalized != "kill"


def test_two_single_letters_not_joined():
    assert normalize_text("plan a b") == "plan a b"


def test_asterisk_mask_kept():
    assert normalize_text("f*ck") == "f*ck"


def test_whitespace_collapsed():
    assert normalize_text("one \t\n  two\u00a0\u2003three") == "one two three"


def test_non_latin_text_kept():
    assert normalize_text("東京 and ソウル") == "東京 and ソウル"


def test_offsets_point_at_source_characters():
    text = "I will K I L L you"
    result = normalize_with_offsets(text)
    start = result.text.index("kill")
    source_start, source_end = result.source_span(start, start + 4)
    assert text[source_start:source_end] == "K I L L"


def test_offsets_of_expanded_character():
    result = normalize_with_offsets("aßb")
    assert result.text == "assb"
    assert result.offsets == (0, 1, 1, 2)


def test_offsets_skip_removed_characters():
    result = normalize_with_offsets("k\u200bi\u200bl\u200bl")
    assert result.offsets == (0, 2, 4, 6)


def test_offsets_skip_ascii_control_characters():
    result = normalize_with_offsets("ki\x01ll now")
    assert result.text == "kill now"
    assert result.offsets == (0, 1, 3, 4, 5, 6, 7, 8)


def test_offsets_skip_extra_spaces():
    result = normalize_with_offsets(" a  b ")
    assert result.text == "a b"
    assert result.offsets == (1, 3, 4)


def test_leet_decoded_only_in_mixed_tokens():
    assert normalize_text("h3ll0 world 2024, k1ll!") == "hello world 2024, kill!"


def test_leet_decoded_in_several_words():
    assert normalize_text("1d10t\tand\nm0r0n") == "idiot and moron"


def test_source_span_rejects_empty_span():
    with pytest.raises(ValueError, match="empty or outside"):
        NormalizedText("ab", (0, 1)).source_span(1, 1)


def test_source_span_rejects_span_past_end():
    with pytest.raises(ValueError, match="empty or outside"):
        NormalizedText("ab", (0, 1)).source_span(0, 3)


TRICKY_ALPHABET = list("abIilk19!|@$*.,:-  _'04€¡5bЅοé\u0301\u200bß¼⒦2")
tricky_text = st.text(alphabet=st.sampled_from(TRICKY_ALPHABET), max_size=30)
any_text = st.text(max_size=60)


@settings(max_examples=500)
@given(st.one_of(tricky_text, any_text))
def test_normalisation_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=500)
@given(st.one_of(tricky_text, any_text))
def test_offsets_variant_matches_plain(text):
    assert normalize_with_offsets(text).text == normalize_text(text)


@settings(max_examples=500)
@given(st.one_of(tricky_text, any_text))
def test_offsets_in_bounds_and_ordered(text):
    result = normalize_with_offsets(text)
    assert len(result.offsets) == len(result.text)
    assert all(0 <= offset < len(text) for offset in result.offsets)
    assert list(result.offsets) == sorted(result.offsets)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_normalisation_never_raises(text):
    assert isinstance(normalize_text(text), str)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_surrogates_and_controls_removed(text):
    normalized = normalize_text(text)
    assert not any(0xD800 <= ord(char) <= 0xDFFF for char in normalized)
    assert "\0" not in normalized


def test_homoglyph_table_maps_to_ascii_letters():
    assert set(_HOMOGLYPH_TABLE.values()) <= set("abcdefghijklmnopqrstuvwxyz")


def test_homoglyph_listed_under_one_letter():
    glyphs = [glyph for group in _HOMOGLYPHS.values() for glyph in group]
    assert len(glyphs) == len(set(glyphs))


def test_homoglyphs_are_not_ascii():
    assert not any(glyph.isascii() for glyph in _HOMOGLYPH_TABLE)


@pytest.mark.parametrize("glyph", sorted(_HOMOGLYPH_TABLE))
def test_homoglyph_folds_to_its_letter(glyph):
    assert normalize_text(glyph) == _HOMOGLYPH_TABLE[glyph]
