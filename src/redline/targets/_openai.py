"""Target for any endpoint that speaks the OpenAI Chat Completions API."""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from redline.errors import ConfigError, TargetError
from redline.targets._base import (
    GenerationParams,
    Message,
    Target,
    TargetResponse,
    register_target,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Status codes worth retrying: rate limiting, request timeout, and server errors.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
# httpcore 1.0 scans its whole pool on every request and release, so the cost
# per request grows with pool size. Several small clients keep it flat.
CONNECTIONS_PER_CLIENT = 16


@register_target
class OpenAITarget(Target):
    """Chat model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Spec: ``openai:MODEL``. Options: ``base_url`` (or ``REDLINE_BASE_URL``,
    then ``OPENAI_BASE_URL``), ``api_key`` (or ``REDLINE_API_KEY``, then
    ``OPENAI_API_KEY``), ``timeout`` in seconds, ``concurrency`` for the
    connection pool size, and ``extra_body`` merged into every request.
    Works with vLLM, Ollama, llama.cpp server and hosted APIs.
    """

    scheme = "openai"
    description = (
        "Any OpenAI-compatible Chat Completions endpoint (vLLM, Ollama, llama.cpp)"
    )
    default_concurrency = 8

    def __init__(self, spec: str, **options: Any):
        super().__init__(spec, **options)
        self.model = spec.partition(":")[2]
        if not self.model:
            raise ConfigError(
                f"target {spec!r} names no model; write 'openai:MODEL', "
                "for example 'openai:gpt-4o-mini'"
            )
        base_url = (
            options.get("base_url")
            or os.environ.get("REDLINE_BASE_URL")
            or os.environ.get("OPENAI_BASE_URL")
            or DEFAULT_BASE_URL
        )
        self.base_url = _checked_base_url(str(base_url))
        self.api_key = (
            options.get("api_key")
            or os.environ.get("REDLINE_API_KEY")
            or os.environ.get("OPENAI_API_KEY")
        )
        self.timeout = float(options.get("timeout", 60.0))
        self.pool_size = int(options.get("concurrency") or self.default_concurrency)
        self.extra_body: dict[str, Any] = dict(options.get("extra_body") or {})
        self._clients: list[httpx.AsyncClient] = []
        self._next_client: Iterator[httpx.AsyncClient] | None = None
        self._url = f"{self.base_url}/chat/completions"

    async def start(self) -> None:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        shards = math.ceil(self.pool_size / CONNECTIONS_PER_CLIENT)
        per_client = math.ceil(self.pool_size / shards)
        limits = httpx.Limits(
            max_connections=per_client, max_keepalive_connections=per_client
        )
        # Plain HTTP needs no TLS context, and loading the CA bundle costs
        # about 0.1 s per process.
        verify = not self.base_url.startswith("http://")
        self._clients = [
            httpx.AsyncClient(
                headers=headers,
                timeout=self.timeout,
                limits=limits,
                verify=verify,
            )
            for _ in range(shards)
        ]
        self._next_client = itertools.cycle(self._clients)
        logger.info("openai target %s at %s", self.model, self.base_url)

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients = []
        self._next_client = None

    def identity(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "scheme": self.scheme,
            "model": self.model,
            "base_url": self.base_url,
        }

    async def generate(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> TargetResponse:
        if self._next_client is None:
            raise RuntimeError("OpenAITarget.generate called before start()")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        body.update(self.extra_body)

        started = time.perf_counter()
        try:
            client = next(self._next_client)
            response = await client.post(self._url, content=json.dumps(body))
        except httpx.TimeoutException as exc:
            raise TargetError(
                f"request timed out after {self.timeout:g} s: {exc!r}",
                kind="timeout",
                retryable=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise TargetError(
                f"request to {self._url} failed: {exc!r}",
                kind="connection_error",
                retryable=True,
            ) from exc
        latency = time.perf_counter() - started
        if response.status_code != 200:
            raise _status_error(response)
        return _parse_completion(response.content, latency)


def _checked_base_url(base_url: str) -> str:
    """Return the base URL without a trailing slash, or raise ConfigError."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigError(f"invalid base URL {base_url!r}: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"invalid base URL {base_url!r}; give an http:// or https:// URL "
            "such as http://127.0.0.1:8000/v1"
        )
    return base_url.rstrip("/")


def _status_error(response: httpx.Response) -> TargetError:
    status = response.status_code
    # repr() keeps control characters from a hostile body out of terminals.
    detail = repr(response.text[:300])
    return TargetError(
        f"HTTP {status} from {response.request.url}: {detail}",
        kind=f"http_{status}",
        retryable=status in RETRYABLE_STATUS,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Return the wait in seconds that a ``Retry-After`` header requests.

    The header is either a number of seconds or an HTTP date (RFC 9110,
    section 10.2.3). Returns None when absent or unreadable.
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _parse_completion(content: bytes, latency: float) -> TargetResponse:
    """Build a response from a Chat Completions body, or raise on a malformed one."""
    try:
        data = json.loads(content)
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
        if not isinstance(text, str):
            raise TypeError(f"message content is {type(text).__name__}, not a string")
        usage = data.get("usage") or {}
        if not isinstance(usage, dict):
            raise TypeError(f"usage is {type(usage).__name__}, not an object")
        finish_reason = choice.get("finish_reason")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise TargetError(
            f"invalid Chat Completions response ({exc!r}): {content[:200]!r}",
            kind="invalid_response",
            retryable=False,
        ) from exc
    return TargetResponse(
        text=text,
        finish_reason=finish_reason,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        latency_s=latency,
    )
