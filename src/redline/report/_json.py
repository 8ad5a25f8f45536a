"""Versioned JSON report, streamed so large runs are not held in memory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from redline.runner import RunResult
from redline.store import attempt_to_dict


def write_json_report(result: RunResult, path: str | Path) -> Path:
    """Write ``result`` with every attempt to ``path`` and return the path.

    The top-level object is :meth:`RunResult.to_dict` plus an ``attempts``
    list in suite order. The file is written under a temporary name and
    renamed, so a reader never sees half a report.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    head = json.dumps(result.to_dict(), ensure_ascii=False, indent=1)
    with partial.open("w", encoding="utf-8") as out:
        out.write(head[:-2])  # drop the closing "\n}" to append the attempts list
        out.write(',\n "attempts": [')
        for index, attempt in enumerate(result.attempts()):
            out.write(",\n  " if index else "\n  ")
            out.write(json.dumps(attempt_to_dict(attempt), ensure_ascii=False))
        out.write("\n ]\n}\n")
    os.replace(partial, path)
    return path
