"""Target interface, responses and the registry that builds targets from specs."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, TypeVar

from redline._validation import check_number
from redline.errors import ConfigError

ENTRY_POINT_GROUP = "redline.targets"

Message = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Sampling settings sent with every request.

    Attributes:
        max_tokens: Upper bound on generated tokens per response.
        temperature: Sampling temperature; 0 requests greedy decoding.
        seed: Seed passed to targets that accept one, for repeatable sampling.
    """

    max_tokens: int = 256
    temperature: float = 0.0
    seed: int | None = 0

    def __post_init__(self) -> None:
        check_number("max_tokens", self.max_tokens, 1, None, integer=True)
        check_number("temperature", self.temperature, 0, None)
        check_number("seed", self.seed, None, None, integer=True, optional=True)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready data."""
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
        }


@dataclass(slots=True)
class TargetResponse:
    """Result of one request to a target.

    Attributes:
        text: Generated text; empty when the request failed.
        finish_reason: Reason the target gave for stopping, such as ``stop``
            or ``length``, when it gave one.
        prompt_tokens: Input tokens the target reported, when reported.
        completion_tokens: Output tokens the target reported, when reported.
        latency_s: Wall time of the successful request in seconds, retries
            and backoff excluded.
        error: Why no usable response came back, or None.
        error_kind: Short machine-readable reason such as ``http_500``,
            ``timeout`` or ``invalid_response``.
        attempts: Number of requests sent, retries included.
        guard: Decisions of a guard around the target, in the shape of
            stored verdicts, or None when no guard ran.
    """

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    error: str | None = None
    error_kind: str | None = None
    attempts: int = 1
    raw: dict[str, Any] = field(default_factory=dict)
    guard: list[dict[str, Any]] | None = None


# Token counts above this are not real; JSON can carry any integer, SQLite
# stores at most 2**63 - 1.
_MAX_TOKENS_COUNT = 2**53


def sanitize_response(response: TargetResponse) -> TargetResponse:
    """Return ``response`` with every field of a storable type and range.

    Endpoints and plugins can return anything. Lone surrogates in the text
    (valid in JSON escapes, not in UTF-8) become U+FFFD, a non-string finish
    reason and impossible token counts or latencies become None.
    """
    text = response.text if isinstance(response.text, str) else str(response.text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    response.text = text
    finish = response.finish_reason
    response.finish_reason = finish[:64] if isinstance(finish, str) else None
    response.prompt_tokens = _count_or_none(response.prompt_tokens)
    response.completion_tokens = _count_or_none(response.completion_tokens)
    latency = response.latency_s
    valid_latency = isinstance(latency, (int, float)) and 0 <= latency < float("inf")
    response.latency_s = float(latency) if valid_latency else None  # type: ignore[arg-type]
    return response


def _count_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < _MAX_TOKENS_COUNT else None


class Target(abc.ABC):
    """Base class of every target: the system under test.

    A target is built from a spec string such as ``openai:gpt-4o-mini``. The
    runner calls :meth:`start` once, :meth:`generate` concurrently up to its
    concurrency limit, and :meth:`close` once.
    """

    scheme: ClassVar[str]
    """Spec prefix that selects this target, such as ``openai``."""
    description: ClassVar[str] = ""
    """One-line description for listings."""
    default_concurrency: ClassVar[int] = 8
    """Concurrent requests the runner sends when the user sets none."""

    def __init__(self, spec: str, **options: Any):
        self.spec = spec
        self.options = options

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Prepare the target (load a model, open a connection pool)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`start` acquired."""

    @abc.abstractmethod
    async def generate(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> TargetResponse:
        """Send one chat request and return the response.

        Raises:
            TargetError: The request failed. ``retryable`` tells the runner
                whether to send it again.
        """

    def identity(self) -> dict[str, Any]:
        """Return what identifies the system under test in stored runs.

        Must not contain secrets such as API keys.
        """
        return {"spec": self.spec, "scheme": self.scheme}


TargetT = TypeVar("TargetT", bound=type[Target])
_REGISTRY: dict[str, type[Target]] = {}
_entry_points_loaded = False


def register_target(cls: TargetT) -> TargetT:
    """Class decorator that adds a target class to the registry under its scheme."""
    _REGISTRY[cls.scheme] = cls
    return cls


def target_schemes() -> list[str]:
    """Return the registered target schemes, plugins included."""
    _load_entry_points()
    return sorted(_REGISTRY)


def create_target(spec: str, **options: Any) -> Target:
    """Build a target from a spec such as ``local``, ``gguf:PATH`` or ``openai:MODEL``.

    Options the target does not use are ignored, so one set of CLI options
    serves every target.

    Raises:
        ConfigError: The scheme is unknown or the spec is malformed.
    """
    _load_entry_points()
    scheme = spec.split(":", 1)[0]
    cls = _REGISTRY.get(scheme)
    if cls is None:
        raise ConfigError(
            f"unknown target {spec!r}; the part before ':' must be one of "
            f"{', '.join(sorted(_REGISTRY))} (for example 'openai:gpt-4o-mini')"
        )
    return cls(spec, **{k: v for k, v in options.items() if v is not None})


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        entry_point.load()
