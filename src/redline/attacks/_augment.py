"""Best-of-N augmentation: many randomly perturbed copies of the request.

The idea is the one known as Best-of-N jailbreaking: resample small random
changes to the text until one variant gets through. The three changes and
their default rates here are redline's own choice.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from pydantic import Field

from redline.attacks._base import (
    Strategy,
    StrategyParams,
    Variant,
    register_strategy,
    replace_request,
    request_of,
)
from redline.targets import Message

_WORD = re.compile(r"[^\W\d_]{4,}")
_FIRST_PRINTABLE, _LAST_PRINTABLE = 0x21, 0x7E


class BestOfNParams(StrategyParams):
    """Parameters of the best-of-N strategy."""

    n: int = Field(8, ge=1, le=1000)
    """Number of variants, each one attempt."""
    case_probability: float = Field(0.6, ge=0.0, le=1.0)
    """Chance that each letter's case is flipped."""
    noise_probability: float = Field(0.06, ge=0.0, le=1.0)
    """Chance that each printable ASCII character other than a space is
    shifted by one code point up or down."""
    shuffle_probability: float = Field(0.6, ge=0.0, le=1.0)
    """Chance that the inner letters of each word of four or more letters are
    shuffled, keeping its first and last letter."""


def augment(text: str, params: BestOfNParams, rng: random.Random) -> str:
    """Return one perturbed copy of ``text``: word shuffling, then noise, then casing."""
    shuffled = _WORD.sub(lambda match: _shuffle_word(match.group(), params, rng), text)
    chars = []
    for char in shuffled:
        code = ord(char)
        if _FIRST_PRINTABLE <= code <= _LAST_PRINTABLE:
            if rng.random() < params.noise_probability:
                step = rng.choice((-1, 1))
                code = min(max(code + step, _FIRST_PRINTABLE), _LAST_PRINTABLE)
                char = chr(code)
        if char.isalpha() and rng.random() < params.case_probability:
            char = char.swapcase()
        chars.append(char)
    return "".join(chars)


def _shuffle_word(word: str, params: BestOfNParams, rng: random.Random) -> str:
    if rng.random() >= params.shuffle_probability:
        return word
    inner = list(word[1:-1])
    rng.shuffle(inner)
    return word[0] + "".join(inner) + word[-1]


@register_strategy
class BestOfNStrategy(Strategy):
    """Send N copies of the request, each with random casing, noise and shuffling."""

    name = "best_of_n"
    description = (
        "N seeded variants with random casing, character noise and shuffled letters"
    )
    family = "augmentation"
    Params = BestOfNParams
    randomized = True

    def transform(
        self, messages: Sequence[Message], rng: random.Random
    ) -> list[Variant]:
        assert isinstance(self.params, BestOfNParams)
        request = request_of(messages)
        return [
            Variant(
                replace_request(messages, augment(request, self.params, rng)),
                label=f"variant {index}",
            )
            for index in range(self.params.n)
        ]
