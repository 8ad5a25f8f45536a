"""Measure the lexicon tier and the profanity model on ToxiGen demonstrations.

The ToxiGen demonstration sentences (Microsoft TOXIGEN repository, folder
``demonstrations``) are short human-written statements about 14 target
groups. A file named ``hate_*`` contains implicitly hateful statements and one
named ``neutral_*`` neutral or supportive ones. The data is read from the
shared datasets folder and never copied into this repository.

The script scores three classifiers: ``lexicon``, ``toxicity``
(alt-profanity-check) and their combination, which is flagged when either
is and scored by the higher score. For each it prints precision, recall and
F1 at the default threshold of 0.5, with 95% Wilson intervals, and the area
under the precision-recall curve, over all lines and over the distinct
lines, because the religion folder repeats some files. Then it
prints the per-family recall and false-positive rate, and the latency per
message of the normaliser and of the lexicon classifier, as wall-clock and
as CPU time of the calling thread. Output is Markdown.

Run from the repository root::

    python benchmarks/toxicity_rules_eval.py [--datasets DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from redline.classifiers import (
    ClassifierInput,
    LexiconClassifier,
    ProfanityCheckClassifier,
    normalize_text,
)
from redline.metrics._stats import percentile, wilson

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
TOXIGEN_FOLDER = "toxigen_demonstrations"
THRESHOLD = 0.5
MESSAGE_LENGTH = 500
LATENCY_MESSAGES = 400
LATENCY_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Example:
    """One ToxiGen line.

    Attributes:
        family: Folder of the target group, such as ``race``.
        group: Target group from the file name, such as ``black``.
        text: The sentence.
        hateful: True for lines from ``hate_*`` files.
    """

    family: str
    group: str
    text: str
    hateful: bool


def read_toxigen(folder: Path) -> list[Example]:
    """Read every non-empty line of the ``hate_*`` and ``neutral_*`` files."""
    examples = []
    for path in sorted(folder.glob("*/*.txt")):
        label, _, group = path.stem.partition("_")
        if label not in ("hate", "neutral"):
            continue
        group = group.removesuffix("_sentences")
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                examples.append(
                    Example(path.parent.name, group, line.strip(), label == "hate")
                )
    return examples


def distinct(examples: Sequence[Example]) -> list[Example]:
    """Return the examples without repeated sentences, keeping the first of each."""
    seen: set[str] = set()
    unique_examples = []
    for example in examples:
        if example.text not in seen:
            seen.add(example.text)
            unique_examples.append(example)
    return unique_examples


def average_precision(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Return the area under the precision-recall curve as average precision.

    AP = sum over distinct score thresholds, from high to low, of
    (R_k - R_(k-1)) * P_k, where P_k and R_k are the precision and recall
    when every text scoring at least the k-th threshold is flagged. Tied
    scores form one step, as in scikit-learn's ``average_precision_score``
    (checked against scikit-learn 1.9.1 on random scores with ties).
    """
    positives = sum(labels)
    if positives == 0:
        return float("nan")
    pairs = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    area = 0.0
    true_positives = flagged = 0
    previous_recall = 0.0
    index = 0
    while index < len(pairs):
        threshold = pairs[index][0]
        while index < len(pairs) and pairs[index][0] == threshold:
            true_positives += pairs[index][1]
            flagged += 1
            index += 1
        recall = true_positives / positives
        area += (recall - previous_recall) * (true_positives / flagged)
        previous_recall = recall
    return area


@dataclass(frozen=True, slots=True)
class Scored:
    """Scores and decisions of one classifier on a list of examples."""

    name: str
    scores: list[float]
    flagged: list[bool]


def score_examples(examples: Sequence[Example]) -> list[Scored]:
    """Score the examples with the lexicon, the profanity model and both."""
    inputs = [ClassifierInput(example.text) for example in examples]
    results = []
    for name, classifier in (
        ("lexicon", LexiconClassifier(threshold=THRESHOLD)),
        ("toxicity", ProfanityCheckClassifier(threshold=THRESHOLD)),
    ):
        verdicts = classifier.classify_batch(inputs)
        results.append(
            Scored(name, [v.score for v in verdicts], [v.flagged for v in verdicts])
        )
    lexicon, toxicity = results
    results.append(
        Scored(
            "lexicon or toxicity",
            [max(a, b) for a, b in zip(lexicon.scores, toxicity.scores, strict=True)],
            [a or b for a, b in zip(lexicon.flagged, toxicity.flagged, strict=True)],
        )
    )
    return results


def print_quality(title: str, examples: Sequence[Example]) -> None:
    labels = [example.hateful for example in examples]
    hateful = sum(labels)
    print(
        f"### {title}: {len(examples)} lines, {hateful} hate, "
        f"{len(examples) - hateful} neutral\n"
    )
    print("| classifier | TP | FP | FN | TN | precision | recall | F1 | PR-AUC |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scored in score_examples(examples):
        pairs = list(zip(scored.flagged, labels, strict=True))
        true_positive = sum(flag and label for flag, label in pairs)
        false_positive = sum(flag and not label for flag, label in pairs)
        false_negative = sum(not flag and label for flag, label in pairs)
        true_negative = len(pairs) - true_positive - false_positive - false_negative
        precision = wilson(true_positive, true_positive + false_positive)
        recall = wilson(true_positive, true_positive + false_negative)
        f1 = (
            2 * precision.value * recall.value / (precision.value + recall.value)
            if precision.value and recall.value
            else 0.0
        )
        area = average_precision(scored.scores, labels)
        print(
            f"| {scored.name} | {true_positive} | {false_positive} | "
            f"{false_negative} | {true_negative} | {precision.format()} | "
            f"{recall.format()} | {f1:.3f} | {area:.3f} |"
        )
    print()


def print_families(examples: Sequence[Example]) -> None:
    print("### Per family (distinct lines): recall on hate, FPR on neutral\n")
    print(
        "| family | hate | neutral | lexicon recall | lexicon FPR "
        "| toxicity recall | toxicity FPR |"
    )
    print("|---|---|---|---|---|---|---|")
    for family in sorted({example.family for example in examples}):
        subset = [example for example in examples if example.family == family]
        lexicon, toxicity, _ = score_examples(subset)
        cells = []
        for scored in (lexicon, toxicity):
            pairs = list(zip(scored.flagged, subset, strict=True))
            hits = [flag for flag, example in pairs if example.hateful]
            alarms = [flag for flag, example in pairs if not example.hateful]
            cells.append(f"{sum(hits)}/{len(hits)}")
            cells.append(f"{sum(alarms)}/{len(alarms)}")
        hate = sum(example.hateful for example in subset)
        print(
            f"| {family} | {hate} | {len(subset) - hate} | " + " | ".join(cells) + " |"
        )
    print()


def messages_of_length(examples: Sequence[Example], length: int) -> list[str]:
    """Cut messages of exactly ``length`` characters from the joined dataset lines."""
    stream = " ".join(example.text for example in examples)
    messages = []
    for index in range(LATENCY_MESSAGES):
        start = (index * 97) % max(1, len(stream) - length)
        messages.append(stream[start : start + length])
    return messages


def time_per_message(
    function: Callable[[str], object], messages: Sequence[str]
) -> tuple[list[float], list[float]]:
    """Return sorted wall-clock and thread CPU times in microseconds per call."""
    for message in messages:
        function(message)
    wall, cpu = [], []
    for _ in range(LATENCY_ROUNDS):
        for message in messages:
            wall_start = time.perf_counter_ns()
            cpu_start = time.thread_time_ns()
            function(message)
            cpu.append((time.thread_time_ns() - cpu_start) / 1000)
            wall.append((time.perf_counter_ns() - wall_start) / 1000)
    return sorted(wall), sorted(cpu)


def print_latency(examples: Sequence[Example]) -> None:
    classifier = LexiconClassifier()

    def classify(text: str) -> object:
        return classifier.classify_batch([ClassifierInput(text)])

    print("### Latency per message (microseconds)\n")
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{LATENCY_ROUNDS} rounds over {LATENCY_MESSAGES} messages after a warm-up.\n"
    )
    print("| function | messages | wall p50 | wall p99 | CPU p50 | CPU p99 |")
    print("|---|---|---|---|---|---|")
    sets = (
        (f"{MESSAGE_LENGTH}-char", messages_of_length(examples, MESSAGE_LENGTH)),
        ("ToxiGen lines", [example.text for example in examples][:LATENCY_MESSAGES]),
    )
    for name, function in (("normalize_text", normalize_text), ("lexicon", classify)):
        for label, messages in sets:
            wall, cpu = time_per_message(function, messages)
            print(
                f"| {name} | {label} | {percentile(wall, 50):.0f} | "
                f"{percentile(wall, 99):.0f} | {percentile(cpu, 50):.0f} | "
                f"{percentile(cpu, 99):.0f} |"
            )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        type=Path,
        default=DEFAULT_DATASETS,
        help="folder that contains toxigen_demonstrations/",
    )
    args = parser.parse_args(argv)
    folder = args.datasets / TOXIGEN_FOLDER
    if not folder.is_dir():
        print(f"ToxiGen demonstrations not found at {folder}", file=sys.stderr)
        return 1
    examples = read_toxigen(folder)
    unique = distinct(examples)
    print(f"## Toxicity rules on ToxiGen demonstrations (threshold {THRESHOLD:g})\n")
    print_quality("All lines", examples)
    print_quality("Distinct lines", unique)
    print_families(unique)
    print_latency(unique)
    return 0


if __name__ == "__main__":
    sys.exit(main())
