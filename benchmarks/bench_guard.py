"""Benchmark the latency a guard adds per message, one classifier tier at a time.

Each tier (``pii``, ``toxicity``, ``refusal`` and ``lexicon`` when it is
registered) runs alone in a guard with the ``flag`` action, so every message
passes through and is judged. The guard wraps a python-function target that
returns at once. Per message, the script times the bare target and then the
guarded one, and reports the difference: the added latency, with the
classifier time that the guard records for comparison.

Messages are chat texts of a few hundred characters: the first 300-500
characters of model completions to JailbreakBench requests, cut at a word
boundary, from ``shared/datasets/refusal_direction_jbb_completions`` (both
refusals and compliant answers). The input stage sends each text as the
user message; the output stage returns it as the response.

Usage::

    python benchmarks/bench_guard.py                    # 2,000 messages per row
    python benchmarks/bench_guard.py --json guard.json  # also write JSON

Sends no network traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from redline.classifiers import classifier_names
from redline.guards import Guard
from redline.metrics import percentile
from redline.targets import GenerationParams, Target, TargetResponse, create_target

TIERS = ("pii", "toxicity", "refusal", "lexicon")
STAGES = ("input", "output")
MESSAGES = 2000
WARMUP = 200
MIN_CHARS, MAX_CHARS = 300, 500
DATASET = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "datasets"
    / "refusal_direction_jbb_completions"
)


async def instant_reply(messages: list[dict[str, str]]) -> str:
    """Return the system message's content, so the caller picks the response."""
    return messages[0]["content"]


def load_texts(count: int) -> list[str]:
    """Return ``count`` texts of 300-500 characters, cycling through the dataset."""
    texts: list[str] = []
    for path in sorted(DATASET.glob("*/jailbreakbench_*_evaluations.json")):
        completions = json.loads(path.read_text(encoding="utf-8"))["completions"]
        for completion in completions:
            text = _cut(completion["response"].strip())
            if len(text) >= MIN_CHARS:
                texts.append(text)
    if not texts:
        sys.exit(f"no completions found under {DATASET}")
    return [texts[i % len(texts)] for i in range(count)]


def _cut(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    space = text.rfind(" ", MIN_CHARS, MAX_CHARS)
    return text[: space if space > 0 else MAX_CHARS]


def conversation(stage: str, text: str) -> list[dict[str, str]]:
    """Return messages whose judged text, user message or response, is ``text``."""
    if stage == "input":
        return [
            {"role": "system", "content": "Thanks, noted."},
            {"role": "user", "content": text},
        ]
    return [
        {"role": "system", "content": text},
        {"role": "user", "content": "Tell me more."},
    ]


async def measure(
    tier: str, stage: str, texts: list[str], warmup: int
) -> dict[str, Any]:
    target: Target = create_target(f"python:{Path(__file__).resolve()}:instant_reply")
    filters = [{"classifier": tier, "action": "flag"}]
    guard = Guard(
        target,
        input_filters=filters if stage == "input" else [],
        output_filters=filters if stage == "output" else [],
    )
    params = GenerationParams()
    await guard.start()
    for text in texts[:warmup]:
        await guard.generate(conversation(stage, text), params)

    added_us: list[float] = []
    added_cpu_us: list[float] = []
    classifier_us: list[float] = []
    bare_us: list[float] = []
    for text in texts:
        messages = conversation(stage, text)
        bare, bare_cpu, _ = await _timed(target, messages, params)
        guarded, guarded_cpu, response = await _timed(guard, messages, params)
        assert response.guard is not None and len(response.guard) == 1
        classifier_us.append(response.guard[0]["latency_s"] * 1e6)
        bare_us.append(bare / 1000)
        added_us.append((guarded - bare) / 1000)
        added_cpu_us.append((guarded_cpu - bare_cpu) / 1000)
    await guard.close()
    return {
        "tier": tier,
        "stage": stage,
        "messages": len(texts),
        "mean_chars": round(statistics.fmean(len(t) for t in texts)),
        "added_p50_us": _percentile(added_us, 50),
        "added_p99_us": _percentile(added_us, 99),
        "added_cpu_p50_us": _percentile(added_cpu_us, 50),
        "added_cpu_p99_us": _percentile(added_cpu_us, 99),
        "classifier_p50_us": _percentile(classifier_us, 50),
        "classifier_p99_us": _percentile(classifier_us, 99),
        "bare_target_p50_us": _percentile(bare_us, 50),
    }


async def _timed(
    target: Target, messages: list[dict[str, str]], params: GenerationParams
) -> tuple[int, int, TargetResponse]:
    """Send one request and return its wall and thread CPU time in ns, and the response.

    CPU time leaves out time the thread waited while other processes ran,
    which dominates the wall-time tail on a shared machine.
    """
    wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
    response = await target.generate(messages, params)
    wall, cpu = time.perf_counter_ns() - wall, time.thread_time_ns() - cpu
    return wall, cpu, response


def _percentile(values: list[float], q: float) -> float:
    result = percentile(sorted(values), q)
    assert result is not None
    return round(result, 1)


def machine() -> dict[str, Any]:
    """Return the CPU, core count and Python version the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--messages",
        type=int,
        default=MESSAGES,
        help="Timed messages per row, after the warm-up.",
    )
    parser.add_argument(
        "--warmup", type=int, default=WARMUP, help="Untimed messages per row first."
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()

    registered = set(classifier_names())
    tiers = [tier for tier in TIERS if tier in registered]
    skipped = [tier for tier in TIERS if tier not in registered]
    texts = load_texts(args.messages)
    rows = [
        asyncio.run(measure(tier, stage, texts, args.warmup))
        for tier in tiers
        for stage in STAGES
    ]

    print(f"machine: {machine()}")
    if skipped:
        print(f"skipped (not registered): {', '.join(skipped)}")
    print()
    print(
        "| tier | stage | messages | mean chars | added p50 (µs) | added p99 (µs) "
        "| added CPU p50 (µs) | added CPU p99 (µs) | classifier p99 (µs) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['tier']} | {row['stage']} | {row['messages']} "
            f"| {row['mean_chars']} | {row['added_p50_us']} | {row['added_p99_us']} "
            f"| {row['added_cpu_p50_us']} | {row['added_cpu_p99_us']} "
            f"| {row['classifier_p99_us']} |"
        )
    if args.json is not None:
        data = {"machine": machine(), "skipped": skipped, "rows": rows}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
