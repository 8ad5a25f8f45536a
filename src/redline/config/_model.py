"""The ``redline.yaml`` project config: targets, suites, prices, spec and owner."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from redline.suites import HAZARDS_BY_CODE, HAZARDS_BY_SLUG

Bound = Literal["point", "lower", "upper"]
"""Value a rate threshold is checked against: the estimate or a 95% bound."""

COMPARE_METRICS = (
    "safety_pass_rate",
    "over_refusal_rate",
    "flagged_output_rate",
    "unassessed_rate",
)
CompareMetric = Literal[
    "safety_pass_rate", "over_refusal_rate", "flagged_output_rate", "unassessed_rate"
]
# Option names that hold secrets; they come from the environment, never a file.
_SECRET_OPTIONS = frozenset({"api_key"})


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True
    )


def _number_shorthand(key: str, value: Any) -> Any:
    """Read a bare number such as ``0.95`` as ``{key: 0.95}``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {key: value}
    return value


class MinRate(_Model):
    """Lowest acceptable value of a rate, such as the safety pass rate."""

    min: float = Field(ge=0, le=1)
    """Threshold, a proportion from 0 to 1."""
    bound: Bound = "point"
    """Value checked. ``point`` is the estimate. With ``lower`` the check
    passes only if the 95% lower bound is at least the threshold, and with
    ``upper`` it fails only if the 95% upper bound is below it."""
    require_data: bool | None = None
    """Fail when the rate has no data; None takes the spec's default."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _number_shorthand("min", value)


class MaxRate(_Model):
    """Highest acceptable value of a rate, such as the over-refusal rate."""

    max: float = Field(ge=0, le=1)
    """Threshold, a proportion from 0 to 1."""
    bound: Bound = "point"
    """Value checked. ``point`` is the estimate. With ``upper`` the check
    passes only if the 95% upper bound is at most the threshold, and with
    ``lower`` it fails only if the 95% lower bound exceeds it."""
    require_data: bool | None = None
    """Fail when the rate has no data; None takes the spec's default."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _number_shorthand("max", value)


class MaxValue(_Model):
    """Highest acceptable value of a figure without an interval: latency or cost."""

    max: float = Field(ge=0, allow_inf_nan=False)
    """Threshold, in the metric's unit (seconds, or currency per 1,000 cases)."""
    require_data: bool | None = None
    """Fail when the figure has no data; None takes the spec's default."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _number_shorthand("max", value)


class IncidentLimits(_Model):
    """Highest acceptable number of incidents, per severity and in total."""

    critical: int | None = Field(default=None, ge=0)
    """Maximum number of critical-severity incidents."""
    high: int | None = Field(default=None, ge=0)
    """Maximum number of high-severity incidents."""
    medium: int | None = Field(default=None, ge=0)
    """Maximum number of medium-severity incidents."""
    low: int | None = Field(default=None, ge=0)
    """Maximum number of low-severity incidents."""
    total: int | None = Field(default=None, ge=0)
    """Maximum number of incidents over all severities."""
    require_data: bool | None = None
    """Fail when the scope has no assessed attempt; None takes the spec's default."""

    def limits(self) -> dict[str, int]:
        """Return the set limits by severity name, ``total`` last."""
        names = ("critical", "high", "medium", "low", "total")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


class ScopeSpec(_Model):
    """Thresholds for one scope: the whole run, one category or one strategy."""

    safety_pass_rate: MinRate | None = None
    """Lowest safety pass rate: safe over assessed harmful attempts."""
    over_refusal_rate: MaxRate | None = None
    """Highest over-refusal rate: refused over assessed benign attempts."""
    flagged_output_rate: MaxRate | None = None
    """Highest share of assessed outputs that a content classifier flagged."""
    unassessed_rate: MaxRate | None = None
    """Highest share of attempts that could not be judged."""
    incidents: IncidentLimits | None = None
    """Highest incident counts per severity."""
    latency_p50_s: MaxValue | None = None
    """Highest median request latency, in seconds."""
    latency_p95_s: MaxValue | None = None
    """Highest 95th-percentile request latency, in seconds."""
    latency_p99_s: MaxValue | None = None
    """Highest 99th-percentile request latency, in seconds."""
    cost_per_1000_cases: MaxValue | None = None
    """Highest cost per 1,000 cases, in the currency of ``prices``."""


class Spec(_Model):
    """Release spec: the thresholds a run must meet for ``redline gate`` to pass."""

    require_data: bool = False
    """Default for thresholds: fail (true) or report "no data" (false) when a
    metric has nothing to measure, such as a category without attempts."""
    require_complete: bool = True
    """Fail the gate when the run did not complete."""
    overall: ScopeSpec = ScopeSpec()
    """Thresholds over the whole run."""
    categories: dict[str, ScopeSpec] = {}
    """Thresholds per hazard category, keyed by slug or S-code."""
    strategies: dict[str, ScopeSpec] = {}
    """Thresholds per attack strategy chain, such as ``base64``."""

    @field_validator("categories", mode="before")
    @classmethod
    def _known_categories(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        normalized = {}
        for key, scope in value.items():
            hazard = HAZARDS_BY_SLUG.get(key) or HAZARDS_BY_CODE.get(key)
            if hazard is None:
                raise ValueError(
                    f"unknown category {key!r}; accepted: {', '.join(HAZARDS_BY_SLUG)} "
                    "or their S-codes S1 to S14"
                )
            normalized[hazard.slug] = scope
        return normalized

    @field_validator("strategies", mode="before")
    @classmethod
    def _named_strategies(cls, value: Any) -> Any:
        # An empty key names no strategy, so its thresholds could never apply.
        if isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and not key.strip():
                    raise ValueError(
                        f"invalid strategy chain {key!r}; name one such as "
                        "'base64' or 'leetspeak+base64'"
                    )
        return value

    def is_empty(self) -> bool:
        """Return True when the spec sets no threshold at all."""
        scopes = [self.overall, *self.categories.values(), *self.strategies.values()]
        return not any(scope.model_dump(exclude_none=True) for scope in scopes)


class Price(_Model):
    """Token prices of one model."""

    input_per_million: float = Field(ge=0, allow_inf_nan=False)
    """Price of one million prompt tokens."""
    output_per_million: float = Field(ge=0, allow_inf_nan=False)
    """Price of one million completion tokens."""


class TargetSettings(_Model):
    """One named system under test."""

    spec: str = Field(min_length=1)
    """Target spec, such as ``openai:my-model`` or ``python:app.py:reply``."""
    base_url: str | None = None
    """Base URL of an OpenAI-compatible API."""
    options: dict[str, Any] = {}
    """Other target options; secrets such as ``api_key`` are not accepted."""

    @field_validator("options")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        secret = sorted(_SECRET_OPTIONS & set(value))
        if secret:
            raise ValueError(
                f"{secret[0]!r} must not be stored in a file; set REDLINE_API_KEY "
                "in the environment instead"
            )
        return value


class ClassifierEntry(_Model):
    """A classifier with options, as in ``--classifier-config``."""

    name: str = Field(min_length=1)
    """Registry name, such as ``judge``."""
    options: dict[str, Any] = {}
    """Options passed to the classifier."""


class StrategyEntry(_Model):
    """An attack strategy with parameters."""

    name: str = Field(min_length=1)
    """Registry name or chain, such as ``base64`` or ``leetspeak+base64``."""
    params: dict[str, Any] = {}
    """Parameters passed to the strategy."""


class CompareSettings(_Model):
    """How ``redline compare`` decides between regressed, improved and no change."""

    alpha: float = Field(default=0.05, gt=0, lt=1)
    """Significance level of each paired test."""
    metrics: list[CompareMetric] = [
        "safety_pass_rate",
        "over_refusal_rate",
        "flagged_output_rate",
    ]
    """Metrics whose paired test decides the verdict; the others are shown only."""
    latency_p95_max_increase: float | None = Field(
        default=None, ge=0, allow_inf_nan=False
    )
    """Relative p95 latency increase, such as 0.2 for +20%, past which the
    candidate counts as regressed when the paired sign test is significant."""
    cost_max_increase: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Relative increase of cost per 1,000 cases past which the candidate
    counts as regressed."""


class ProjectConfig(_Model):
    """Contents of ``redline.yaml``."""

    version: Literal[1] = 1
    """Config format version."""
    project: str | None = None
    """Name of the system under test, shown in reports."""
    owner: str | None = None
    """Person or team who owns release decisions; named when a compare regresses."""
    rollback_target: str | None = None
    """Release or target to roll back to when a candidate regresses."""
    targets: dict[str, TargetSettings] = {}
    """Named systems under test."""
    suites: list[str] = []
    """Built-in suite names or suite file paths."""
    strategies: list[str | StrategyEntry] = []
    """Attack strategies: names, chains or ``{name, params}`` mappings."""
    classifiers: list[str | ClassifierEntry] = []
    """Classifiers: names or ``{name, options}`` mappings."""
    prices: dict[str, Price] = {}
    """Token prices keyed by target spec (``openai:m``) or model name (``m``)."""
    spec: Spec = Spec()
    """Thresholds that ``redline gate`` checks."""
    compare: CompareSettings = CompareSettings()
    """Settings of ``redline compare``."""
