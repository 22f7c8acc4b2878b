"""Rich progress bars for long jobs (the library reports through callbacks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["batch_progress", "console", "err_console", "progress_bar"]

console = Console()
err_console = Console(stderr=True)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``(done, total)`` callback that drives a progress bar on stderr."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def batch_progress(total: int) -> Iterator[Callable[[Any], None]]:
    """Yield a callback taking a batch's progress (scenes, plumes, throughput) for a bar."""
    with Progress(
        TextColumn("[bold]scenes"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("scenes", total=total, detail="")

        def update(p: Any) -> None:
            failed = f", [red]{p.failed} failed[/]" if p.failed else ""
            bar.update(
                task,
                completed=p.finished,
                detail=f"{p.plumes} plume(s){failed} · {p.scenes_per_min:.1f} scenes/min · "
                f"{p.mb_per_s:.0f} MB/s",
            )

        yield update
