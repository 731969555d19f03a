"""Rich progress bars on stderr (never stdout, so pipes stay clean).

Every library function that shows one takes an argument that turns it off
(``progress=False`` or ``show_progress=False``).  A bar is drawn only when stderr is a
terminal, unless the command line asks for bars anyway (:func:`force_progress`).
"""

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
_FORCED = {"on": False}


def stderr_console() -> Console:
    """Return the shared rich console that writes to stderr."""
    return _STDERR


def force_progress(on: bool = True) -> None:
    """Draw enabled bars even when stderr is not a terminal (the CLI's ``SEQ2EXP_PROGRESS=1``)."""
    _FORCED["on"] = bool(on)


@contextlib.contextmanager
def progress_bar(enabled: bool = True, *extra_columns) -> Iterator[Progress]:
    """Yield a rich ``Progress`` on stderr; disabled (but still usable) unless it is wanted.

    It is drawn when ``enabled`` and stderr is a terminal (or :func:`force_progress` is on).
    """
    show = enabled and (sys.stderr.isatty() or _FORCED["on"])
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
