"""The ``redline`` command group, logging set-up and error display."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from redline import __version__
from redline.errors import RedlineError


class _Group(click.Group):
    """Click group that prints expected errors without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RedlineError as exc:
            # Text keeps brackets in the message from being read as rich markup.
            message = Text.assemble(("error: ", "bold red"), str(exc))
            Console(stderr=True, soft_wrap=True).print(message)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="redline")
@click.option(
    "-v", "--verbose", count=True, help="Log more: -v for run phases, -vv for debug."
)
def main(verbose: int) -> None:
    """Red-team and safety-evaluate LLM systems and report safety with intervals."""
    level = (
        logging.WARNING
        if verbose == 0
        else logging.INFO
        if verbose == 1
        else logging.DEBUG
    )
    handler = RichHandler(console=Console(stderr=True), show_path=False)
    root = logging.getLogger("redline")
    root.setLevel(level)
    root.handlers[:] = [handler]
