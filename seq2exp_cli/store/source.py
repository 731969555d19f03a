"""One entry point for a model's inputs: a dataset store, or raw files read on demand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from ..errors import Seq2ExpError
from .windows import WindowSource

__all__ = ["open_source"]


def open_source(
    store: str | os.PathLike | WindowSource | None = None,
    *,
    window_bp: int = 200_000,
    dnase: str | os.PathLike | None = None,
    h3k27ac: str | os.PathLike | None = None,
    tracks: Mapping[str, str | os.PathLike] | None = None,
    quiet: bool = False,
    **files: Any,
) -> WindowSource:
    """Open a window source: a store, or the raw files given by keyword.

    Parameters
    ----------
    store : str, PathLike or WindowSource, optional
        A store written by :func:`~seq2exp_cli.store.preprocess` (or an open source,
        returned as is).  Without it the raw ``files`` are read.
    window_bp : int
        Window width in bp when reading raw files (a store has its own).
    dnase, h3k27ac : str or PathLike, optional
        bigWig tracks (shorthand for ``tracks={"dnase": ..., "h3k27ac": ...}``).
    tracks : mapping of str to path, optional
        Other named bigWig tracks.
    quiet : bool
        Do not log the input notices of raw files.
    **files
        Fields of :class:`~seq2exp_cli.store.inputs.InputFiles`: ``fasta``, ``genes``,
        ``hic``, ``targets``, ``blacklist``, ``resolution``, ``normalization``, ...

    Returns
    -------
    WindowSource
        A :class:`~seq2exp_cli.store.Store` or :class:`~seq2exp_cli.store.live.FileWindows`.

    Raises
    ------
    Seq2ExpError
        Both a store and raw files, or neither a store nor a gene table and genome.
    """
    from .inputs import track_paths

    merged = track_paths(dnase, h3k27ac, tracks)
    if store is not None:
        given = sorted(k for k, v in files.items() if v is not None)
        if merged or given:
            raise Seq2ExpError("give a store or raw input files, not both "
                               f"({', '.join(list(merged) + given)} given with the store)")
        if isinstance(store, WindowSource):
            return store
        from .store import Store

        return Store(Path(store))
    if files.get("genes") is None or files.get("fasta") is None:
        raise Seq2ExpError("no inputs: give a store, or a genome FASTA and a gene table with "
                           "bigWig tracks (fasta=, genes=, dnase=/h3k27ac=)")
    from .live import FileWindows

    return FileWindows(window_bp=window_bp, quiet=quiet, tracks=merged, **files)
