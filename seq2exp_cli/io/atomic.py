"""Atomic writes: write to a temporary sibling, then rename.

A run that fails or is killed never leaves a partial output at the final path, and an
output that cannot be created (a parent that is a file, a folder without write permission)
is a one-line :class:`~seq2exp_cli.errors.Seq2ExpError` before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import Seq2ExpError


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
        if directory:
            return Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; rename it onto ``path`` on success.

    If ``overwrite`` is true an existing directory at ``path`` is replaced only once the
    new one is complete.
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
