"""Turn the shared input options into a window source: a store, or raw files.

Every input not given as a flag is looked up in the environment and the project config
(:mod:`.resolve`), so ``seq2exp call-elements`` works bare in a folder with a
``seq2exp.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import Seq2ExpError
from .options import collect_tracks
from .resolve import find_input, resolve_fasta


def open_source(
    store: Optional[Path],
    genes: Optional[Path],
    fasta: Optional[Path],
    dnase: Optional[Path],
    h3k27ac: Optional[Path],
    track: Optional[list[str]],
    hic: Optional[Path],
    targets: Optional[Path],
    blacklist: Optional[Path],
    window_bp: int,
    resolution: int = 5000,
    normalization: str = "VC",
    needed: tuple[str, ...] = (),
):
    """A :class:`~seq2exp_cli.store.windows.WindowSource` for the given inputs.

    ``needed`` names the model's signals: a needed track that no flag gives is looked up
    in the environment / project config (``SEQ2EXP_H3K27AC``, ``h3k27ac = ...``).
    """
    from ..store import Store
    from ..store.live import FileWindows

    if store is not None:
        return Store(store)
    genes = find_input("genes", genes)
    if genes is None:
        raise Seq2ExpError(
            "no inputs: pass --store STORE, or --genes genes.tsv with --dnase/--h3k27ac bigWigs "
            "(or a seq2exp.toml naming them)"
        )
    given = {s.split("=", 1)[0].strip().lower() for s in track or []}
    if dnase is None and "dnase" not in given and ("dnase" in needed or not (h3k27ac or track)):
        dnase = find_input("dnase", None)
    if h3k27ac is None and "h3k27ac" in needed and "h3k27ac" not in given:
        h3k27ac = find_input("h3k27ac", None)
    tracks = collect_tracks(dnase, h3k27ac, track)
    for name in needed:
        if name not in tracks and name != "contact" and name not in ("dnase", "h3k27ac"):
            p = find_input(name, None)
            if p is not None:
                tracks[name] = p
    return FileWindows(
        fasta=resolve_fasta(fasta),
        genes=genes,
        tracks=tracks,
        hic=find_input("hic", hic),
        targets=find_input("targets", targets),
        blacklist=find_input("blacklist", blacklist),
        window_bp=window_bp,
        resolution=resolution,
        normalization=normalization.upper(),
    )
