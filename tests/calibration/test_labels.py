from __future__ import annotations

import json

import pytest

from redline.calibration import LabelColumns, read_labels
from redline.errors import LabelsError


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_read_in_order(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\nI can't,refusal\nSure,compliance\n")
    rows = read_labels(path)
    assert [row.text for row in rows] == ["I can't", "Sure"]
    assert [row.positive for row in rows] == [True, False]
    assert [row.line for row in rows] == [2, 3]


def test_raw_label_kept(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\nx, Refusal \n")
    row = read_labels(path)[0]
    assert row.raw_label == " Refusal "
    assert row.positive is True


def test_tsv_uses_tabs(tmp_path):
    path = write(tmp_path / "l.tsv", "text\tlabel\na, b\t1\n")
    rows = read_labels(path)
    assert rows[0].text == "a, b"
    assert rows[0].positive is True


def test_jsonl_rows_and_blank_lines(tmp_path):
    lines = [
        json.dumps({"text": "no", "label": "unsafe"}),
        "",
        json.dumps({"text": "yes", "label": False}),
    ]
    path = write(tmp_path / "l.jsonl", "\n".join(lines) + "\n")
    rows = read_labels(path)
    assert [row.positive for row in rows] == [True, False]
    assert [row.line for row in rows] == [1, 3]


def test_ndjson_suffix_accepted(tmp_path):
    path = write(tmp_path / "l.ndjson", json.dumps({"text": "a", "label": "1"}))
    assert read_labels(path)[0].positive is True


def test_byte_order_mark_skipped(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes(b"\xef\xbb\xbftext,label\nhello,0\n")
    rows = read_labels(path)
    assert rows[0].text == "hello"


def test_byte_order_mark_in_jsonl(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": "a", "label": 0}).encode())
    assert read_labels(path)[0].positive is False


def test_quoted_multiline_field(tmp_path):
    path = write(
        tmp_path / "l.csv",
        'text,label\n"first line\nsecond, line",refusal\nnext,safe\n',
    )
    rows = read_labels(path)
    assert rows[0].text == "first line\nsecond, line"
    assert rows[1].text == "next"
    assert rows[1].line == 4


def test_column_mapping_and_prompt(tmp_path):
    path = write(tmp_path / "l.csv", "response,verdict,request\nok,bad,do it\n")
    columns = LabelColumns(
        text="response",
        label="verdict",
        prompt="request",
        positive={"bad"},
        negative={"good"},
    )
    row = read_labels(path, columns)[0]
    assert row.text == "ok"
    assert row.prompt == "do it"
    assert row.positive is True


def test_empty_prompt_becomes_none(tmp_path):
    path = write(tmp_path / "l.csv", "text,label,prompt\nok,0,\n")
    row = read_labels(path, LabelColumns(prompt="prompt"))[0]
    assert row.prompt is None


def test_negative_none_takes_every_other_value(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\na,x\nb,whatever\n")
    rows = read_labels(path, LabelColumns(positive={"x"}, negative=None))
    assert [row.positive for row in rows] == [True, False]


def test_missing_column_names_file_line_and_columns(tmp_path):
    path = write(tmp_path / "l.csv", "body,label\nx,1\n")
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: ")
    assert "missing column 'text'" in message
    assert "--text-column" in message


def test_missing_prompt_column(tmp_path):
    path = write(tmp_path / "l.jsonl", json.dumps({"text": "a", "label": 1}))
    with pytest.raises(LabelsError, match="missing column 'prompt'"):
        read_labels(path, LabelColumns(prompt="prompt"))


def test_unknown_label_names_value_and_line(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\na,1\nb,maybe\n")
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: ")
    assert "'maybe'" in message
    assert "--positive" in message


def test_unknown_label_error_has_line_attribute(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\nb,maybe\n")
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    assert caught.value.line == 2
    assert caught.value.path == str(path)


def test_empty_text_names_line(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\nok,1\n  ,0\n")
    with pytest.raises(LabelsError, match=r"l\.csv:3: empty text"):
        read_labels(path)


def test_null_text_in_jsonl_is_empty(tmp_path):
    path = write(tmp_path / "l.jsonl", json.dumps({"text": None, "label": 1}))
    with pytest.raises(LabelsError, match=r"l\.jsonl:1: empty text"):
        read_labels(path)


def test_bad_json_line_named(tmp_path):
    lines = [json.dumps({"text": "a", "label": 1}), "{not json", ""]
    path = write(tmp_path / "l.jsonl", "\n".join(lines))
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    assert str(caught.value).startswith(f"{path}:2: invalid JSON")


def test_json_line_that_is_not_an_object(tmp_path):
    path = write(tmp_path / "l.jsonl", "[1, 2]\n")
    with pytest.raises(
        LabelsError, match=r"l\.jsonl:1: expected a JSON object, got list"
    ):
        read_labels(path)


def test_non_utf8_names_line_and_offset(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes(b"text,label\nok,1\ncaf\xe9,0\n")
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: not valid UTF-8")
    assert "offset 19" in message


def test_non_utf8_far_into_file_gives_file_offset(tmp_path):
    # Past the reader's first decoded chunk, so the offset must come from the file.
    body = "".join(f"row {i},0\n" for i in range(20000)).encode()
    path = tmp_path / "l.csv"
    path.write_bytes(b"text,label\n" + body + b"\xff,1\n")
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    assert caught.value.line == 20002
    assert f"offset {len(body) + 11}" in str(caught.value)


def test_missing_file_named(tmp_path):
    path = tmp_path / "absent.csv"
    with pytest.raises(LabelsError, match="absent.csv: file not found"):
        read_labels(path)


def test_unknown_suffix_lists_formats(tmp_path):
    path = write(tmp_path / "l.txt", "text,label\n")
    with pytest.raises(LabelsError, match=r"unknown labels format '\.txt'.*\.jsonl"):
        read_labels(path)


def test_header_only_file_has_no_rows(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\n")
    with pytest.raises(LabelsError, match="no labelled rows"):
        read_labels(path)


def test_extra_field_names_line(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\na,b,1\n")
    with pytest.raises(
        LabelsError, match=r"l\.csv:2: row has 3 fields but the header has 2"
    ):
        read_labels(path)


def test_short_row_names_line(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\nonly text\n")
    with pytest.raises(
        LabelsError, match=r"l\.csv:2: row has 1 of the header's 2 fields"
    ):
        read_labels(path)


def test_value_in_both_classes_rejected(tmp_path):
    path = write(tmp_path / "l.csv", "text,label\na,x\n")
    with pytest.raises(LabelsError, match="in both the positive and the negative"):
        read_labels(path, LabelColumns(positive={"x"}, negative={"X "}))


def test_long_field_beyond_csv_default_limit(tmp_path):
    text = "a" * 200_000
    path = write(tmp_path / "l.csv", f"text,label\n{text},0\n")
    assert read_labels(path)[0].text == text
