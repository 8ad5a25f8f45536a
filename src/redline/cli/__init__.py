"""Command-line interface: ``redline run``, ``runs``, ``show`` and ``report``."""

from redline.cli import _calibrate, _classifier, _guard, _run, _runs, _strategies  # noqa: F401 - register commands
from redline.cli._main import main

__all__ = ["main"]
