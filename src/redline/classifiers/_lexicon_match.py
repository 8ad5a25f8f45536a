"""The compiled lexicon: term, allow phrase and pattern matching on normalised text."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from redline.classifiers._lexicon_patterns import (
    _WORD,
    _compile_pattern,
    _compile_sets,
    _Pattern,
    literal_requirement,
)
from redline.classifiers._lexicon_schema import LexiconError, _Entry, _Spec
from redline.classifiers._normalize import (
    NORMALIZER_VERSION,
    NormalizedText,
    normalize_text,
    normalize_with_offsets,
)

__all__ = ["Lexicon", "LexiconMatch"]

# Changes whenever matching changes; the lexicon content has its own digest.
_MATCHER_VERSION = "1"

_LETTER_RUN = re.compile(r"(.)\1*")
_REPEATS = re.compile(r"(.)\1+")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# Letters whose runs of three or more the normaliser cuts to one.
_RARELY_DOUBLED = frozenset("ahijkquvwxy")


@dataclass(frozen=True, slots=True)
class LexiconMatch:
    """One match of a lexicon entry in a text.

    Attributes:
        category: Category of the entry.
        weight: Weight of the entry in [0, 1].
        start: Offset of the first matched character in the original text.
        end: Offset one past the last matched character, as in
            ``text[start:end]``.
        entry: File and place of the entry, such as
            ``lexicon.yaml: categories.threat.terms[4]``. It never contains
            the matched text.
    """

    category: str
    weight: float
    start: int
    end: int
    entry: str


@functools.lru_cache(maxsize=65536)
def _letter_runs(word: str) -> tuple[int, ...]:
    return tuple(len(run.group()) for run in _LETTER_RUN.finditer(word))


@functools.lru_cache(maxsize=65536)
def _skeleton(word: str) -> str:
    """Return the word with every run of a repeated character cut to one."""
    return _REPEATS.sub(r"\1", word)


def _runs_fit(
    skeleton: str, expected: tuple[int, ...], actual: tuple[int, ...]
) -> bool:
    """Check run lengths of a text word against a lexicon word of the same skeleton.

    A single letter of the lexicon word may appear twice in the text, because
    the normaliser cuts long runs to two. A doubled letter that English
    rarely doubles may appear once, because the normaliser cuts its long runs
    to one. Other characters must repeat exactly as often.
    """
    for char, want, got in zip(skeleton, expected, actual, strict=True):
        if want == got:
            continue
        if char not in _ASCII_LETTERS:
            return False
        if not (want == 1 and got == 2) and not (got == 1 and char in _RARELY_DOUBLED):
            return False
    return True


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A compiled term or allow phrase: its category, weight and run lengths."""

    category: str | None
    weight: float
    runs: tuple[tuple[int, ...], ...]
    label: str


@dataclass(slots=True)
class _TextWord:
    start: int
    end: int
    text: str
    skeleton: str


@dataclass(frozen=True, slots=True)
class _Span:
    """A match or an allowed phrase in the normalised text.

    ``category`` is None for an allow phrase that applies to every category.
    """

    category: str | None
    weight: float
    start: int
    end: int
    label: str

    def overlaps(self, allowed: _Span) -> bool:
        """Check whether an allowed span overlaps this match and covers its category."""
        return (
            self.start < allowed.end
            and allowed.start < self.end
            and allowed.category in (None, self.category)
        )


# Phrases of up to this many words also match with any of their words written
# together ("i will killyou"); longer ones only with all of them together.
_MAX_JOINED_WORDS = 6


def _joined_forms(words: list[str]) -> list[list[str]]:
    """Return the phrase with each choice of adjacent words written together."""
    if len(words) > _MAX_JOINED_WORDS:
        return [words, ["".join(words)]]
    forms = []
    for mask in range(2 ** (len(words) - 1)):
        form = [words[0]]
        for index, word in enumerate(words[1:]):
            if mask >> index & 1:
                form[-1] += word
            else:
                form.append(word)
        forms.append(form)
    return forms


class _PhraseIndex:
    """Phrases indexed by the skeletons of their words, for word-by-word lookup."""

    def __init__(self) -> None:
        self._phrases: dict[tuple[str, ...], list[_Phrase]] = {}
        # Word counts of the phrases that start with each skeleton, ascending,
        # so that most text words need one lookup at most.
        self._lengths: dict[str, list[int]] = {}

    def add(
        self, words: list[str], category: str | None, weight: float, label: str
    ) -> None:
        plural = words[-1] + "s"
        forms = _joined_forms(words)
        if words[-1][-1] in _ASCII_LETTERS and words[-1][-1] != "s":
            forms += _joined_forms([*words[:-1], plural])
        for form in forms:
            key = tuple(_skeleton(word) for word in form)
            runs = tuple(_letter_runs(word) for word in form)
            self._phrases.setdefault(key, []).append(
                _Phrase(category, weight, runs, label)
            )
            lengths = self._lengths.setdefault(key[0], [])
            if len(form) not in lengths:
                lengths.append(len(form))
                lengths.sort()

    def find(self, words: list[_TextWord]) -> Iterator[tuple[int, int, _Phrase]]:
        """Yield ``(first word, one past the last word, phrase)`` for each match."""
        skeletons = [word.skeleton for word in words]
        for first, skeleton in enumerate(skeletons):
            for length in self._lengths.get(skeleton, ()):
                last = first + length
                if last > len(words):
                    break
                for phrase in self._phrases.get(tuple(skeletons[first:last]), ()):
                    if all(
                        _runs_fit(word.skeleton, runs, _letter_runs(word.text))
                        for word, runs in zip(
                            words[first:last], phrase.runs, strict=True
                        )
                    ):
                        yield first, last, phrase


def _phrase_words(entry: _Entry, kind: str) -> list[str]:
    if "*" in entry.text:
        raise LexiconError(
            f"{kind} {entry.text!r} contains '*', which texts use to mask letters; "
            "write the word in full, because the matcher already reads f*ck as fuck",
            path=entry.path,
            entry=entry.where,
        )
    words = _WORD.findall(normalize_text(entry.text))
    if not words:
        raise LexiconError(
            f"{kind} {entry.text!r} has no letters or digits after normalisation; "
            "remove it or write the words it should match",
            path=entry.path,
            entry=entry.where,
        )
    return words


class Lexicon:
    """A compiled policy lexicon: finds term and pattern matches in texts.

    Build it with :func:`load_lexicon`.

    Attributes:
        categories: Category names in file order.
        digest: Short sha256 of the file contents and of the normaliser and
            matcher versions; it changes whenever matching results may change.
    """

    def __init__(self, spec: _Spec):
        self.categories: tuple[str, ...] = tuple(spec.categories)
        material = "\n".join([NORMALIZER_VERSION, _MATCHER_VERSION, *spec.digests])
        self.digest = hashlib.sha256(material.encode()).hexdigest()[:12]
        self._terms = _PhraseIndex()
        self._allow = _PhraseIndex()
        self._patterns: list[_Pattern] = []
        self._vocabulary: dict[int, set[str]] = {}
        self._skeletons: set[str] = set()
        self._term_words: set[str] = set()

        sets = _compile_sets(spec)
        for items in spec.sets.values():
            for item in items:
                self._add_vocabulary(_WORD.findall(normalize_text(item.text)))
        for entry in spec.allow:
            self._add_phrase(self._allow, entry, None, 0.0, "allow phrase")
        for category in spec.categories.values():
            if not category.enabled:
                continue
            for entry in category.terms:
                weight = category.weight if entry.weight is None else entry.weight
                self._add_phrase(self._terms, entry, category.name, weight, "term")
            for entry in category.allow:
                self._add_phrase(self._allow, entry, category.name, 0.0, "allow phrase")
            for entry in category.patterns:
                weight = category.weight if entry.weight is None else entry.weight
                regex = _compile_pattern(entry, sets)
                requirement = literal_requirement(regex.pattern)
                self._patterns.append(
                    _Pattern(category.name, weight, regex, entry.label, requirement)
                )

    def _add_phrase(
        self,
        index: _PhraseIndex,
        entry: _Entry,
        category: str | None,
        weight: float,
        kind: str,
    ) -> None:
        words = _phrase_words(entry, kind)
        index.add(words, category, weight, entry.label)
        self._add_vocabulary(words)
        if index is self._terms and len(words) == 1:
            self._term_words.add(words[0])

    def _add_vocabulary(self, words: list[str]) -> None:
        for word in words:
            self._vocabulary.setdefault(len(word), set()).add(word)
            self._skeletons.add(_skeleton(word))

    def find(self, text: str) -> list[LexiconMatch]:
        """Return the matches in a text that no allow phrase cancels, by offset."""
        normalized = self._unmask(normalize_with_offsets(text))
        words = [
            _TextWord(
                match.start(), match.end(), match.group(), _skeleton(match.group())
            )
            for match in _WORD.finditer(normalized.text)
        ]
        allowed = [
            _Span(phrase.category, 0.0, words[first].start, words[last - 1].end, "")
            for first, last, phrase in self._allow.find(words)
        ]
        matches = []
        for span in [
            *self._term_spans(words),
            *self._pattern_spans(normalized.text, words),
        ]:
            if not any(span.overlaps(allow) for allow in allowed):
                start, end = normalized.source_span(span.start, span.end)
                category = span.category or ""
                matches.append(
                    LexiconMatch(category, span.weight, start, end, span.label)
                )
        return sorted(matches, key=lambda match: (match.start, match.end))

    def _term_spans(self, words: list[_TextWord]) -> Iterator[_Span]:
        for first, last, phrase in self._terms.find(words):
            start, end = words[first].start, words[last - 1].end
            yield _Span(phrase.category, phrase.weight, start, end, phrase.label)

    def _pattern_spans(self, text: str, words: list[_TextWord]) -> Iterator[_Span]:
        # The whole words of the text: runs of letters and digits. A word can
        # still contain "*" after unmasking, when a set item is written with one.
        present = set()
        for word in words:
            present.update(word.text.split("*"))
        for pattern in self._patterns:
            if not pattern.requirement.allows(text, present):
                continue
            for match in pattern.regex.finditer(text):
                if match.end() > match.start():
                    yield _Span(
                        pattern.category,
                        pattern.weight,
                        match.start(),
                        match.end(),
                        pattern.label,
                    )

    def _unmask(self, normalized: NormalizedText) -> NormalizedText:
        """Resolve each ``*`` inside a word before terms and patterns are matched.

        The ``*`` is dropped when the word without it is a lexicon word
        (``ki*ll``). Otherwise, when exactly one lexicon word of the same
        length has the other letters in place, or exactly one such word that
        is a term on its own, each ``*`` becomes that word's letter
        (``f*cking``, ``sh*t``). Otherwise the ``*`` is dropped.
        """
        if "*" not in normalized.text:
            return normalized
        pieces = []
        offsets: list[int] = []
        position = 0
        for match in _WORD.finditer(normalized.text):
            word = match.group()
            if "*" not in word:
                continue
            pieces.append(normalized.text[position : match.start()])
            offsets.extend(normalized.offsets[position : match.start()])
            resolved = self._resolve_masked(word)
            word_offsets = normalized.offsets[match.start() : match.end()]
            if len(resolved) != len(word):
                word_offsets = tuple(
                    offset
                    for offset, char in zip(word_offsets, word, strict=True)
                    if char != "*"
                )
            pieces.append(resolved)
            offsets.extend(word_offsets)
            position = match.end()
        pieces.append(normalized.text[position:])
        offsets.extend(normalized.offsets[position:])
        return NormalizedText("".join(pieces), tuple(offsets))

    def _resolve_masked(self, word: str) -> str:
        unmasked = word.replace("*", "")
        if _skeleton(unmasked) in self._skeletons:
            return unmasked
        fits = [
            known
            for known in self._vocabulary.get(len(word), ())
            if all(
                char in ("*", other) for char, other in zip(word, known, strict=True)
            )
        ]
        if len(fits) > 1:
            fits = [known for known in fits if known in self._term_words]
        return fits[0] if len(fits) == 1 else unmasked
