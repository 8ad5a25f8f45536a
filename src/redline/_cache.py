"""Location of redline's cache folder for assembled models and exported weights."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Return ``REDLINE_CACHE_DIR`` if set, else ``redline`` in the XDG cache folder."""
    configured = os.environ.get("REDLINE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "redline"
