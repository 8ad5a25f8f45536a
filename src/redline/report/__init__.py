"""Reports of a run: JSON, self-contained HTML and terminal tables."""

from redline.report._files import prepare_report_dir, write_reports
from redline.report._html import render_html_report, write_html_report
from redline.report._json import write_json_report
from redline.report._table import print_summary, summary_renderable

__all__ = [
    "prepare_report_dir",
    "print_summary",
    "render_html_report",
    "summary_renderable",
    "write_html_report",
    "write_json_report",
    "write_reports",
]
