"""Rich progress bar that follows a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from redline.metrics import Outcome
from redline.store import AttemptRecord


class RichProgress:
    """Progress bar with attempt counts per outcome and an ETA."""

    def __init__(self, console: Console):
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[outcomes]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._task: TaskID | None = None
        self._outcomes: Counter[str] = Counter()

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def started(self, total: int, already_done: int) -> None:
        self._task = self._progress.add_task(
            "attempts", total=total, completed=already_done, outcomes=""
        )

    def attempts_written(self, attempts: Sequence[AttemptRecord]) -> None:
        if self._task is None:
            return
        self._outcomes.update(a.outcome for a in attempts)
        text = " ".join(
            f"{o.value}={self._outcomes[o.value]}"
            for o in Outcome
            if self._outcomes[o.value]
        )
        self._progress.update(self._task, advance=len(attempts), outcomes=text)
