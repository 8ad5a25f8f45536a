"""Compiling lexicon patterns, and the literal words each one requires.

Matching every pattern against every text is the main cost of the lexicon
classifier. :func:`literal_requirement` reads a pattern into the words and
substrings that any match must contain, so that the matcher runs a pattern
only on texts that contain them. The scan models a subset of Python's
regular expression syntax and gives up (the pattern then always runs) on
anything else, such as inline flags, back references and most escapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from typing import Any

from redline.classifiers._lexicon_schema import LexiconError, _Entry, _Spec
from redline.classifiers._normalize import normalize_text

_SET_REFERENCE = re.compile(r"(?<!\\)\{([a-z][a-z0-9_]*)\}")
_WORD = re.compile(r"[^\W_]+(?:\*+[^\W_]+)*")


def _trie_alternation(items: Iterable[str]) -> str:
    """Return a regex matching any of the strings, with shared prefixes merged."""
    trie: dict[str, Any] = {}
    for item in items:
        node = trie
        for char in item:
            node = node.setdefault(char, {})
        node[""] = {}
    return "(?:" + _trie_regex(trie) + ")"


def _trie_regex(node: dict[str, Any]) -> str:
    ends_here = "" in node
    branches = [
        re.escape(char) + _trie_regex(child)
        for char, child in sorted(node.items())
        if char
    ]
    if not branches:
        return ""
    if len(branches) == 1 and not ends_here:
        return branches[0]
    group = "(?:" + "|".join(branches) + ")"
    return group + "?" if ends_here else group


def _compile_sets(spec: _Spec) -> dict[str, str]:
    alternations = {}
    for name, items in spec.sets.items():
        normalized = []
        for item in items:
            text = normalize_text(item.text)
            if not _WORD.search(text):
                raise LexiconError(
                    f"set item {item.text!r} has no letters or digits after "
                    "normalisation; remove it",
                    path=item.path,
                    entry=item.where,
                )
            normalized.append(text)
        alternation = _trie_alternation(sorted(set(normalized)))
        alternations[name] = rf"(?<![^\W_]){alternation}s?(?![^\W_])"
    return alternations


# Parts of a pattern where uppercase letters do not stand for text: escapes
# such as \W or \N{...}, and group names.
_PATTERN_SYNTAX = re.compile(r"\\N\{[^}]*\}|\\.|\(\?P<[^>]*>|\(\?P=[^)]*\)")


def _check_pattern_form(entry: _Entry) -> None:
    """Raise LexiconError for a pattern that normalised text can never match."""
    literal = _PATTERN_SYNTAX.sub("", entry.text)
    if re.search(r"[A-Z]", literal):
        problem = "contains uppercase letters, but normalised text is lowercase"
    elif re.search(r"[a-z]['’][a-z]", literal):
        problem = (
            "contains an apostrophe inside a word, but normalisation removes it "
            "(write youre for you're)"
        )
    else:
        return
    raise LexiconError(
        f"pattern {entry.text!r} {problem}; rewrite it in the normalised form",
        path=entry.path,
        entry=entry.where,
    )


def _compile_pattern(entry: _Entry, sets: dict[str, str]) -> re.Pattern[str]:
    _check_pattern_form(entry)

    def expand(reference: re.Match[str]) -> str:
        name = reference.group(1)
        if name not in sets:
            known = ", ".join(sorted(sets)) or "none"
            raise LexiconError(
                f"pattern uses the unknown set {{{name}}}; defined sets: {known}. "
                "Add it under 'sets' or escape the brace as \\{",
                path=entry.path,
                entry=entry.where,
            )
        return sets[name]

    source = _SET_REFERENCE.sub(expand, entry.text)
    try:
        regex = re.compile(source)
    except re.error as exc:
        raise LexiconError(
            f"invalid regular expression {entry.text!r}: {exc}; fix the pattern or "
            "escape special characters with a backslash",
            path=entry.path,
            entry=entry.where,
        ) from exc
    if regex.fullmatch(""):
        raise LexiconError(
            f"pattern {entry.text!r} matches the empty string, so it would match "
            "every text; make at least one character required",
            path=entry.path,
            entry=entry.where,
        )
    return regex


def _class_end(source: str, start: int) -> int:
    """Return the offset of the ``]`` that closes the class opened at ``start``."""
    index = start + 1
    if source[index : index + 1] == "^":
        index += 1
    if source[index : index + 1] == "]":
        index += 1
    while index < len(source) and source[index] != "]":
        index += 2 if source[index] == "\\" else 1
    return index


# --- literal requirements ------------------------------------------------------

# In the strings below, this character stands for a zero-width assertion that
# the text character on its far side is neither a letter nor a digit: ``\b``,
# and the lookarounds that set expansions put around their items.
_BOUNDARY = "\0"
_NOT_ALNUM_BEFORE = r"(?<![^\W_])"
_NOT_ALNUM_AFTER = r"(?![^\W_])"
_EMPTY: frozenset[str] = frozenset({""})
_MARK: frozenset[str] = frozenset({_BOUNDARY})
# Strings kept per part of a pattern before the scan stops expanding it.
_MAX_STRINGS = 512
_REPEAT = re.compile(r"\{([0-9]*)(?:(,)([0-9]*))?\}")


@dataclass(frozen=True, slots=True)
class _Gap:
    """A part of a pattern whose strings are unknown or too many to list.

    Attributes:
        starts_apart: Every non-empty match starts with a boundary or with a
            character that is neither a letter nor a digit.
        ends_apart: The same for the last character.
        may_be_empty: The part can match the empty string.
    """

    starts_apart: bool = False
    ends_apart: bool = False
    may_be_empty: bool = True


_UNKNOWN = _Gap()

# The strings that one part of a pattern can match: a set of exact strings,
# or a gap.
_Part = frozenset[str] | _Gap


class _UnsupportedSyntax(Exception):
    """A construct that the scan does not model."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """Literal text that every match of a pattern contains.

    Attributes:
        words: Sets of words. For each set, a match contains one of its words
            as a whole word: a maximal run of letters and digits.
        substrings: Sets of strings. For each set, a match contains one of
            them as a substring.
    """

    words: tuple[frozenset[str], ...] = ()
    substrings: tuple[tuple[str, ...], ...] = ()

    def allows(self, text: str, words: Set[str]) -> bool:
        """Check that the text, with the given set of whole words, may match."""
        for required in self.words:
            if required.isdisjoint(words):
                return False
        return all(
            any(substring in text for substring in required)
            for required in self.substrings
        )


def literal_requirement(source: str) -> Requirement:
    """Return the literal text that every match of a pattern contains.

    ``source`` is the pattern as compiled, with set references expanded. The
    result is empty when the scan finds nothing or meets syntax it does not
    model, so a text it rejects can never match the pattern.
    """
    scanner = _Scanner(source)
    try:
        branches = scanner.alternation()
        if scanner.index != len(source):
            raise _UnsupportedSyntax(source)
    except _UnsupportedSyntax:
        return Requirement()
    if len(branches) == 1:
        return _sequence_requirement(branches[0])

    # A match comes from one branch, so it meets one branch's word set.
    words: set[str] = set()
    for branch in branches:
        requirement = _sequence_requirement(branch)
        if not requirement.words:
            return Requirement()
        words |= min(requirement.words, key=len)
    return Requirement(words=(frozenset(words),))


class _Scanner:
    """Reads a pattern into parts, each with the strings it can match."""

    def __init__(self, source: str):
        self.source = source
        self.index = 0

    def alternation(self) -> list[list[_Part]]:
        branches = [self._sequence()]
        while self.source.startswith("|", self.index):
            self.index += 1
            branches.append(self._sequence())
        return branches

    def _sequence(self) -> list[_Part]:
        parts = []
        while self.index < len(self.source) and self.source[self.index] not in "|)":
            parts.append(self._quantified(self._atom()))
        return parts

    def _atom(self) -> _Part:
        source = self.source
        for assertion in (_NOT_ALNUM_BEFORE, _NOT_ALNUM_AFTER):
            if source.startswith(assertion, self.index):
                self.index += len(assertion)
                return _MARK
        char = source[self.index]
        self.index += 1
        if char == "\\":
            return self._escape()
        if char == "[":
            self.index = _class_end(source, self.index - 1) + 1
            return _UNKNOWN
        if char == "(":
            return self._group()
        if char == ".":
            return _UNKNOWN
        if char in "^$":
            return _EMPTY
        if char in "*+?" or char == _BOUNDARY:
            raise _UnsupportedSyntax(source)
        return frozenset({char})

    def _escape(self) -> _Part:
        char = self.source[self.index : self.index + 1]
        self.index += 1
        if char == "b":
            return _MARK
        if char in ("B", "A", "Z"):
            return _EMPTY
        if char in ("d", "D", "s", "S", "w", "W"):
            return _UNKNOWN
        if char and char.isascii() and not char.isalnum():
            return frozenset({char})
        raise _UnsupportedSyntax(self.source)

    def _group(self) -> _Part:
        source, index = self.source, self.index
        assertion = False
        if source.startswith("?:", index):
            self.index += 2
        elif source.startswith("?P<", index):
            self.index = source.index(">", index) + 1
        elif source.startswith(("?=", "?!"), index):
            self.index += 2
            assertion = True
        elif source.startswith(("?<=", "?<!"), index):
            self.index += 3
            assertion = True
        elif source.startswith("?", index):
            # Inline flags change how literals match, and back references,
            # conditionals and comments are rare in lexicons.
            raise _UnsupportedSyntax(source)
        branches = self.alternation()
        if not source.startswith(")", self.index):
            raise _UnsupportedSyntax(source)
        self.index += 1
        if assertion:
            return _EMPTY
        strings: set[str] = set()
        for branch in branches:
            product = _product(branch)
            if product is None:
                return _UNKNOWN
            strings |= product
        return frozenset(strings) if len(strings) <= _MAX_STRINGS else _UNKNOWN

    def _quantified(self, part: _Part) -> _Part:
        """Apply the quantifier after the part, if there is one."""
        bounds = self._quantifier()
        if bounds is None:
            return part
        if self.source[self.index : self.index + 1] in ("?", "+"):
            self.index += 1  # lazy or possessive
        return _repeated(part, *bounds)

    def _quantifier(self) -> tuple[int, int | None] | None:
        """Read a quantifier as Python's ``re`` does: ``{`` alone is a literal."""
        source, index = self.source, self.index
        char = source[index : index + 1]
        if char in ("?", "*", "+"):
            self.index += 1
            return {"?": (0, 1), "*": (0, None), "+": (1, None)}[char]
        repeat = _REPEAT.match(source, index) if char == "{" else None
        if repeat is None or repeat.group() == "{}":
            return None
        self.index = repeat.end()
        upper = repeat[3] if repeat[2] else repeat[1]
        return int(repeat[1] or 0), int(upper) if upper else None


def _repeated(part: _Part, low: int, high: int | None) -> _Part:
    """Return what ``low`` to ``high`` repeats of a part can match."""
    if high == 0:
        return _EMPTY
    if low == 1 and high == 1:
        return part
    if isinstance(part, _Gap):
        return _UNKNOWN
    if low == 0 and high == 1:
        return part | _EMPTY

    filled = [string for string in part if string]
    if not filled:
        return _EMPTY
    return _Gap(
        starts_apart=all(_starts_apart(string) for string in filled),
        ends_apart=all(_ends_apart(string) for string in filled),
        may_be_empty=low == 0 or "" in part,
    )


def _product(parts: list[_Part]) -> set[str] | None:
    strings = {""}
    for part in parts:
        if isinstance(part, _Gap) or len(strings) * len(part) > _MAX_STRINGS:
            return None
        strings = {left + right for left in strings for right in part}
    return strings


def _sequence_requirement(parts: list[_Part]) -> Requirement:
    """Collect the words, or failing that the substrings, that a sequence needs.

    Neighbouring known parts are first merged into fewer, larger ones. A
    known part then requires one of its words when each of its strings has
    a whole word, judged with the parts on both sides.
    """
    merged = _merge_parts(parts)
    words: list[frozenset[str]] = []
    substrings: list[tuple[str, ...]] = []
    for part, before, after in _with_context(merged):
        if isinstance(part, _Gap):
            continue
        found = [_whole_words(before + string + after) for string in part]
        if found and all(found):
            words.append(_pick_words(found))
            continue
        literal = {string.replace(_BOUNDARY, "") for string in part}
        if len(literal) <= _MAX_SUBSTRINGS and all(
            len(string) >= _MIN_SUBSTRING for string in literal
        ):
            substrings.append(tuple(sorted(literal)))
    words.sort(key=len)
    # Each substring costs a search of the text, so they only stand in for
    # missing words.
    return Requirement(tuple(words), () if words else tuple(substrings))


def _pick_words(found: list[list[str]]) -> frozenset[str]:
    """Pick one whole word of each string, preferring few and rare words.

    A word that every string contains is enough alone. Otherwise each string
    gives its longest word, because longer words are usually rarer.
    """
    shared = set(found[0]).intersection(*found[1:])
    if shared:
        return frozenset({max(shared, key=lambda word: (len(word), word))})
    return frozenset(max(each, key=lambda word: (len(word), word)) for each in found)


def _merge_parts(parts: list[_Part]) -> list[_Part]:
    """Join neighbouring known parts where one of them has one or two strings.

    Large alternations stay apart, so that each gives its own word set.
    """
    merged: list[_Part] = []
    for part in parts:
        last = merged[-1] if merged else None
        if isinstance(last, frozenset) and isinstance(part, frozenset):
            small = min(len(last), len(part)) <= 2
            if small and len(last) * len(part) <= _MAX_STRINGS:
                merged[-1] = frozenset(left + right for left in last for right in part)
                continue
        merged.append(part)
    return merged


def _with_context(parts: list[_Part]) -> Iterator[tuple[_Part, str, str]]:
    """Yield each part with a boundary before and after it where one is certain.

    A boundary is certain before a part when every string of the previous
    part ends with a boundary or with a character that is neither a letter
    nor a digit. Where the previous part can be empty, the part before it
    must end so too. The same rule applies after a part.
    """
    before = [False] * len(parts)
    for index in range(1, len(parts)):
        before[index] = _ends_apart_part(parts[index - 1], before[index - 1])
    after = [False] * len(parts)
    for index in range(len(parts) - 2, -1, -1):
        after[index] = _starts_apart_part(parts[index + 1], after[index + 1])
    for index, part in enumerate(parts):
        yield (
            part,
            _BOUNDARY if before[index] else "",
            _BOUNDARY if after[index] else "",
        )


def _ends_apart_part(part: _Part, before: bool) -> bool:
    if isinstance(part, _Gap):
        return part.ends_apart and (before or not part.may_be_empty)
    return all(_ends_apart(string) if string else before for string in part)


def _starts_apart_part(part: _Part, after: bool) -> bool:
    if isinstance(part, _Gap):
        return part.starts_apart and (after or not part.may_be_empty)
    return all(_starts_apart(string) if string else after for string in part)


def _starts_apart(string: str) -> bool:
    return string[:1] == _BOUNDARY or (string != "" and not string[0].isalnum())


def _ends_apart(string: str) -> bool:
    return string[-1:] == _BOUNDARY or (string != "" and not string[-1].isalnum())


# Substring sets are kept only when small, because each string costs a search.
_MAX_SUBSTRINGS = 8
_MIN_SUBSTRING = 3


_ALNUM_RUN = re.compile(r"[^\W_]+")


def _whole_words(string: str) -> list[str]:
    """Return the runs of letters and digits that are whole words in any match.

    A run counts when the character on each side of it is in the string and
    is either a boundary or neither a letter nor a digit.
    """
    return [
        match.group()
        for match in _ALNUM_RUN.finditer(string)
        if match.start() > 0 and match.end() < len(string)
    ]


@dataclass(frozen=True, slots=True)
class _Pattern:
    category: str
    weight: float
    regex: re.Pattern[str]
    label: str
    requirement: Requirement
    """Literal text without which the pattern cannot match."""
