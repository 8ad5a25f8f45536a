"""One request to a target with a timeout, retries and backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence

from redline.errors import TargetError
from redline.runner._config import RunConfig
from redline.targets import GenerationParams, Message, Target, TargetResponse
from redline.targets._base import sanitize_response

logger = logging.getLogger(__name__)


async def send_with_retries(
    target: Target,
    messages: Sequence[Message],
    params: GenerationParams,
    config: RunConfig,
    rng: random.Random,
    case_id: str,
) -> TargetResponse:
    """Send one request, retrying retryable failures; never raises TargetError.

    Delays follow exponential backoff with full jitter drawn from ``rng``;
    a ``Retry-After`` from the server replaces the computed delay. A failure
    that is final comes back as a response with ``error`` set.
    """
    requests = 0
    while True:
        requests += 1
        try:
            response = await asyncio.wait_for(
                target.generate(messages, params), timeout=config.timeout_s
            )
        except asyncio.TimeoutError:
            error = TargetError(
                f"no response within {config.timeout_s:g} s",
                kind="timeout",
                retryable=True,
            )
        except TargetError as exc:
            error = exc
        except Exception as exc:  # a target plugin bug must not stop the run
            logger.warning("case %s: target raised %r", case_id, exc)
            logger.debug("traceback of the target error", exc_info=True)
            error = TargetError(f"target raised {exc!r}", kind="target_exception")
        else:
            response.attempts = requests
            return sanitize_response(response)

        delay = _retry_delay(error, requests, config, rng)
        if delay is None:
            logger.info(
                "case %s failed after %d request(s): %s", case_id, requests, error
            )
            return TargetResponse(
                error=str(error), error_kind=error.kind, attempts=requests
            )
        logger.info(
            "case %s: %s; retry %d/%d in %.2f s",
            case_id,
            error.kind,
            requests,
            config.max_retries,
            delay,
        )
        await asyncio.sleep(delay)


def _retry_delay(
    error: TargetError, requests: int, config: RunConfig, rng: random.Random
) -> float | None:
    """Return seconds to wait before the next try, or None to give up."""
    if not error.retryable or requests > config.max_retries:
        return None
    if error.retry_after is not None:
        if error.retry_after > config.max_retry_after_s:
            return None
        return error.retry_after
    ceiling = min(config.backoff_max_s, config.backoff_base_s * 2 ** (requests - 1))
    # Full jitter (uniform in [ceiling/2, ceiling]) spreads retries of
    # concurrent requests that failed together.
    return ceiling * (0.5 + 0.5 * rng.random())
