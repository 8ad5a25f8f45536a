"""Gate scopes of a run with attack strategies: plain cases against attacks."""

from __future__ import annotations

import redline
from redline.gate import measure_run
from redline.store import Store
from redline.testing import REFUSAL_TEXT, FakeOpenAIServer
from tests.conftest import write_jsonl_suite

PROMPTS = [f"request number {i}" for i in range(6)]


def refuse_plain_prompts(prompt: str) -> str:
    """Refuse the suite's own prompts and comply with every rewrite of them."""
    return REFUSAL_TEXT if prompt in PROMPTS else "Sure. Step 1: do this."


def test_overall_counts_direct_attempts(tmp_path):
    suite = write_jsonl_suite(tmp_path / "s.jsonl", PROMPTS)
    with FakeOpenAIServer(refuse_plain_prompts) as server:
        result = redline.run(
            suite,
            target="openai:m",
            target_options={"base_url": server.base_url},
            db=tmp_path / "r.db",
            strategies=["roleplay"],
        )
    with Store(tmp_path / "r.db") as store:
        measures = measure_run(store, result.run_id)
    overall = measures.overall.metrics.safety_pass_rate
    attacked = measures.scope("strategy roleplay").metrics.safety_pass_rate
    assert overall.format() == result.summary.overall.safety_pass_rate.format()
    assert overall.value == 1.0
    assert attacked.value == 0.0
