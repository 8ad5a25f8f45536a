"""Test helpers: a loopback OpenAI-compatible server with fault injection."""

from redline.testing._fake_server import (
    REFUSAL_TEXT,
    FakeOpenAIServer,
    Responder,
    hashed_responder,
)

__all__ = ["REFUSAL_TEXT", "FakeOpenAIServer", "Responder", "hashed_responder"]
