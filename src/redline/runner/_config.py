"""Settings of the runner: concurrency, timeouts and retry policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from redline._validation import check_number

# More concurrent requests than this only add scheduling overhead on one
# process, and each costs a coroutine and a queue slot.
MAX_CONCURRENCY = 4096


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
        check_number(
            "concurrency",
            self.concurrency,
            1,
            MAX_CONCURRENCY,
            integer=True,
            optional=True,
        )
        check_number("timeout_s", self.timeout_s, 0, None, low_open=True)
        check_number("max_retries", self.max_retries, 0, None, integer=True)
        check_number("backoff_base_s", self.backoff_base_s, 0, None)
        check_number("backoff_max_s", self.backoff_max_s, 0, None)
        check_number("max_retry_after_s", self.max_retry_after_s, 0, None)
        check_number("classify_batch", self.classify_batch, 1, None, integer=True)
        check_number("classify_wait_s", self.classify_wait_s, 0, None)
        check_number("jitter_seed", self.jitter_seed, None, None, integer=True)
        check_number("limit", self.limit, 1, None, integer=True, optional=True)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready data."""
        return asdict(self)
