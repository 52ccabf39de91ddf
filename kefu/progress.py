"""A rich progress bar that fits the ``(done, total)`` callbacks long-running services take."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """One line for a step: done out of total while it runs, and a full bar when it is over,
    also for a step that never had a count to report (it would otherwise stay at "0/?")."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(description, total=None, count="")
        reported_total = 0

        def update(done: int, total: int) -> None:
            nonlocal reported_total
            reported_total = total
            count = f"{done}/{total}" if total else ""
            progress.update(task, completed=done, total=total or None, count=count)

        yield update
        if not reported_total:
            progress.update(task, total=1, completed=1, count="done")
