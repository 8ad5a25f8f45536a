"""Checks and writes of the report folder."""

from __future__ import annotations

import os
from pathlib import Path

from redline.errors import ReportError
from redline.report._html import write_html_report
from redline.report._json import write_json_report
from redline.runner import RunResult

REPORT_NAMES = ("report.json", "report.html")


def prepare_report_dir(out: Path) -> None:
    """Create ``out`` and check reports can be written there, before a run starts.

    Raises:
        ReportError: The folder cannot be created or written, or a report
            name in it is taken by a folder.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create report folder {str(out)!r}: {exc}") from exc
    if not os.access(out, os.W_OK):
        raise ReportError(
            f"report folder {str(out)!r} is not writable; pass another --out"
        )
    for name in REPORT_NAMES:
        if (out / name).is_dir():
            raise ReportError(
                f"{str(out / name)!r} is a folder; remove it or pass another --out"
            )


def write_reports(result: RunResult, out: Path) -> tuple[Path, Path]:
    """Write report.json and report.html of ``result`` into ``out``.

    Raises:
        ReportError: A report could not be written. The run stays in the
            store, so ``redline report RUN_ID`` can write it again.
    """
    try:
        prepare_report_dir(out)
        json_path = write_json_report(result, out / REPORT_NAMES[0])
        html_path = write_html_report(result, out / REPORT_NAMES[1])
    except OSError as exc:
        raise ReportError(
            f"cannot write reports to {str(out)!r}: {exc}; run {result.run_id} is "
            f"stored, so write them later with: redline report {result.run_id} --out DIR"
        ) from exc
    return json_path, html_path
