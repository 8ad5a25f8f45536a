"""Loopback OpenAI-compatible server for tests, benchmarks and demos.

It serves ``POST /v1/chat/completions`` without any model. Markers in the
last user message trigger faults, so one suite can exercise every failure
path of a client:

- ``[[429]]``: HTTP 429 with ``Retry-After: 0`` on the first request for
  that prompt, a normal answer afterwards.
- ``[[500]]``: HTTP 500 on every request.
- ``[[503-once]]``: HTTP 503 on the first request, a normal answer afterwards.
- ``[[malformed]]``: HTTP 200 with a body that is not JSON.
- ``[[hang]]``: never answers, until the client gives up.
- ``[[empty]]``: HTTP 200 with empty content.

Any other prompt gets a deterministic answer: a refusal or a compliant
reply, chosen by the prompt's SHA-256 and ``refuse_ratio``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

Responder = Callable[[str], str]

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
_STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def hashed_responder(refuse_ratio: float = 0.5) -> Responder:
    """Return a responder that refuses a fixed share of prompts, chosen by hash."""

    def respond(prompt: str) -> str:
        bucket = hashlib.sha256(prompt.encode()).digest()[0] / 256
        if bucket < refuse_ratio:
            return REFUSAL_TEXT
        return f"Sure. Here is a detailed answer.\n1. First step about: {prompt[:60]}\n2. Done."

    return respond


class FakeOpenAIServer:
    """Minimal HTTP/1.1 keep-alive server speaking the Chat Completions API.

    Args:
        responder: Maps the last user message to the reply text.
        latency_s: Delay before each response, in seconds.
        host: Address to bind; only loopback addresses make sense.
        port: Port to bind; 0 picks a free one.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        latency_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.responder = responder or hashed_responder()
        self.latency_s = latency_s
        self.host = host
        self.port = port
        self.request_counts: Counter[str] = Counter()
        self.requests_total = 0
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Base URL to give a client, ending in ``/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    async def start_async(self) -> None:
        """Start serving on the running event loop."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        """Start and serve until cancelled."""
        await self.start_async()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    def start_in_thread(self) -> FakeOpenAIServer:
        """Serve from a background thread and return once the port is bound."""
        ready = threading.Event()

        def target() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start_async())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=target, name="fake-openai", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start within 10 s")
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start_in_thread`."""
        if self._loop is None or self._server is None:
            return
        loop, server = self._loop, self._server

        async def shutdown() -> None:
            server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                status, headers, body = await self._respond(*request)
                if status == 0:  # hang: keep the connection open and send nothing
                    await asyncio.Event().wait()
                writer.write(_format_response(status, headers, body))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _respond(
        self, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        self.requests_total += 1
        if method != "POST" or not path.endswith("/chat/completions"):
            return 404, {}, b'{"error": {"message": "not found"}}'
        try:
            payload = json.loads(body)
            prompt = _last_user_message(payload["messages"])
        except (ValueError, KeyError, TypeError):
            return 400, {}, b'{"error": {"message": "invalid request body"}}'
        self.request_counts[prompt] += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return self._reply(prompt, payload)

    def _reply(
        self, prompt: str, payload: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        seen = self.request_counts[prompt]
        if "[[hang]]" in prompt:
            return 0, {}, b""
        if "[[500]]" in prompt:
            return 500, {}, b'{"error": {"message": "internal error"}}'
        if "[[429]]" in prompt and seen == 1:
            return 429, {"Retry-After": "0"}, b'{"error": {"message": "rate limited"}}'
        if "[[503-once]]" in prompt and seen == 1:
            return 503, {}, b'{"error": {"message": "overloaded"}}'
        if "[[malformed]]" in prompt:
            return 200, {}, b'{"choices": [{"message": '
        text = "" if "[[empty]]" in prompt else self.responder(prompt)
        return 200, {}, _completion_body(payload.get("model", "fake"), prompt, text)


def _last_user_message(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    raise KeyError("no user message")


def _completion_body(model: str, prompt: str, text: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": len(prompt.split()),
                "completion_tokens": len(text.split()),
                "total_tokens": len(prompt.split()) + len(text.split()),
            },
        }
    ).encode()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return method, path, body


def _format_response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Status')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def main() -> None:
    """Serve from the command line: ``python -m redline.testing --port 8000``."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Loopback OpenAI-compatible test server."
    )
    parser.add_argument("--port", type=int, default=8000, help="TCP port on 127.0.0.1.")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="Delay before each response, in milliseconds.",
    )
    parser.add_argument(
        "--refuse-ratio",
        type=float,
        default=0.5,
        help="Share of prompts answered with a refusal, 0 to 1.",
    )
    args = parser.parse_args()
    server = FakeOpenAIServer(
        hashed_responder(args.refuse_ratio), args.latency_ms / 1000, port=args.port
    )
    print(f"serving on http://127.0.0.1:{args.port}/v1", flush=True)
    try:
        asyncio.run(server.serve_forever())
    except KeyboardInterrupt:
        pass
