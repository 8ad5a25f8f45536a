"""Settings of the runner: concurrency, timeouts and retry policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from redline.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Request settings of the runner.

    Attributes:
        concurrency: Requests in flight at once; None uses the target's
            default (1 for in-process models, 8 for HTTP endpoints).
        timeout_s: Limit on one request in seconds, retries excluded.
        max_retries: Extra tries after a retryable failure (HTTP 429, 5xx,
            timeout, connection error).
        backoff_base_s: First retry delay in seconds; doubles each retry.
        backoff_max_s: Upper bound on one computed retry delay in seconds.
        max_retry_after_s: Upper bound on a server's ``Retry-After`` wait in
            seconds; a longer request fails the attempt as unassessed.
        classify_batch: Responses judged and written per transaction at most.
        classify_wait_s: Seconds the writer waits for more responses to fill
            a batch after the first one arrives.
        jitter_seed: Seed of the random retry jitter.
        limit: Run only the first N cases of the suite, or all when None.
    """

    concurrency: int | None = None
    timeout_s: float = 120.0
    max_retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    max_retry_after_s: float = 60.0
    classify_batch: int = 64
    classify_wait_s: float = 0.05
    jitter_seed: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        _check_positive("concurrency", self.concurrency, allow_none=True)
        _check_positive("timeout_s", self.timeout_s)
        _check_positive("classify_batch", self.classify_batch)
        _check_positive("limit", self.limit, allow_none=True)
        if self.max_retries < 0:
            raise ConfigError(
                f"max_retries must be 0 or more, got {self.max_retries!r}"
            )
        if (
            self.backoff_base_s < 0
            or self.backoff_max_s < 0
            or self.max_retry_after_s < 0
        ):
            raise ConfigError(
                "backoff and Retry-After limits must be 0 or more seconds"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready data."""
        return asdict(self)


def _check_positive(name: str, value: float | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")
