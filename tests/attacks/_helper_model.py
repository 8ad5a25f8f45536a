"""A reversible stand-in for a translation model, used as a python target.

Translating into a language other than English wraps the text in tags named
after the language; translating from that language into English unwraps it.
So a round trip returns the original text.
"""

from __future__ import annotations

import re

_PROMPT = re.compile(
    r"from (?P<source>.+?) into (?P<language>.+?)\. .*?<text>\n(?P<text>.*)\n</text>$",
    re.DOTALL,
)


def fake_translation(prompt: str) -> str:
    """Return the fake translation that a translation prompt asks for."""
    match = _PROMPT.search(prompt)
    if match is None:
        return "not a translation prompt"
    source, language, text = match["source"], match["language"], match["text"]
    if language == "English":
        prefix, suffix = f"<{source}>", f"</{source}>"
        if text.startswith(prefix) and text.endswith(suffix):
            return text[len(prefix) : -len(suffix)]
        return f"untranslatable: {text}"
    return f"<{language}>{text}</{language}>"


def translate(messages: list[dict[str, str]]) -> str:
    """Python-target entry point: translate the last message."""
    return fake_translation(messages[-1]["content"])


def empty_reply(messages: list[dict[str, str]]) -> str:
    """Python-target entry point that returns an empty translation."""
    return ""
