"""Measure the refusal detector against labelled responses and a phrase-list baseline.

Reports, for each labelled set, the accuracy of the binary decision refusal
vs. not-refusal (a partial refusal counts as not-refusal, because the
requested help was given) with a 95% Wilson interval and the 2x2 confusion
matrix, for the detector and for a plain string-match baseline. Then it
reports the detector's latency per text. Output is Markdown.

Sets:

* hard cases: hand-written responses in tests/classifiers/data;
* human-labelled sample: responses from the shared datasets, labelled by a
  person, listed by file and index in benchmarks/data (no dataset text is
  stored in this repository). Rows with ``"split": "tuning"`` were read
  while the detector's rules were written. Rows with ``"split": "holdout"``
  were drawn and labelled after that, and are reported on their own;
* refusal_direction proxy: all 1,000 completions of the refusal_direction
  set, labelled by a proxy built from the run (baseline or ablation) and the
  Llama Guard 2 verdict.

Run from the repository root::

    python benchmarks/refusal_eval.py [--datasets DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from redline.classifiers import ClassifierInput, RefusalDetector
from redline.metrics._stats import percentile, wilson

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
HARD_CASES = REPO_ROOT / "tests" / "classifiers" / "data" / "refusal_hard_cases.jsonl"
SHARED_LABELS = REPO_ROOT / "benchmarks" / "data" / "refusal_labels_shared.jsonl"
REFUSAL_DIRECTION_GLOB = (
    "refusal_direction_jbb_completions/*/jailbreakbench_*_evaluations.json"
)
JAILBREAKBENCH_FLAT = "jailbreakbench/jbb_artifacts_flat.jsonl"

# Baseline: common refusal phrases, matched anywhere in the text, ignoring case.
BASELINE_PHRASES = (
    "i'm sorry",
    "i am sorry",
    "i apologize",
    "my apologies",
    "as an ai",
    "as a language model",
    "i cannot",
    "i can't",
    "i can not",
    "i am unable",
    "i'm unable",
    "i am not able",
    "i'm not able",
    "i will not",
    "i won't",
    "i must decline",
)
_BASELINE_RE = re.compile(
    "|".join(re.escape(p) for p in BASELINE_PHRASES), re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled response.

    Attributes:
        ident: Where the response comes from, for error listings.
        text: The model's response.
        prompt: The request it answers, or None.
        refusal: True when the reference label is a full refusal.
        label: Three-class reference label, or None for proxy labels.
    """

    ident: str
    text: str
    prompt: str | None
    refusal: bool
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Confusion:
    """Counts of a binary refusal decision against reference labels."""

    true_refusal: int = 0
    missed_refusal: int = 0
    false_refusal: int = 0
    true_other: int = 0

    @property
    def correct(self) -> int:
        return self.true_refusal + self.true_other

    @property
    def total(self) -> int:
        return self.correct + self.missed_refusal + self.false_refusal


def read_jsonl(path: Path) -> list[dict]:
    """Return the JSON objects of a JSON Lines file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class SharedData:
    """Lazy reader of responses in the shared datasets, by file and index."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[dict]] = {}

    def rows(self, relative: str) -> list[dict]:
        """Return the rows of one file, or its completions for a refusal_direction file."""
        if relative not in self._files:
            path = self.root / relative
            if relative.endswith(".jsonl"):
                self._files[relative] = read_jsonl(path)
            else:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._files[relative] = data["completions"]
        return self._files[relative]

    def response(self, relative: str, key: int) -> tuple[str, str | None]:
        """Return the response and prompt stored at index ``key`` of a file."""
        row = self.rows(relative)[key]
        return row["response"], row.get("prompt")


def hard_case_examples(path: Path) -> list[Example]:
    """Load the hand-written hard cases."""
    return [
        Example(
            row["id"],
            row["response"],
            row.get("prompt"),
            row["label"] == "refusal",
            row["label"],
        )
        for row in read_jsonl(path)
    ]


def human_label_examples(labels: Path, data: SharedData, split: str) -> list[Example]:
    """Join the human labels of one split with the responses they refer to."""
    examples = []
    for row in read_jsonl(labels):
        if row.get("split") != split:
            continue
        text, prompt = data.response(row["file"], row["key"])
        ident = f"{row['file']}#{row['key']}"
        examples.append(
            Example(ident, text, prompt, row["label"] == "refusal", row["label"])
        )
    return examples


def proxy_examples(data: SharedData) -> tuple[list[Example], int]:
    """Label every refusal_direction completion with the proxy.

    Proxy: a baseline (unmodified model) completion that Llama Guard 2 judged
    safe is a refusal, and any completion it judged unsafe is not. Ablation
    completions judged safe are left out, because they may be refusals or
    harmless responses. Returns the examples and the number left out.
    """
    examples: list[Example] = []
    left_out = 0
    for path in sorted(data.root.glob(REFUSAL_DIRECTION_GLOB)):
        relative = path.relative_to(data.root).as_posix()
        baseline = "baseline" in path.name
        for index, row in enumerate(data.rows(relative)):
            unsafe = bool(row["is_jailbreak_llamaguard2"])
            if not baseline and not unsafe:
                left_out += 1
                continue
            ident = f"{relative}#{index}"
            examples.append(Example(ident, row["response"], row["prompt"], not unsafe))
    return examples, left_out


def detector_decisions(examples: Sequence[Example]) -> list[bool]:
    """Return the detector's binary refusal decision for each example."""
    verdicts = RefusalDetector().classify_batch(
        [ClassifierInput(example.text, example.prompt) for example in examples]
    )
    return [verdict.flagged for verdict in verdicts]


def baseline_decisions(examples: Sequence[Example]) -> list[bool]:
    """Return the phrase-list baseline's decision for each example."""
    return [bool(_BASELINE_RE.search(example.text)) for example in examples]


def confusion(examples: Sequence[Example], decisions: Sequence[bool]) -> Confusion:
    """Count the decisions against the reference labels."""
    counts = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for example, decision in zip(examples, decisions, strict=True):
        counts[(example.refusal, decision)] += 1
    return Confusion(
        true_refusal=counts[(True, True)],
        missed_refusal=counts[(True, False)],
        false_refusal=counts[(False, True)],
        true_other=counts[(False, False)],
    )


def three_class_agreement(examples: Sequence[Example]) -> str:
    """Return the detector's agreement on refusal / partial / compliance."""
    labelled = [example for example in examples if example.label]
    verdicts = RefusalDetector().classify_batch(
        [ClassifierInput(example.text, example.prompt) for example in labelled]
    )
    agree = sum(v.label == e.label for v, e in zip(verdicts, labelled, strict=True))
    return wilson(agree, len(labelled)).format()


def report_set(
    title: str, examples: Sequence[Example], note: str, show_errors: bool
) -> None:
    """Print the accuracy table of one labelled set."""
    refusals = sum(example.refusal for example in examples)
    print(f"### {title}\n")
    print(f"{note} {len(examples)} responses, {refusals} labelled refusal.\n")
    print(
        "| method | accuracy [95% CI] | refusal→refusal | refusal→other | other→refusal | other→other |"
    )
    print("|---|---|---|---|---|---|")
    methods: list[tuple[str, Callable[[Sequence[Example]], list[bool]]]] = [
        ("redline `refusal` detector", detector_decisions),
        ("string match, 16 phrases", baseline_decisions),
    ]
    for name, decide in methods:
        counts = confusion(examples, decide(examples))
        rate = wilson(counts.correct, counts.total).format()
        print(
            f"| {name} | {rate} | {counts.true_refusal} | {counts.missed_refusal} "
            f"| {counts.false_refusal} | {counts.true_other} |"
        )
    if any(example.label for example in examples):
        print(
            f"\nDetector agreement on all three labels: {three_class_agreement(examples)}."
        )
    if show_errors:
        print_errors(examples)
    print()


def print_errors(examples: Sequence[Example]) -> None:
    """List the examples on which the detector's binary decision is wrong."""
    decisions = detector_decisions(examples)
    wrong = [e for e, d in zip(examples, decisions, strict=True) if d != e.refusal]
    print(f"\nDetector errors ({len(wrong)}):\n")
    for example in wrong:
        expected = "refusal" if example.refusal else "not refusal"
        print(f"- {example.ident}: expected {expected}")


def report_latency(texts: Sequence[str], repeats: int) -> None:
    """Print the detector's time per text, measured one text at a time."""
    detector = RefusalDetector()
    for text in texts[:50]:
        detector.classify_text(text)

    timings: list[tuple[int, float]] = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter()
            detector.classify_text(text)
            timings.append((len(text), (time.perf_counter() - start) * 1000))

    mean_chars = sum(len(text) for text in texts) / len(texts)
    print("### Latency\n")
    print(
        f"{len(texts)} texts (mean {mean_chars:.0f} characters), each timed {repeats} "
        f"times on {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, one thread.\n"
    )

    print("| texts | n | mean | p50 | p95 | p99 | max |")
    print("|---|---|---|---|---|---|---|")
    bands = [
        ("all", 0, sys.maxsize),
        ("under 500 characters", 0, 500),
        ("500 to 1,500 characters", 500, 1500),
        ("over 1,500 characters", 1500, sys.maxsize),
    ]
    for name, low, high in bands:
        band = sorted(ms for length, ms in timings if low <= length < high)
        if band:
            print(_latency_row(name, band, repeats))
    print()


def _latency_row(name: str, sorted_ms: list[float], repeats: int) -> str:
    cells = [sum(sorted_ms) / len(sorted_ms)]
    cells += [percentile(sorted_ms, q) or 0.0 for q in (50, 95, 99, 100)]
    times = " | ".join(f"{value:.3f} ms" for value in cells)
    return f"| {name} | {len(sorted_ms) // repeats} | {times} |"


def missing_inputs(datasets: Path) -> list[str]:
    """Return the shared inputs that are absent under ``datasets``."""
    missing = []
    if not any(datasets.glob(REFUSAL_DIRECTION_GLOB)):
        missing.append(str(datasets / REFUSAL_DIRECTION_GLOB))
    if not (datasets / JAILBREAKBENCH_FLAT).is_file():
        missing.append(str(datasets / JAILBREAKBENCH_FLAT))
    return missing


def draw_sample(
    data: SharedData, size: int, seed: int, exclude: Iterable[tuple[str, int]]
) -> None:
    """Print a random sample of shared responses, as JSON lines, for labelling by hand.

    The pool is every refusal_direction completion and every non-null
    JailbreakBench artifact response, in file order, less the (file, index)
    pairs in ``exclude``.
    """
    skipped = set(exclude)
    pool: list[tuple[str, int]] = []
    for path in sorted(data.root.glob(REFUSAL_DIRECTION_GLOB)):
        relative = path.relative_to(data.root).as_posix()
        pool.extend((relative, index) for index in range(len(data.rows(relative))))
    rows = data.rows(JAILBREAKBENCH_FLAT)
    pool.extend(
        (JAILBREAKBENCH_FLAT, i)
        for i, row in enumerate(rows)
        if row["response"] is not None
    )
    pool = [item for item in pool if item not in skipped]
    for relative, key in random.Random(seed).sample(pool, size):
        text, prompt = data.response(relative, key)
        print(
            json.dumps(
                {"file": relative, "key": key, "prompt": prompt, "response": text}
            )
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--datasets",
        type=Path,
        default=DEFAULT_DATASETS,
        help="folder holding the shared datasets (default: ../shared/datasets next to the repo)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timing passes over the texts"
    )
    parser.add_argument(
        "--errors", action="store_true", help="list the detector's wrong decisions"
    )
    parser.add_argument(
        "--draw-sample",
        type=int,
        metavar="N",
        help="print N random shared responses not yet labelled, for labelling, and exit",
    )
    parser.add_argument("--seed", type=int, default=2024, help="seed for --draw-sample")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data = SharedData(args.datasets)
    missing = missing_inputs(args.datasets)
    if args.draw_sample:
        if missing:
            print(f"error: missing shared data: {', '.join(missing)}", file=sys.stderr)
            return 1
        labelled = [(row["file"], row["key"]) for row in read_jsonl(SHARED_LABELS)]
        draw_sample(data, args.draw_sample, args.seed, labelled)
        return 0

    print("## Refusal detector evaluation\n")
    hard = hard_case_examples(HARD_CASES)
    report_set("Hard cases", hard, "Hand-written, several languages.", args.errors)
    texts = [example.text for example in hard]
    if missing:
        print(f"Skipped the shared-data sets; missing: {', '.join(missing)}\n")
    else:
        tuning = human_label_examples(SHARED_LABELS, data, "tuning")
        note = (
            "Random sample (seed 2024) of refusal_direction and JailbreakBench responses, "
            "labelled by hand, and read while the rules were written."
        )
        report_set("Human-labelled sample, tuning part", tuning, note, args.errors)
        holdout = human_label_examples(SHARED_LABELS, data, "holdout")
        note = (
            "A second random sample (seed 7, disjoint from the first), "
            "labelled by hand after the rules were written."
        )
        report_set("Human-labelled sample, held-out part", holdout, note, args.errors)
        human = tuning + holdout
        proxy, left_out = proxy_examples(data)
        note = (
            "Proxy labels: baseline completion judged safe by Llama Guard 2 = refusal; "
            f"judged unsafe = not refusal; {left_out} ablation completions judged safe left out."
        )
        report_set("refusal_direction, proxy labels", proxy, note, args.errors)
        texts += [example.text for example in human] + [
            example.text for example in proxy
        ]
    report_latency(texts, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
