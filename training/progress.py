"""Progress bars for long dataset commands: rich on stderr when it is a terminal, silent otherwise
(CI logs and pipes get the summary line only)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Report = Callable[[str, int, int], None]  # (stage label, done, total; 0 when unknown)


@contextmanager
def progress_bar(enabled: bool | None = None, console=None) -> Iterator[Report | None]:
    """A callback that draws one bar per stage label, or None when disabled."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def report(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total or None)
            bar.update(tasks[label], completed=done, total=total or None)

        yield report


def stage(report: Report | None, label: str) -> Callable[[int, int], None] | None:
    """A (done, total) callback for one stage of `report`."""
    if report is None:
        return None
    return lambda done, total: report(label, done, total)
