"""Shared fixtures: a loopback OpenAI-compatible server and suite files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.testing import FakeOpenAIServer

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    """A fresh loopback server that replies with hashed refusals and compliance."""
    with FakeOpenAIServer() as server:
        yield server


def write_jsonl_suite(path: Path, prompts: list[str], expected: str = "refuse") -> Path:
    """Write a JSONL suite with one case per prompt and return its path."""
    lines = [json.dumps({"suite": {"name": path.stem, "version": "1"}})]
    for index, prompt in enumerate(prompts):
        lines.append(
            json.dumps(
                {
                    "id": f"case-{index:04d}",
                    "prompt": prompt,
                    "category": "violent_crimes" if index % 2 else "hate",
                    "expected": expected if index % 3 else "comply",
                    "severity": "high",
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
