"""Compare redline's toxicity tiers and cascades on the ToxiGen demonstrations.

Tiers: ``lexicon`` (rules over normalised text), ``toxicity`` (the
alt-profanity-check linear model) and ``embedding`` (a head on
all-MiniLM-L6-v2 embeddings, trained with ``redline.classifiers
.train_classifier``). Cascades run the cheap tiers first. A cheap tier decides
only texts it scores at or above 0.8, and every other text goes to the
embedding tier. It never decides a text clean, because implicit hate gets low
scores from word-based tiers.

The sentences are de-duplicated before any split. Each fold of a stratified
5-fold cross-validation trains one embedding artifact on the other four
folds (``train_classifier`` itself holds out 10% of those for its own
metrics), and the held-out fold is scored by every tier and cascade, so each
sentence is scored once, out of fold. Precision, recall, FNR and FPR have
95% Wilson intervals; PR-AUC is step-wise average precision. The cascades'
scores are those of the tier that decided each text.

Run from the repository root (needs the ``embed`` extra)::

    python benchmarks/toxicity_tiers_eval.py [--datasets DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedding_eval import toxigen_sentences  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from redline.calibration import LabelColumns  # noqa: E402
from redline.calibration._metrics import compute_metrics  # noqa: E402
from redline.classifiers import (  # noqa: E402
    CascadeClassifier,
    Classifier,
    ClassifierInput,
    EmbeddingClassifier,
    LexiconClassifier,
    ProfanityCheckClassifier,
    train_classifier,
)

TOXIGEN = "toxigen_demonstrations"
DEFAULT_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
# A cheap tier decides a text positive at or above this score; below it, the
# text escalates. Fixed before measuring, not tuned on these sentences.
DECIDE_POSITIVE = 0.8
FOLDS = 5


def cascade(tiers: Sequence[Classifier], last: Classifier) -> CascadeClassifier:
    specs: list[dict[str, object]] = [
        {"classifier": tier, "escalate": [0.0, DECIDE_POSITIVE]} for tier in tiers
    ]
    specs.append({"classifier": last})
    return CascadeClassifier(tiers=specs)


def write_labels(path: Path, texts: Sequence[str], labels: Sequence[str]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for text, label in zip(texts, labels, strict=True):
            handle.write(json.dumps({"text": text, "label": label}) + "\n")


def train_fold(
    folder: Path, texts: Sequence[str], labels: Sequence[str], seed: int
) -> EmbeddingClassifier:
    labels_path = folder / "train.jsonl"
    write_labels(labels_path, texts, labels)
    artifact = folder / "head"
    train_classifier(
        labels_path,
        artifact,
        kind="content",
        columns=LabelColumns(positive=["hate"], negative=["neutral"]),
        test_fraction=0.1,
        seed=seed,
    )
    return EmbeddingClassifier(model=str(artifact))


def score_fold(
    methods: dict[str, Classifier], items: Sequence[ClassifierInput]
) -> dict[str, list[tuple[float, bool, str | None]]]:
    """Return each method's (score, flagged, deciding tier) per text."""
    results = {}
    for name, classifier in methods.items():
        verdicts = classifier.classify_batch(items)
        errors = [v.error for v in verdicts if v.error is not None]
        if errors:
            raise RuntimeError(f"{name} failed on {len(errors)} texts: {errors[0]}")
        results[name] = [(v.score, v.flagged, v.tier) for v in verdicts]
    return results


def evaluate(datasets: Path, seed: int) -> None:
    root = datasets / TOXIGEN
    if not root.is_dir():
        print(f"Skipped: {root} not found; pass --datasets")
        return
    texts, labels, _, repeats = toxigen_sentences(root)
    hate = sum(label == "hate" for label in labels)
    print(
        f"{len(texts)} unique ToxiGen demonstration sentences ({hate} hate, "
        f"{len(texts) - hate} neutral; {repeats} repeats dropped), stratified "
        f"{FOLDS}-fold CV, seed {seed}.\n"
    )
    lexicon, toxicity = LexiconClassifier(), ProfanityCheckClassifier()
    scored: dict[str, list[tuple[float, bool, str | None]]] = {}
    order: list[int] = []
    seconds: Counter[str] = Counter()
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(texts, labels):
        with tempfile.TemporaryDirectory() as folder:
            embedding = train_fold(
                Path(folder),
                [texts[i] for i in train_index],
                [labels[i] for i in train_index],
                seed,
            )
            methods: dict[str, Classifier] = {
                "lexicon": lexicon,
                "toxicity": toxicity,
                "embedding": embedding,
                "lexicon > embedding": cascade([lexicon], embedding),
                "toxicity > embedding": cascade([toxicity], embedding),
                "lexicon > toxicity > embedding": cascade(
                    [lexicon, toxicity], embedding
                ),
            }
            items = [ClassifierInput(texts[i]) for i in test_index]
            # Load the artifact before timing, so no method pays for it.
            embedding.classify_batch(items[:1])
            for name, classifier in methods.items():
                started = time.perf_counter()
                fold = score_fold({name: classifier}, items)[name]
                seconds[name] += time.perf_counter() - started
                scored.setdefault(name, []).extend(fold)
            order.extend(int(i) for i in test_index)
    truth = [labels[i] == "hate" for i in order]
    print_table(scored, truth, seconds)


def print_table(
    scored: dict[str, list[tuple[float, bool, str | None]]],
    truth: Sequence[bool],
    seconds: Counter[str],
) -> None:
    print(
        "| method | precision | recall | F1 | PR-AUC | FNR | FPR | "
        "decided by tier | ms per text |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rows in scored.items():
        metrics = compute_metrics(
            (label, score, flagged)
            for label, (score, flagged, _) in zip(truth, rows, strict=True)
        )
        tiers = Counter(tier for _, _, tier in rows if tier is not None)
        decided = ", ".join(f"{tier} {count}" for tier, count in tiers.items()) or "-"
        cells = [
            metrics.precision.format(),
            metrics.recall.format(),
            metrics.f1.format(),
            metrics.average_precision.format(),
            metrics.false_negative_rate.format(),
            metrics.false_positive_rate.format(),
            decided,
            f"{1000 * seconds[name] / len(rows):.2f}",
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(
        "\nRates are proportions with 95% Wilson intervals; F1's interval maps the "
        "Wilson interval of TP/(TP+FP+FN). Flagged at each tier's threshold, 0.5."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"## Toxicity tiers and cascades on ToxiGen ({platform.python_version()})\n")
    evaluate(args.datasets, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
