"""A progress bar on stderr for long inputs, shared by replay and produce."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

__all__ = ["progress_bar"]

Advance = Callable[[int], None]


def _no_progress(_: int) -> None:
    return None


@contextmanager
def progress_bar(console: Console, total: int | None, *, enabled: bool, label: str) -> Iterator[Advance]:
    """Yield ``advance(bytes)``; shows nothing when disabled (not a terminal)."""
    if not enabled:
        yield _no_progress
        return
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda size: bar.advance(task, size)
