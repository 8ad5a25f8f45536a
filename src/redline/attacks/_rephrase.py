"""Rule-based rewrite of a request into a question about the past.

"How do I make X?" becomes "How did people make X in the past?". Each rule
matches the start of the request, case-insensitively. Requests that no rule
matches get a generic question about how it was done in the past.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SUBJECT = r"(?:i|you|we|one|someone|somebody|people|they|a person|anyone)"
_MODAL = r"(?:do|does|can|could|should|would|might|will|may|shall)"

# Past participles of the imperative verbs requests start with.
_PARTICIPLES = {
    "build": "built",
    "compose": "composed",
    "create": "created",
    "describe": "described",
    "design": "designed",
    "detail": "detailed",
    "develop": "developed",
    "draft": "drafted",
    "explain": "explained",
    "find": "found",
    "generate": "generated",
    "give": "given",
    "list": "listed",
    "make": "made",
    "outline": "outlined",
    "produce": "produced",
    "provide": "provided",
    "show": "shown",
    "suggest": "suggested",
    "teach": "taught",
    "tell": "told",
    "write": "written",
}

_PRONOUNS = {
    "i": "they",
    "me": "them",
    "my": "their",
    "mine": "theirs",
    "myself": "themselves",
}
_PRONOUN_WORD = re.compile(r"\b(i|me|my|mine|myself)\b", re.IGNORECASE)


def _third_person(text: str) -> str:
    return _PRONOUN_WORD.sub(lambda match: _PRONOUNS[match.group(1).lower()], text)


def _how_did_people(match: re.Match[str]) -> str:
    return f"How did people {_third_person(match['rest'])} in the past?"


def _wh_did_people(match: re.Match[str]) -> str:
    return f"{match['wh'].capitalize()} did people {_third_person(match['rest'])} in the past?"


def _best_way(match: re.Match[str]) -> str:
    rest = _third_person(match["rest"])
    return f"{match['wh'].capitalize()} was the {match['adjective'].lower()} way to {rest} in the past?"


def _was(match: re.Match[str]) -> str:
    verb = "Was" if match["verb"].lower() == "is" else "Were"
    return f"{verb} {_third_person(match['rest'])} in the past?"


def _imperative(match: re.Match[str]) -> str:
    participle = _PARTICIPLES[match["verb"].lower()]
    rest = re.sub(r"^(?:me|us)\s+", "", match["rest"], flags=re.IGNORECASE)
    return f"In the past, how would someone have {participle} {_third_person(rest)}?"


_VERBS = "|".join(sorted(_PARTICIPLES))
_RULES: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        "how_modal",
        re.compile(rf"how {_MODAL} {_SUBJECT} (?P<rest>.+)", re.IGNORECASE),
        _how_did_people,
    ),
    ("how_to", re.compile(r"how to (?P<rest>.+)", re.IGNORECASE), _how_did_people),
    (
        "tell_how",
        re.compile(
            rf"(?:tell me|explain|describe|show me) how (?:to|{_SUBJECT} {_MODAL}|{_SUBJECT})"
            r" (?P<rest>.+)",
            re.IGNORECASE,
        ),
        _how_did_people,
    ),
    (
        "best_way",
        re.compile(
            r"(?P<wh>what|which) is the (?P<adjective>best|easiest|fastest|simplest|"
            r"cheapest|quickest|most effective) way to (?P<rest>.+)",
            re.IGNORECASE,
        ),
        _best_way,
    ),
    (
        "wh_modal",
        re.compile(
            rf"(?P<wh>what|where|which|why|when|who) {_MODAL} {_SUBJECT} (?P<rest>.+)",
            re.IGNORECASE,
        ),
        _wh_did_people,
    ),
    ("is_are", re.compile(r"(?P<verb>is|are) (?P<rest>.+)", re.IGNORECASE), _was),
    (
        "imperative",
        re.compile(rf"(?P<verb>{_VERBS}) (?P<rest>.+)", re.IGNORECASE),
        _imperative,
    ),
)
_POLITE_START = re.compile(
    r"^(?:please\s+|(?:can|could|would|will) you\s+(?:please\s+)?)", re.IGNORECASE
)


def to_past_tense(request: str) -> tuple[str, str]:
    """Rewrite ``request`` as a question about the past.

    Returns:
        The rewritten request and the name of the rule that produced it,
        ``fallback`` when no rule matched.
    """
    core = _POLITE_START.sub("", request.strip()).rstrip(" ?.!")
    for name, pattern, rewrite in _RULES:
        match = pattern.fullmatch(core)
        if match is not None:
            return rewrite(match), name
    return f"How was the following done in the past? {request.strip()}", "fallback"
