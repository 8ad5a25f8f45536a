"""Hostile labels files: repeated columns and keys, containers, BOMs, CRLF."""

from __future__ import annotations

import pytest

from redline.calibration import LabelColumns, read_labels
from redline.errors import LabelsError


def write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("suffix, delimiter", [(".csv", ","), (".tsv", "\t")])
def test_repeated_header_column_rejected(tmp_path, suffix, delimiter):
    header = delimiter.join(["text", "label", "text"])
    row = delimiter.join(["first", "1", "second"])
    path = write_bytes(tmp_path / f"l{suffix}", f"{header}\n{row}\n".encode())
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    assert f"l{suffix}:1:" in str(caught.value)
    assert "column 'text' appears 2 times" in str(caught.value)


def test_repeated_jsonl_key_rejected(tmp_path):
    data = b'{"text": "a", "label": 1}\n{"text": "b", "label": 1, "label": 0}\n'
    path = write_bytes(tmp_path / "l.jsonl", data)
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    assert "l.jsonl:2:" in str(caught.value)
    assert "duplicate key 'label'" in str(caught.value)


@pytest.mark.parametrize(
    "line",
    [
        b'{"text": ["a", "b"], "label": 1, "prompt": "p"}',
        b'{"text": "a", "label": {"value": 1}, "prompt": "p"}',
        b'{"text": "a", "label": 1, "prompt": {"role": "user"}}',
    ],
    ids=["text list", "label object", "prompt object"],
)
def test_container_value_rejected(tmp_path, line):
    path = write_bytes(tmp_path / "l.jsonl", line + b"\n")
    with pytest.raises(LabelsError, match=r"l\.jsonl:1: column '\w+' is a JSON"):
        read_labels(path, LabelColumns(prompt="prompt"))


def test_bom_and_crlf_read(tmp_path):
    data = b"\xef\xbb\xbftext,label\r\nI can't,1\r\nSure,0\r\n"
    rows = read_labels(write_bytes(tmp_path / "l.csv", data))
    assert [row.text for row in rows] == ["I can't", "Sure"]
    assert [row.positive for row in rows] == [True, False]


@pytest.mark.parametrize(
    "columns",
    [
        LabelColumns(text="label"),
        LabelColumns(prompt="text"),
        LabelColumns(prompt="label"),
    ],
)
def test_same_column_twice_rejected(tmp_path, columns):
    path = write_bytes(tmp_path / "l.csv", b"text,label\nI can't,1\n")
    with pytest.raises(LabelsError, match="columns must differ"):
        read_labels(path, columns)
