"""Rich progress bars on stderr (never stdout, so pipes stay clean)."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_STDERR = Console(stderr=True)


def stderr_console() -> Console:
    """The shared rich console that writes to stderr."""
    return _STDERR


@contextlib.contextmanager
def progress_bar(enabled: bool = True, *extra_columns) -> Iterator[Progress]:
    """A rich ``Progress`` on stderr; disabled (but still usable) when ``enabled`` is false
    or stderr is not a terminal and ``SEQ2EXP_PROGRESS`` is unset."""
    import os

    show = enabled and (sys.stderr.isatty() or os.environ.get("SEQ2EXP_PROGRESS") == "1")
    cols = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*cols, console=_STDERR, disable=not show, transient=False) as bar:
        yield bar
