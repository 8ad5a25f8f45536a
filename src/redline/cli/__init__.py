"""Command-line interface: ``redline run``, ``runs``, ``show`` and ``report``."""

from redline.cli import (  # noqa: F401 - register commands
    _baseline,
    _calibrate,
    _classifier,
    _compare,
    _gate,
    _guard,
    _init,
    _plan,
    _run,
    _runs,
    _strategies,
)
from redline.cli._main import main

__all__ = ["main"]
