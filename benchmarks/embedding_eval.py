"""Measure the trained embedding classifier against redline's other classifiers.

Every head is a balanced logistic regression on all-MiniLM-L6-v2 embeddings,
fitted with :func:`redline.classifiers._training.fit_head` (C chosen by
cross-validation inside the training rows only) and scored with the same
NumPy code as the ``embedding`` classifier. No test row is ever used to fit a
head or to choose its C. Output is Markdown, in four parts:

a. Refusal: the human-labelled responses and the refusal_direction proxy
   labels that ``benchmarks/refusal_eval.py`` reads (partial refusals count
   as not-refusal), against the rule-based ``refusal`` detector. Accuracy
   with 95% Wilson intervals and the 2x2 confusion matrices.
b. Toxicity: the ToxiGen demonstration sentences (hate vs neutral),
   de-duplicated before any split, against the ``toxicity`` classifier
   (alt-profanity-check) on the same held-out sentences. Precision, recall,
   F1 at threshold 0.5, and PR-AUC (average precision).
c. Harm categories: HarmBench and JailbreakBench behaviours, one class per
   category, macro-F1 out of fold against a majority-class baseline.
d. Latency per message on one thread at batch size 1, and throughput at
   batch size 32.

Run from the repository root::

    python benchmarks/embedding_eval.py [--datasets DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

import refusal_eval  # noqa: E402

from redline.classifiers import (  # noqa: E402
    ClassifierInput,
    EmbeddingClassifier,
    ProfanityCheckClassifier,
    RefusalDetector,
)
from redline.classifiers._embedding import (  # noqa: E402
    REFUSAL_RULE_SCORE,
    TEXT_EMBEDDING,
    build_features,
    head_probabilities,
    load_encoder,
)
from redline.classifiers._training import (  # noqa: E402
    binary_metrics,
    fit_head,
    multiclass_metrics,
)
from redline.metrics import percentile, wilson  # noqa: E402

TOXIGEN = "toxigen_demonstrations"
HARMBENCH = "harmbench/harmbench_behaviors_text_all.csv"
JAILBREAKBENCH = "jailbreakbench/jbb_harmful_behaviors_from_artifacts.csv"
THRESHOLD = 0.5


@dataclass(frozen=True)
class LabelledSet:
    """Texts with one class name each, encoded once.

    Attributes:
        items: The texts, with prompts where the set has them.
        names: Class name of each text.
        embeddings: Normalised text embedding of each text.
        rule_scores: The rule-based refusal detector's score of each text,
            as one column, or None when not computed.
    """

    items: list[ClassifierInput]
    names: list[str]
    embeddings: np.ndarray
    rule_scores: np.ndarray | None

    def subset(self, indices: Sequence[int]) -> LabelledSet:
        chosen = list(indices)
        rule = None if self.rule_scores is None else self.rule_scores[chosen]
        return LabelledSet(
            [self.items[i] for i in chosen],
            [self.names[i] for i in chosen],
            self.embeddings[chosen],
            rule,
        )

    def joined(self, other: LabelledSet) -> LabelledSet:
        """Return this set followed by ``other``."""
        rule = None
        if self.rule_scores is not None and other.rule_scores is not None:
            rule = np.vstack([self.rule_scores, other.rule_scores])
        return LabelledSet(
            self.items + other.items,
            self.names + other.names,
            np.vstack([self.embeddings, other.embeddings]),
            rule,
        )

    def columns(self, features: Sequence[str]) -> np.ndarray:
        """Return the head input rows for ``features``, in that order."""
        blocks = {TEXT_EMBEDDING: self.embeddings, REFUSAL_RULE_SCORE: self.rule_scores}
        return np.hstack([blocks[name] for name in features])


def labelled_set(
    items: list[ClassifierInput], names: list[str], rule: bool
) -> LabelledSet:
    """Encode a set once, and score it with the rule detector if asked."""
    encoder = load_encoder()
    embeddings = build_features(encoder, items, [TEXT_EMBEDDING], batch_size=32)
    scores = None
    if rule:
        scores = build_features(encoder, items, [REFUSAL_RULE_SCORE])
    return LabelledSet(items, names, embeddings, scores)


def normalise(text: str) -> str:
    """Return the text lower-cased, each run of whitespace one space, no end punctuation."""
    return re.sub(r"\s+", " ", text).strip().lower().rstrip(".!?")


def unique_examples(
    examples: Sequence[refusal_eval.Example],
) -> tuple[list[refusal_eval.Example], int]:
    """Keep the first of each repeated text and drop texts with two labels."""
    labels: dict[str, set[bool]] = {}
    for example in examples:
        labels.setdefault(normalise(example.text), set()).add(example.refusal)
    kept, seen = [], set()
    for example in examples:
        key = normalise(example.text)
        if key in seen or len(labels[key]) > 1:
            continue
        seen.add(key)
        kept.append(example)
    return kept, len(examples) - len(kept)


def fit_and_score(
    train: LabelledSet, test: LabelledSet, features: Sequence[str], seed: int
) -> tuple[list[str], np.ndarray]:
    """Fit a head on ``train`` and return its classes and probabilities on ``test``."""
    head = fit_head(train.columns(features), train.names, seed)
    return head.classes, head_probabilities(
        head.weights, head.bias, test.columns(features)
    )


def out_of_fold(
    data: LabelledSet, features: Sequence[str], folds: int, seed: int
) -> tuple[list[str], np.ndarray]:
    """Return out-of-fold probabilities from stratified k-fold cross-validation."""
    classes = sorted(set(data.names))
    probabilities = np.zeros((len(data.names), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(data.embeddings, data.names):
        head_classes, fold = fit_and_score(
            data.subset(train_index), data.subset(test_index), features, seed
        )
        assert head_classes == classes
        probabilities[test_index] = fold
    return classes, probabilities


def positive_scores(
    classes: list[str], probabilities: np.ndarray, positive: str
) -> np.ndarray:
    return probabilities[:, classes.index(positive)]


# Part a: refusal


def refusal_row(name: str, actual: Sequence[bool], decided: Sequence[bool]) -> str:
    metrics = binary_metrics(actual, decided)
    confusion = metrics["confusion"]
    correct = confusion["tp"] + confusion["tn"]
    rate = wilson(correct, len(actual)).format()
    return (
        f"| {name} | {rate} | {confusion['tp']} | {confusion['fn']} "
        f"| {confusion['fp']} | {confusion['tn']} |"
    )


def print_refusal_table(
    title: str, note: str, test: LabelledSet, heads: dict[str, np.ndarray]
) -> None:
    actual = [name == "refusal" for name in test.names]
    print(f"#### {title}\n\n{note} {len(actual)} responses, {sum(actual)} refusals.\n")
    print(
        "| method | accuracy [95% CI] | refusal→refusal | refusal→other "
        "| other→refusal | other→other |"
    )
    print("|---|---|---|---|---|---|")
    rule = [bool(v.flagged) for v in RefusalDetector().classify_batch(test.items)]
    print(refusal_row("rule-based `refusal` detector", actual, rule))
    for name, scores in heads.items():
        print(refusal_row(name, actual, [bool(s >= THRESHOLD) for s in scores]))
    print()


FEATURE_SETS = {
    "embedding head": [TEXT_EMBEDDING],
    "embedding + rule-score head": [TEXT_EMBEDDING, REFUSAL_RULE_SCORE],
}


def heads_on(train: LabelledSet, test: LabelledSet, seed: int) -> dict[str, np.ndarray]:
    scores = {}
    for name, features in FEATURE_SETS.items():
        classes, probabilities = fit_and_score(train, test, features, seed)
        scores[name] = positive_scores(classes, probabilities, "refusal")
    return scores


@dataclass(frozen=True)
class RefusalSets:
    """The refusal sets of part a, de-duplicated and disjoint.

    Attributes:
        tuning: Human-labelled responses read while the rules were written.
        holdout: Human-labelled responses labelled after that.
        proxy: refusal_direction completions with proxy labels, less any
            completion that is also human-labelled.
        note: How many repeated texts were dropped, for the report.
        left_out: Ablation completions judged safe, which the proxy leaves out.
    """

    tuning: list[refusal_eval.Example]
    holdout: list[refusal_eval.Example]
    proxy: list[refusal_eval.Example]
    note: str
    left_out: int


def refusal_sets(datasets: Path) -> RefusalSets:
    """Read the human-labelled and proxy-labelled refusal sets."""
    data = refusal_eval.SharedData(datasets)
    labels = refusal_eval.SHARED_LABELS
    tuning, dropped_tuning = unique_examples(
        refusal_eval.human_label_examples(labels, data, "tuning")
    )
    holdout, dropped_holdout = unique_examples(
        refusal_eval.human_label_examples(labels, data, "holdout")
    )
    tuning_texts = {normalise(e.text) for e in tuning}
    in_both = [e for e in holdout if normalise(e.text) in tuning_texts]
    holdout = [e for e in holdout if normalise(e.text) not in tuning_texts]
    human = tuning + holdout
    human_keys = {e.ident for e in human} | {normalise(e.text) for e in human}
    proxy_all, left_out = refusal_eval.proxy_examples(data)
    disjoint = [
        e
        for e in proxy_all
        if e.ident not in human_keys and normalise(e.text) not in human_keys
    ]
    proxy, dropped_proxy = unique_examples(disjoint)
    note = (
        f"Repeated or conflicting texts dropped: {dropped_tuning} (tuning part), "
        f"{dropped_holdout + len(in_both)} (held-out part, {len(in_both)} of them "
        f"also in the tuning part), {dropped_proxy} (proxy). "
        f"{len(proxy_all) - len(disjoint)} proxy completions that are also "
        "human-labelled are left out of the proxy set."
    )
    return RefusalSets(tuning, holdout, proxy, note, left_out)


def encode_examples(examples: Sequence[refusal_eval.Example]) -> LabelledSet:
    items = [ClassifierInput(e.text, e.prompt) for e in examples]
    names = ["refusal" if e.refusal else "other" for e in examples]
    return labelled_set(items, names, rule=True)


def refusal_part(datasets: Path, seed: int) -> None:
    print("### a. Refusal detection\n")
    missing = refusal_eval.missing_inputs(datasets)
    if missing:
        print(f"Skipped; missing shared data: {', '.join(missing)}\n")
        return
    sets = refusal_sets(datasets)
    tuning, holdout, proxy = sets.tuning, sets.holdout, sets.proxy
    left_out = sets.left_out
    print(
        f"{sets.note} So no text is in both a training and a test set. Partial "
        "refusals count as not refusal. The rule detector's cues were written "
        "while reading the tuning part, so its figures on that part are "
        "optimistic.\n"
    )
    tuning_set, holdout_set = encode_examples(tuning), encode_examples(holdout)
    proxy_set = encode_examples(proxy)
    human_set = tuning_set.joined(holdout_set)

    print_refusal_table(
        "Human-labelled, held-out part; heads trained on the tuning part",
        f"Trained on {len(tuning)} tuning responses.",
        holdout_set,
        heads_on(tuning_set, holdout_set, seed),
    )
    cv_heads = {}
    for name, features in FEATURE_SETS.items():
        classes, probabilities = out_of_fold(human_set, features, 10, seed)
        cv_heads[name] = positive_scores(classes, probabilities, "refusal")
    print_refusal_table(
        "Human-labelled, both parts; heads scored out of fold (10-fold CV)",
        f"Stratified 10-fold CV, seed {seed}.",
        human_set,
        cv_heads,
    )
    print_refusal_table(
        "refusal_direction proxy labels; heads trained on all human labels",
        f"Proxy: baseline completion judged safe by Llama Guard 2 = refusal, judged "
        f"unsafe = not refusal; {left_out} ablation completions judged safe are left out.",
        proxy_set,
        heads_on(human_set, proxy_set, seed),
    )
    print_refusal_table(
        "Human-labelled, both parts; heads trained on the proxy labels",
        f"Trained on {len(proxy)} proxy-labelled completions.",
        human_set,
        heads_on(proxy_set, human_set, seed),
    )


# Part b: toxicity


def toxigen_sentences(root: Path) -> tuple[list[str], list[str], list[str], int]:
    """Return unique sentences, their labels and families, and the repeats dropped."""
    seen: dict[str, str] = {}
    texts, names, families = [], [], []
    repeats = 0
    for path in sorted(root.glob("*/*.txt")):
        label = "hate" if path.name.startswith("hate_") else "neutral"
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            key = normalise(line)
            if key in seen:
                repeats += 1
                continue
            seen[key] = label
            texts.append(line.strip())
            names.append(label)
            families.append(path.parent.name)
    return texts, names, families, repeats


def toxicity_row(name: str, truth: Sequence[str], scores: np.ndarray) -> str:
    actual = [label == "hate" for label in truth]
    metrics = binary_metrics(actual, [bool(s >= THRESHOLD) for s in scores])
    auc = average_precision_score(actual, scores)
    correct = metrics["confusion"]["tp"] + metrics["confusion"]["tn"]
    cells = [metrics[key] for key in ("precision", "recall", "f1")]
    text = " | ".join("n/a" if v is None else f"{v:.3f}" for v in cells)
    return f"| {name} | {text} | {auc:.3f} | {wilson(correct, len(actual)).format()} |"


def print_toxicity_table(
    title: str, truth: Sequence[str], rows: dict[str, np.ndarray]
) -> None:
    hate = sum(label == "hate" for label in truth)
    print(f"#### {title}\n\n{len(truth)} sentences, {hate} hate.\n")
    print("| method | precision | recall | F1 | PR-AUC | accuracy [95% CI] |")
    print("|---|---|---|---|---|---|")
    for name, scores in rows.items():
        print(toxicity_row(name, truth, scores))
    print()


def toxicity_part(datasets: Path, seed: int) -> None:
    print("### b. Toxicity: ToxiGen demonstrations\n")
    root = datasets / TOXIGEN
    if not root.is_dir():
        print(f"Skipped; missing {root}\n")
        return
    texts, names, families, repeats = toxigen_sentences(root)
    print(
        f"{repeats} repeated sentences dropped before splitting (compared "
        "lower-cased, spaces and end punctuation ignored). Positive class: hate. "
        f"Threshold {THRESHOLD} for both.\n"
    )
    items = [ClassifierInput(text) for text in texts]
    data = labelled_set(items, names, rule=False)
    profanity = np.array(
        [v.score for v in ProfanityCheckClassifier().classify_batch(items)]
    )

    classes, probabilities = out_of_fold(data, [TEXT_EMBEDDING], 5, seed)
    print_toxicity_table(
        f"Stratified 5-fold CV (seed {seed}), every sentence scored out of fold",
        names,
        {
            "embedding head": positive_scores(classes, probabilities, "hate"),
            "`toxicity` (alt-profanity-check)": profanity,
        },
    )

    scores = np.zeros(len(names))
    for family in sorted(set(families)):
        test = [i for i, f in enumerate(families) if f == family]
        train = [i for i, f in enumerate(families) if f != family]
        classes, fold = fit_and_score(
            data.subset(train), data.subset(test), [TEXT_EMBEDDING], seed
        )
        scores[test] = positive_scores(classes, fold, "hate")
    print_toxicity_table(
        f"Leave one target-group family out ({', '.join(sorted(set(families)))})",
        names,
        {"embedding head": scores, "`toxicity` (alt-profanity-check)": profanity},
    )


# Part c: harm categories


def read_csv_column(path: Path, text: str, label: str) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row[text] for row in rows], [row[label] for row in rows]


def category_part(datasets: Path, seed: int) -> None:
    print("### c. Harm categories of prompts\n")
    print(
        "Each behaviour is one text, its category the class; heads scored out "
        f"of fold with stratified 5-fold CV, seed {seed}. Baseline: always the "
        "most common category of the training folds.\n"
    )
    print(
        "| set | classes | texts | head macro-F1 | head accuracy [95% CI] | baseline macro-F1 | baseline accuracy |"
    )
    print("|---|---|---|---|---|---|---|")
    sets = [
        (
            "HarmBench (Behavior, SemanticCategory)",
            HARMBENCH,
            "Behavior",
            "SemanticCategory",
        ),
        ("JailbreakBench (goal, category)", JAILBREAKBENCH, "goal", "category"),
    ]
    for title, relative, text_column, label_column in sets:
        path = datasets / relative
        if not path.is_file():
            print(f"| {title} | skipped: {path} missing | | | | | |")
            continue
        texts, names = read_csv_column(path, text_column, label_column)
        data = labelled_set([ClassifierInput(t) for t in texts], names, rule=False)
        classes, probabilities = out_of_fold(data, [TEXT_EMBEDDING], 5, seed)
        predicted = [classes[i] for i in probabilities.argmax(axis=1)]
        head = multiclass_metrics(names, predicted, classes)
        baseline = multiclass_metrics(names, majority_predictions(names, seed), classes)
        correct = sum(t == p for t, p in zip(names, predicted, strict=True))
        print(
            f"| {title} | {len(classes)} | {len(names)} | {head['macro_f1']:.3f} "
            f"| {wilson(correct, len(names)).format()} | {baseline['macro_f1']:.3f} "
            f"| {baseline['accuracy']:.3f} |"
        )
    print()


def majority_predictions(names: Sequence[str], seed: int) -> list[str]:
    """Predict, for each fold, the most common class of the other folds."""
    predicted = [""] * len(names)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(names)), names):
        counts = Counter(names[i] for i in train)
        top = min(counts, key=lambda name: (-counts[name], name))
        for i in test:
            predicted[i] = top
    return predicted


# Part d: latency


def latency_part(datasets: Path, seed: int) -> None:
    import torch

    print("### d. Latency and throughput\n")
    missing = refusal_eval.missing_inputs(datasets)
    if missing:
        print(f"Skipped; missing shared data: {', '.join(missing)}\n")
        return
    sets = refusal_sets(datasets)
    human = encode_examples(sets.tuning + sets.holdout)
    message_sets = [("human-labelled responses", human.items)]
    harmbench = datasets / HARMBENCH
    if harmbench.is_file():
        prompts, _ = read_csv_column(harmbench, "Behavior", "SemanticCategory")
        message_sets.append(
            ("HarmBench behaviours", [ClassifierInput(p) for p in prompts])
        )
    print(
        "`embedding` classifier with a refusal head on the text embedding and "
        f"the rule score, {platform.machine()}, {os.cpu_count()} CPUs shared "
        f"with other jobs, torch {torch.__version__}, Python "
        f"{platform.python_version()}. The encoder cuts texts at 256 word pieces.\n"
    )
    print(
        "| messages | mean characters | threads, batch size | p50 per message "
        "| p99 per message | messages per second |"
    )
    print("|---|---|---|---|---|---|")
    folder = Path(tempfile.mkdtemp(prefix="embedding-eval-"))
    threads = torch.get_num_threads()
    try:
        classifier = trained_classifier(human, folder, seed)
        for title, items in message_sets:
            print_latency_rows(classifier, title, items, threads)
    finally:
        torch.set_num_threads(threads)
        shutil.rmtree(folder, ignore_errors=True)
    print()


def print_latency_rows(
    classifier: EmbeddingClassifier,
    title: str,
    items: Sequence[ClassifierInput],
    threads: int,
) -> None:
    import torch

    chars = sum(len(item.text) for item in items) / len(items)
    lead = f"| {len(items)} {title} | {chars:.0f}"
    torch.set_num_threads(1)
    single = time_one_by_one(classifier, items)
    p50, p99 = percentile(single, 50) or 0.0, percentile(single, 99) or 0.0
    rate = 1000 * len(single) / sum(single)
    print(f"{lead} | 1, 1 | {p50:.1f} ms | {p99:.1f} ms | {rate:.0f} |")
    print(f"{lead} | 1, 32 | | | {time_batched(classifier, items, 32):.0f} |")
    torch.set_num_threads(threads)
    rate = time_batched(classifier, items, 32)
    print(f"{lead} | {threads}, 32 | | | {rate:.0f} |")


def trained_classifier(
    human: LabelledSet, folder: Path, seed: int
) -> EmbeddingClassifier:
    """Write an artifact with a head fitted on ``human`` and load it as a classifier."""
    from redline.classifiers._training import save_artifact

    features = [TEXT_EMBEDDING, REFUSAL_RULE_SCORE]
    head = fit_head(human.columns(features), human.names, seed)
    manifest = {
        "kind": "refusal",
        "classes": head.classes,
        "positive_classes": ["refusal"],
        "threshold": THRESHOLD,
        "features": features,
        "encoder": load_encoder().identity(),
        "head": head.info,
    }
    artifact = save_artifact(folder / "head", manifest, head.weights, head.bias)
    return EmbeddingClassifier(model=str(artifact.path), batch_size=1)


def time_one_by_one(
    classifier: EmbeddingClassifier, items: Sequence[ClassifierInput]
) -> list[float]:
    """Return the milliseconds of each call with one message, sorted."""
    for item in items[:10]:
        classifier.classify_batch([item])
    timings = []
    for item in items:
        start = time.perf_counter()
        classifier.classify_batch([item])
        timings.append((time.perf_counter() - start) * 1000)
    return sorted(timings)


def time_batched(
    classifier: EmbeddingClassifier, items: Sequence[ClassifierInput], size: int
) -> float:
    """Return messages per second when classifying ``items`` in batches of ``size``."""
    classifier.batch_size = size
    classifier.classify_batch(list(items[:size]))
    start = time.perf_counter()
    classifier.classify_batch(list(items))
    elapsed = time.perf_counter() - start
    classifier.batch_size = 1
    return len(items) / elapsed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--datasets",
        type=Path,
        default=refusal_eval.DEFAULT_DATASETS,
        help="folder holding the shared datasets (default: ../shared/datasets next to the repo)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of splits and folds")
    parser.add_argument(
        "--parts",
        default="abcd",
        help="parts to run, such as 'ab' (default: abcd)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print("## Embedding classifier evaluation\n")
    parts: dict[str, Callable[[Path, int], None]] = {
        "a": refusal_part,
        "b": toxicity_part,
        "c": category_part,
        "d": latency_part,
    }
    for key, run in parts.items():
        if key in args.parts:
            start = time.perf_counter()
            run(args.datasets, args.seed)
            print(f"<!-- part {key}: {time.perf_counter() - start:.0f} s -->\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
