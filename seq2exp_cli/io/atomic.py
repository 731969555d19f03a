"""Atomic writes: write to a temporary sibling, then rename.

A run that fails or is killed never leaves a partial output at the final path, and an
output that cannot be created (a parent that is a file, a folder without write permission)
is a one-line :class:`~seq2exp_cli.errors.Seq2ExpError` before anything is written.

Temporary siblings are named ``.<name>.<host>-<pid>-<start>.<random>.tmp``: the writer's
host name, process id and process start time (clock ticks since boot, from
``/proc/<pid>/stat``; 0 where unknown).  A run that is killed (``kill -9``, out of memory)
cannot remove its temporary sibling, so the next atomic write to the same path removes the
siblings of writers that are dead: same host, and no process with that id, or one that
started at another time (the id was reused).  Siblings of live writers, of other hosts
(a shared file system) and of other naming schemes are left alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import Seq2ExpError

log = logging.getLogger(__name__)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _start_time(pid: int) -> int | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and parentheses: split after it
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _owner_tag() -> str:
    pid = os.getpid()
    return f"{_host()}-{pid}-{_start_time(pid) or 0}"


def _alive(pid: int, start: int) -> bool:
    """Whether the writer ``pid`` (started at ``start``, 0 = unknown) still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    if start:
        now = _start_time(pid)
        if now is not None and now != start:
            return False  # the id now belongs to another process
    return True


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.{_owner_tag()}."


def sweep_stale(path: str | os.PathLike) -> list[Path]:
    """Remove temporary siblings of ``path`` left by dead writers on this host.

    Returns
    -------
    list of Path
        The removed siblings.
    """
    path = Path(path)
    pat = re.compile(rf"^\.{re.escape(path.name)}\.(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-"
                     r"(?P<start>\d+)\.[A-Za-z0-9_]+\.tmp$")
    removed = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    host = _host()
    for p in siblings:
        m = pat.match(p.name)
        if m is None or m["host"] != host or _alive(int(m["pid"]), int(m["start"])):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        log.info("removed %s, left by a writer that is no longer running", p)
        removed.append(p)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _blocked(path: Path, exc: OSError) -> Seq2ExpError:
    """Return the one-line error for an output that cannot be created."""
    why = exc.strerror or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return Seq2ExpError(f"{path}: cannot write here: {why}{where}; choose another output path")


def _temp_sibling(path: Path, directory: bool) -> Path:
    """Create the temporary sibling of ``path`` (and its parent folders)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(path)
        prefix = _temp_prefix(path)
        if directory:
            return Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=path.parent))
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _blocked(path, exc) from exc
    os.close(fd)
    return Path(tmp)


def _default_mode(path: Path, directory: bool) -> None:
    """Give a temp file/dir the mode a plain ``open``/``mkdir`` would (mkstemp uses 0600)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    tmp = _temp_sibling(path, directory=False)
    try:
        yield tmp
        if tmp.exists():
            _default_mode(tmp, directory=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def scratch_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to ``path`` for intermediate files; always removed.

    Named as the temporary siblings are, so a killed run's folder is swept by the next
    write to ``path``.
    """
    tmp = _temp_sibling(Path(path), directory=True)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; rename it onto ``path`` on success.

    If ``overwrite`` is true an existing directory at ``path`` is replaced only once the
    new one is complete.  Temporary directories of dead writers to ``path`` are removed
    first (:func:`sweep_stale`).
    """
    path = Path(path)
    tmp = _temp_sibling(path, directory=True)
    try:
        yield tmp
        _default_mode(tmp, directory=True)
        if path.exists():
            if not overwrite:
                raise FileExistsError(path)
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
