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
from collections.abc import Sequence
from pathlib import Path

from redline._validation import check_number
from redline.classifiers._base import (
    Classifier,
    ClassifierInput,
    Verdict,
    register_classifier,
)
from redline.classifiers._lexicon_match import Lexicon, LexiconMatch
from redline.classifiers._lexicon_schema import LexiconError, _merge_file, _Spec

__all__ = [
    "BUILTIN_LEXICON",
    "Lexicon",
    "LexiconClassifier",
    "LexiconError",
    "LexiconMatch",
    "load_lexicon",
]

BUILTIN_LEXICON = Path(__file__).parent / "data" / "lexicon.yaml"


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
