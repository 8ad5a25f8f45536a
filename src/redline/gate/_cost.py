"""Token cost of a run from the prices in ``redline.yaml``.

Costs are kept per role. Only the target's tokens are stored today, so every
cost has the role ``target``. Attacker and judge roles become more entries of
:attr:`ScopeMeasures.cost_by_role` once their tokens are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redline.config import Price
from redline.store import RunRecord

ROLES = ("target",)
"""Roles whose tokens a run stores and redline can price."""


@dataclass(frozen=True, slots=True)
class Cost:
    """Cost of one role's tokens in one scope of a run.

    Attributes:
        role: Who used the tokens, such as ``target``.
        price_key: Key of ``prices`` that priced them.
        prompt_tokens: Input tokens reported by the model.
        completion_tokens: Output tokens reported by the model.
        total: Cost of those tokens, in the currency of the prices.
        per_1000_cases: ``total`` scaled to 1,000 attempts.
    """

    role: str
    price_key: str
    prompt_tokens: int
    completion_tokens: int
    total: float
    per_1000_cases: float

    def to_dict(self) -> dict[str, Any]:
        """Return the cost as JSON-ready data."""
        return {
            "role": self.role,
            "price_key": self.price_key,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total": self.total,
            "per_1000_cases": self.per_1000_cases,
        }


def find_price(prices: Mapping[str, Price], run: RunRecord) -> tuple[str, Price] | None:
    """Return the price of a run's target: by target spec first, then by model name."""
    keys = [run.target_spec]
    model = run.target_identity.get("model")
    if model:
        keys.append(str(model))
    for key in keys:
        if key in prices:
            return key, prices[key]
    return None


def price_tokens(
    role: str,
    key: str,
    price: Price,
    prompt_tokens: int,
    completion_tokens: int,
    attempts: int,
) -> Cost:
    """Return the cost of a token count; ``attempts`` scales it to 1,000 cases."""
    total = (
        prompt_tokens * price.input_per_million
        + completion_tokens * price.output_per_million
    ) / 1_000_000
    per_1000 = total / attempts * 1000 if attempts else 0.0
    return Cost(role, key, prompt_tokens, completion_tokens, total, per_1000)


def missing_price_reason(run: RunRecord) -> str:
    """Say which ``prices`` keys would price a run's target."""
    keys = [repr(run.target_spec)]
    model = run.target_identity.get("model")
    if model and str(model) != run.target_spec:
        keys.append(repr(str(model)))
    return f"no price for {' or '.join(keys)} in the config's prices"
