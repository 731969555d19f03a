"""Progress on stderr (never stdout, so pipes stay clean): rich bars, or plain lines.

Every library function that shows progress takes an argument that turns it off
(``progress=False`` or ``show_progress=False``).  How enabled progress is shown:

- on a terminal: a rich bar;
- without one (stderr redirected to a file, a batch job): a plain line through
  :mod:`logging` (logger ``seq2exp_cli.progress``) every :data:`PLAIN_EVERY_S` seconds
  while a task runs, e.g. ``training: step 120 of 3,000 (4 %), loss 0.1234, val MSE
  0.2001, 7,100 tokens/s; 2 min 10 s elapsed, about 51 min left``, and a last line when
  a task that printed one ends.

:func:`set_progress` changes the choice (the command line's ``SEQ2EXP_PROGRESS``:
``bar`` or ``1`` bars always, ``plain`` or ``0`` plain lines always, ``off`` nothing).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
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

log = logging.getLogger(__name__)

#: seconds between two plain progress lines (the issue asks for at least one every 30 s)
PLAIN_EVERY_S = 20.0
#: how enabled progress is shown: auto (bars on a terminal, else plain lines), bar, plain, off
MODES = ("auto", "bar", "plain", "off")

_STDERR = Console(stderr=True)
_STATE = {"mode": "auto", "every": PLAIN_EVERY_S}


def stderr_console() -> Console:
    """Return the shared rich console that writes to stderr."""
    return _STDERR


def set_progress(mode: str = "auto", every: float | None = None) -> None:
    """Choose how enabled progress is shown.

    Parameters
    ----------
    mode : str
        ``auto`` (bars on a terminal, plain lines otherwise), ``bar``, ``plain`` or ``off``.
    every : float, optional
        Seconds between plain lines (default :data:`PLAIN_EVERY_S`).

    Raises
    ------
    ValueError
        An unknown mode or a non-positive interval.
    """
    if mode not in MODES:
        raise ValueError(f"progress mode {mode!r}: choose one of {', '.join(MODES)}")
    if every is not None and not every > 0:
        raise ValueError(f"progress interval {every!r}: must be > 0 seconds")
    _STATE["mode"] = mode
    _STATE["every"] = float(every) if every is not None else PLAIN_EVERY_S


def force_progress(on: bool = True) -> None:
    """Draw bars even when stderr is not a terminal (``set_progress("bar")``); off: ``auto``."""
    set_progress("bar" if on else "auto")


def format_seconds(s: float) -> str:
    """``75`` -> ``1 min 15 s``; ``4000`` -> ``1 h 07 min``; ``8`` -> ``8 s``."""
    s = max(0, int(round(s)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class _Task:
    def __init__(self, description: str, total: float | None, completed: float, unit: str):
        self.description = description
        self.total = total
        self.completed = float(completed)
        self.unit = unit
        self.start = time.monotonic()
        self.first = float(completed)  # completed when it started (a resumed run)
        self.printed = False
        self.done = False


class PlainProgress:
    """The part of rich's ``Progress`` the library uses, reported as plain log lines.

    A daemon thread logs one line per running task every ``every`` seconds, so a long step
    (or a validation pass) between two updates still gets its line.
    """

    def __init__(self, every: float = PLAIN_EVERY_S):
        self.every = float(every)
        self._tasks: dict[int, _Task] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="seq2exp-progress", daemon=True)

    # -- the rich.progress.Progress interface ------------------------------------------
    def add_task(self, description: str, total: float | None = 100.0, completed: float = 0,
                 unit: str = "", **fields) -> int:
        """Start a task; ``unit`` names what it counts (``steps``, ``genes``)."""
        with self._lock:
            tid = len(self._tasks)
            self._tasks[tid] = _Task(description, total, completed, unit)
        return tid

    def update(self, task_id: int, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None, description: str | None = None, **fields) -> None:
        """Change a task's total, progress or description."""
        with self._lock:
            t = self._tasks[task_id]
            if total is not None:
                t.total = total
            if completed is not None:
                t.completed = float(completed)
            if advance is not None:
                t.completed += float(advance)
            if description is not None:
                t.description = description

    def advance(self, task_id: int, advance: float = 1) -> None:
        """Add ``advance`` to a task's progress."""
        self.update(task_id, advance=advance)

    # -- lines ------------------------------------------------------------------------
    def line(self, t: _Task, final: bool = False) -> str:
        """Return the progress line of one task (module docstring); ``final``: its last."""
        head, _, tail = t.description.partition(": ")
        unit = t.unit
        count = f"{t.completed:,.0f}"
        if t.total:
            count += f" of {t.total:,.0f}"
        if unit:
            count = (f"{unit[:-1]} {count}" if unit.endswith("s") and unit != "bp"
                     else f"{count} {unit}")
        text = f"{head}: {count}"
        if t.total:
            text += f" ({100.0 * t.completed / t.total:.0f} %)"
        if tail:
            text += f", {tail}"
        elapsed = time.monotonic() - t.start
        if final:
            return text + f"; done in {format_seconds(elapsed)}"
        text += f"; {format_seconds(elapsed)} elapsed"
        rate_done = t.completed - t.first
        if t.total and rate_done > 0 and t.completed < t.total:
            left = elapsed / rate_done * (t.total - t.completed)
            text += f", about {format_seconds(left)} left"
        return text

    def _report(self, final: bool = False) -> None:
        with self._lock:
            tasks = list(self._tasks.values())
        for t in tasks:
            if t.done:
                continue
            finished = t.total is not None and t.completed >= t.total
            if final or finished:
                if t.printed:  # a task that printed a line says when it ends
                    t.done = True
                    log.info("%s", self.line(t, final=True))
                else:
                    t.done = finished or final
                continue
            t.printed = True
            log.info("%s", self.line(t))

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._report()

    def __enter__(self) -> "PlainProgress":
        """Start the reporting thread."""
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        """Stop the thread; say how the tasks that printed a line ended."""
        self._stop.set()
        self._thread.join()
        if exc[0] is None:
            self._report(final=True)


@contextlib.contextmanager
def progress_bar(enabled: bool = True, *extra_columns) -> Iterator[Progress | PlainProgress]:
    """Yield a progress reporter on stderr: a rich ``Progress`` or a :class:`PlainProgress`.

    Parameters
    ----------
    enabled : bool
        False: a disabled rich ``Progress`` (usable, shows nothing).
    *extra_columns
        More rich columns for the bar.

    With ``enabled``, what is shown follows :func:`set_progress`: by default a bar when
    stderr is a terminal, else plain lines every :data:`PLAIN_EVERY_S` seconds.
    """
    mode = _STATE["mode"]
    if enabled and (mode == "plain" or (mode == "auto" and not sys.stderr.isatty())):
        with PlainProgress(_STATE["every"]) as plain:
            yield plain
        return
    show = enabled and mode != "off"
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
