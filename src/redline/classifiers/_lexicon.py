"""Rule-based toxicity tier: policy lexicons in YAML matched on normalised text.

A lexicon file has this shape (every key but ``categories`` is optional)::

    format: 1                  # lexicon format version; only 1 exists
    description: Default policy lexicon.
    sets:                      # named phrase lists that patterns use as {name}
      group: [immigrants, jews, black people]
    allow:                     # phrases that cancel overlapping matches
      - kill the process       # in every category
    categories:
      threat:                  # lowercase letters, digits and "_"
        description: Threats of violence.
        weight: 0.9            # in [0, 1]; required for a new category
        enabled: true          # false drops the category's entries
        terms:                 # phrases matched word by word
          - i will kill you
          - {term: kys, weight: 0.8}
        patterns:              # regular expressions
          - '\\b{group} should be shot\\b'
          - {pattern: '\\bwatch your back\\b', weight: 0.6}
        allow: [kill the lights]   # cancels matches in this category only

Texts, terms, allow phrases and set items all pass through
:func:`~redline.classifiers._normalize.normalize_text` first. Terms and allow
phrases then match whole words: ``kill you`` matches ``KILL  y0u`` but not
``skill yourself``. Each letter of a term may appear once or twice
(``kiill``), and a final ``s`` is accepted (``idiots``). An ``*`` inside a
word stands for one letter (``f*ck``) when one lexicon word fits, and a
phrase of up to six words also matches with some of its words written
together (``i will killyou``). Patterns are searched in the normalised
text, so they must be written in its form: lowercase, apostrophes removed
(``youre``, ``dont``, ``ill`` for "I'll"), single spaces. Loading rejects
a pattern with uppercase letters or an apostrophe inside a word, because it
could never match. ``{name}`` in a pattern matches any item of the set
``name`` as whole words, with an optional final ``s``.

NOTE: patterns run on Python's backtracking ``re`` engine, which has no time
limit. Bound repeated groups, as in ``(?:{quantifier} ){0,3}``, because an
unbounded ``(...)*`` before a required part takes time quadratic in the text
length on texts that repeat the group.

An allow phrase cancels every match that overlaps it. The score of a
category is the highest weight among its matches, where an entry's own
weight takes the place of the category weight. The overall score is the
highest category score, flagged at the classifier threshold.

Extra lexicons merge on top of the first one in order. Their sets and
categories add items, terms, patterns and allow phrases to those of the same
name, and a ``weight`` or ``enabled`` they give replaces the category's.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from redline._validation import check_number
from redline.classifiers._base import (
    Classifier,
    ClassifierInput,
    Verdict,
    register_classifier,
)
from redline.classifiers._normalize import (
    NORMALIZER_VERSION,
    NormalizedText,
    normalize_text,
    normalize_with_offsets,
)
from redline.errors import ConfigError

__all__ = [
    "BUILTIN_LEXICON",
    "Lexicon",
    "LexiconClassifier",
    "LexiconError",
    "LexiconMatch",
    "load_lexicon",
]

BUILTIN_LEXICON = Path(__file__).parent / "data" / "lexicon.yaml"

FORMAT_VERSION = 1
"""Version of the lexicon file format."""

# Changes whenever matching changes; the lexicon content has its own digest.
_MATCHER_VERSION = "1"

_TOP_KEYS = ("format", "description", "sets", "allow", "categories")
_CATEGORY_KEYS = ("description", "weight", "enabled", "terms", "patterns", "allow")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SET_REFERENCE = re.compile(r"(?<!\\)\{([a-z][a-z0-9_]*)\}")
_WORD = re.compile(r"[^\W_]+(?:\*+[^\W_]+)*")
_LETTER_RUN = re.compile(r"(.)\1*")
_REPEATS = re.compile(r"(.)\1+")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# Letters whose runs of three or more the normaliser cuts to one.
_RARELY_DOUBLED = frozenset("ahijkquvwxy")


class LexiconError(ConfigError):
    """An invalid or unreadable lexicon file.

    Attributes:
        path: File the error was found in.
        entry: Where in the file, such as ``categories.threat.patterns[2]``.
    """

    def __init__(self, message: str, *, path: str, entry: str | None = None):
        where = f"lexicon {path}: " if entry is None else f"lexicon {path}: {entry}: "
        super().__init__(where + message)
        self.path = path
        self.entry = entry


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


# --- reading and checking files ----------------------------------------------


@dataclass(slots=True)
class _Entry:
    """A term, pattern, allow phrase or set item as written in a file."""

    text: str
    weight: float | None
    path: str
    where: str

    @property
    def label(self) -> str:
        return f"{Path(self.path).name}: {self.where}"


@dataclass(slots=True)
class _CategorySpec:
    name: str
    weight: float
    enabled: bool = True
    description: str = ""
    terms: list[_Entry] = field(default_factory=list)
    patterns: list[_Entry] = field(default_factory=list)
    allow: list[_Entry] = field(default_factory=list)


@dataclass(slots=True)
class _Spec:
    """The merged content of one or more lexicon files, not yet compiled."""

    sets: dict[str, list[_Entry]] = field(default_factory=dict)
    allow: list[_Entry] = field(default_factory=list)
    categories: dict[str, _CategorySpec] = field(default_factory=dict)
    digests: list[str] = field(default_factory=list)


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects duplicate mapping keys."""


def _construct_unique_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode
) -> dict[Any, Any]:
    keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate key {duplicates[0]!r}", node.start_mark
        )
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _read_file(path: Path) -> tuple[Any, bytes]:
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LexiconError(
            "file not found; pass the path of an existing YAML lexicon, "
            "or leave the option unset to use the built-in lexicon",
            path=name,
        ) from None
    except OSError as exc:
        raise LexiconError(f"cannot read file: {exc}", path=name) from exc
    try:
        document = yaml.load(data.decode("utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise LexiconError(
            f"not valid UTF-8 at byte {exc.start}; save the file as UTF-8", path=name
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        message = " ".join(str(exc).split())
        raise LexiconError(f"invalid YAML: {message}", path=name, entry=where) from exc
    except RecursionError as exc:
        raise LexiconError("values are nested too deeply", path=name) from exc
    return document, data


def _check_keys(
    value: Any, accepted: Sequence[str], path: str, where: str | None
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LexiconError(
            f"expected a mapping with keys {', '.join(accepted)}, "
            f"got {type(value).__name__} {value!r:.60}",
            path=path,
            entry=where,
        )
    for key in value:
        if key not in accepted:
            raise LexiconError(
                f"unknown key {key!r}; accepted keys: {', '.join(accepted)}. "
                "Remove it or correct its spelling",
                path=path,
                entry=where,
            )
    return value


def _check_weight(value: Any, path: str, where: str) -> float:
    valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not valid or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise LexiconError(
            f"weight must be a number from 0 to 1, got {value!r}; "
            "use for example 0.9 for a severe match and 0.3 for a mild one",
            path=path,
            entry=where,
        )
    return float(value)


def _check_text(value: Any, path: str, where: str, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LexiconError(
            f"{field_name} must be a non-empty string, got {value!r}; "
            "quote values that YAML reads as numbers, booleans or null",
            path=path,
            entry=where,
        )
    return value


def _read_entries(
    value: Any, key: str, path: str, where: str, *, weighted: bool
) -> list[_Entry]:
    """Read a list of strings, or of ``{key: str, weight: float}`` mappings."""
    if not isinstance(value, list):
        raise LexiconError(
            f"expected a list, got {type(value).__name__} {value!r:.60}; "
            "write one item per line starting with '- '",
            path=path,
            entry=where,
        )
    entries = []
    for index, item in enumerate(value):
        item_where = f"{where}[{index}]"
        weight = None
        if weighted and isinstance(item, dict):
            _check_keys(item, (key, "weight"), path, item_where)
            if key not in item:
                raise LexiconError(
                    f"missing {key!r}; write {{{key}: ..., weight: ...}} "
                    f"or a plain string",
                    path=path,
                    entry=item_where,
                )
            if "weight" in item:
                weight = _check_weight(item["weight"], path, f"{item_where}.weight")
            item = item[key]
        entries.append(
            _Entry(_check_text(item, path, item_where, key), weight, path, item_where)
        )
    return entries


def _merge_file(spec: _Spec, path: Path) -> None:
    """Check one lexicon file and merge it into ``spec``."""
    document, data = _read_file(path)
    name = str(path)
    if document is None:
        raise LexiconError("file is empty; add a 'categories' mapping", path=name)
    top = _check_keys(document, _TOP_KEYS, name, None)
    if "categories" not in top:
        raise LexiconError(
            "missing key 'categories'; add a mapping of category names "
            "(it may be empty in an extra lexicon)",
            path=name,
        )
    version = top.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise LexiconError(
            f"unsupported format {version!r}; the only format is {FORMAT_VERSION}",
            path=name,
            entry="format",
        )
    if "description" in top:
        _check_text(top["description"], name, "description", "description")

    sets = top.get("sets") or {}
    if not isinstance(sets, dict):
        raise LexiconError(
            f"expected a mapping of set names to lists, got {sets!r:.60}",
            path=name,
            entry="sets",
        )
    for set_name, items in sets.items():
        where = f"sets.{set_name}"
        _check_name(set_name, name, where)
        if items == []:
            raise LexiconError(
                "set is empty; add items or remove the set", path=name, entry=where
            )
        spec.sets.setdefault(set_name, []).extend(
            _read_entries(items, "item", name, where, weighted=False)
        )

    if "allow" in top:
        spec.allow.extend(
            _read_entries(top["allow"], "phrase", name, "allow", weighted=False)
        )

    categories = top["categories"] or {}
    if not isinstance(categories, dict):
        raise LexiconError(
            f"expected a mapping of category names, got {categories!r:.60}",
            path=name,
            entry="categories",
        )
    for category_name, body in categories.items():
        _merge_category(spec, category_name, body, name)
    spec.digests.append(hashlib.sha256(data).hexdigest())


def _check_name(value: Any, path: str, where: str) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise LexiconError(
            f"invalid name {value!r}; use lowercase letters, digits and '_', "
            "starting with a letter, such as 'self_harm'",
            path=path,
            entry=where,
        )


def _merge_category(spec: _Spec, category_name: Any, body: Any, path: str) -> None:
    where = f"categories.{category_name}"
    _check_name(category_name, path, where)
    body = _check_keys(body if body is not None else {}, _CATEGORY_KEYS, path, where)
    category = spec.categories.get(category_name)
    if category is None:
        if "weight" not in body:
            raise LexiconError(
                "missing 'weight' for a new category; add for example 'weight: 0.8'",
                path=path,
                entry=where,
            )
        weight = _check_weight(body["weight"], path, f"{where}.weight")
        category = spec.categories[category_name] = _CategorySpec(category_name, weight)
    elif "weight" in body:
        category.weight = _check_weight(body["weight"], path, f"{where}.weight")
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise LexiconError(
                f"enabled must be true or false, got {body['enabled']!r}",
                path=path,
                entry=f"{where}.enabled",
            )
        category.enabled = body["enabled"]
    if "description" in body:
        category.description = _check_text(
            body["description"], path, f"{where}.description", "description"
        )
    for key, target, item_key, weighted in (
        ("terms", category.terms, "term", True),
        ("patterns", category.patterns, "pattern", True),
        ("allow", category.allow, "phrase", False),
    ):
        if key in body:
            target.extend(
                _read_entries(
                    body[key], item_key, path, f"{where}.{key}", weighted=weighted
                )
            )


# --- compiling ---------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class _Pattern:
    category: str
    weight: float
    regex: re.Pattern[str]
    label: str
    required_sets: tuple[str, ...]
    """Sets that must have an item in the text for the pattern to match."""


def _required_sets(source: str) -> tuple[str, ...]:
    """Return the sets that a pattern references outside any group or class.

    Such a reference must match for the pattern to match, unless a
    quantifier follows it or the pattern has a top-level ``|``. The scan is
    conservative: it only skips a pattern when matching is impossible.
    """
    depth = 0
    required = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(source, index)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return ()
        elif char == "{" and depth == 0:
            reference = _SET_REFERENCE.match(source, index)
            if reference and source[reference.end() : reference.end() + 1] not in (
                "?",
                "*",
                "{",
            ):
                required.append(reference.group(1))
        index += 1
    return tuple(required)


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


# --- matching ----------------------------------------------------------------


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
                required = _required_sets(entry.text)
                self._patterns.append(
                    _Pattern(category.name, weight, regex, entry.label, required)
                )
        self._set_regexes = {
            name: re.compile(alternation) for name, alternation in sets.items()
        }

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
        for span in [*self._term_spans(words), *self._pattern_spans(normalized.text)]:
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

    def _pattern_spans(self, text: str) -> Iterator[_Span]:
        present: dict[str, bool] = {}
        for pattern in self._patterns:
            if not all(
                self._set_present(name, text, present) for name in pattern.required_sets
            ):
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

    def _set_present(self, name: str, text: str, cache: dict[str, bool]) -> bool:
        if name not in cache:
            cache[name] = self._set_regexes[name].search(text) is not None
        return cache[name]

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


def load_lexicon(
    path: str | Path | None = None, extra: Sequence[str | Path] = ()
) -> Lexicon:
    """Read, check, merge and compile lexicon files.

    Args:
        path: Base lexicon file; None selects the built-in lexicon.
        extra: Files merged on top of the base, in order.

    Raises:
        LexiconError: A file is missing, unreadable or invalid. The message
            names the file and the entry.
    """
    paths = (BUILTIN_LEXICON if path is None else Path(path), *map(Path, extra))
    if path is None and not extra:
        return _builtin_lexicon()
    spec = _Spec()
    for file_path in paths:
        _merge_file(spec, file_path)
    return Lexicon(spec)


@functools.lru_cache(maxsize=1)
def _builtin_lexicon() -> Lexicon:
    spec = _Spec()
    _merge_file(spec, BUILTIN_LEXICON)
    return Lexicon(spec)


# --- classifier --------------------------------------------------------------


@register_classifier
class LexiconClassifier(Classifier):
    """Rule-based toxicity tier over normalised text and YAML policy lexicons.

    The text is first normalised against evasions such as homoglyphs,
    leetspeak, invisible characters and spaced or repeated letters. Then the
    terms and patterns of each category are matched. The built-in lexicon
    covers insults, profanity, slurs, threats, dehumanising and hateful
    statements about groups, self-harm encouragement, sexual content and
    extremist slogans. ``scores`` has one entry per category, the highest
    weight matched in it. The rationale names categories and match counts,
    never the matched words.
    """

    name = "lexicon"
    kind = "content"
    description = (
        "Rule-based toxicity tier: normalised text matched against YAML lexicons "
        "of insults, slurs, threats and implicit hate"
    )

    def __init__(
        self,
        threshold: float = 0.5,
        lexicon: str | Path | None = None,
        extra_lexicons: Sequence[str | Path] | str | Path = (),
    ):
        check_number("lexicon threshold", threshold, 0.0, 1.0, low_open=True)
        if isinstance(extra_lexicons, (str, Path)):
            extra_lexicons = [extra_lexicons]
        self.threshold = float(threshold)
        self.lexicon = load_lexicon(lexicon, extra_lexicons)

    @property
    def version(self) -> str:  # type: ignore[override]
        return f"{self.lexicon.digest}@{self.threshold:g}"

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        return [self._verdict(self.lexicon.find(item.text)) for item in items]

    def _verdict(self, matches: list[LexiconMatch]) -> Verdict:
        scores = dict.fromkeys(self.lexicon.categories, 0.0)
        counts = dict.fromkeys(self.lexicon.categories, 0)
        for match in matches:
            scores[match.category] = max(scores[match.category], match.weight)
            counts[match.category] += 1
        score = max(scores.values(), default=0.0)
        flagged = score >= self.threshold
        return Verdict(
            classifier=self.name,
            label="toxic" if flagged else "clean",
            flagged=flagged,
            score=score,
            scores=scores,
            rationale=self._rationale(scores, counts),
        )

    def _rationale(self, scores: dict[str, float], counts: dict[str, int]) -> str:
        def describe(names: list[str]) -> str:
            return ", ".join(
                f"{name} ({counts[name]} match{'es' if counts[name] > 1 else ''}, "
                f"max {scores[name]:.2f})"
                for name in sorted(names, key=lambda name: -scores[name])
            )

        strong = [
            name
            for name, count in counts.items()
            if count and scores[name] >= self.threshold
        ]
        weak = [name for name, count in counts.items() if count and name not in strong]
        if strong:
            return "matched " + describe(strong)
        if weak:
            return f"no match at or above {self.threshold:g}; weaker: {describe(weak)}"
        return "no lexicon match"
