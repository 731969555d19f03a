"""IGV sessions and batch scripts (https://igv.org/doc/desktop/#UserGuide/sessions/).

A session names the genome (a FASTA with its ``.fai``) and the tracks to load; IGV
resolves relative paths against the session's folder, so :func:`write_session` writes
paths relative to it.  BED files whose extra columns IGV would misread (seq2exp's BED6+4,
truth_elements.bed) are rewritten as BED9 with an ``itemRgb`` colour per kind, the colours
of :data:`seq2exp_cli.plot.COLORS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd

from ..errors import Seq2ExpError
from .atomic import write_text_atomic

__all__ = ["SessionInfo", "batch_script", "write_session"]


@dataclass
class SessionInfo:
    """What :func:`write_session` wrote: the session, its tracks (names) and its locus."""

    path: Path
    locus: str
    tracks: list[str] = field(default_factory=list)
    derived: list[Path] = field(default_factory=list)


def _rgb(hex_color: str) -> str:
    h = hex_color.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))


def _rel(p: Path, folder: Path) -> str:
    try:
        return os.path.relpath(Path(p).resolve(), folder.resolve())
    except ValueError:  # another drive
        return str(Path(p).resolve())


def _bed9(df: pd.DataFrame, out: Path, name: str, kind_col: str | None, color: str) -> None:
    """Write chrom/start/end/name/... rows as BED9 with itemRgb by the kind in ``kind_col``."""
    from ..colors import color_of

    kinds = df[kind_col].astype(str) if kind_col else pd.Series(name, index=df.index)
    label = df["name"].astype(str) if "name" in df else kinds
    score = pd.to_numeric(df["score"], errors="coerce").fillna(0).clip(0, 1000).astype(int) \
        if "score" in df else 0
    strand = df["strand"].astype(str).where(df["strand"].isin(["+", "-"]), ".") \
        if "strand" in df else "."
    rgb = kinds.map(lambda k: _rgb(color_of(k) if kind_col else color))
    bed = pd.DataFrame({"chrom": df["chrom"], "start": df["start"].astype(int),
                        "end": df["end"].astype(int), "name": label, "score": score,
                        "strand": strand, "ts": df["start"].astype(int),
                        "te": df["end"].astype(int), "rgb": rgb})
    bed = bed.sort_values(["chrom", "start"], kind="stable")
    text = f'track name="{name}" itemRgb="On"\n' + bed.to_csv(sep="\t", header=False,
                                                              index=False)
    write_text_atomic(out, text)


def _locus(locus: str | None, genes: pd.DataFrame | None, width: int, sizes: dict) -> str:
    if locus is None:
        if genes is not None and len(genes):
            locus = str(genes.iloc[0]["gene_id"])
        else:
            c = next(iter(sizes))
            return f"{c}:1-{min(sizes[c], width):,}".replace(",", "")
    if ":" in locus and "-" in locus.split(":")[-1]:
        return locus.replace(",", "")
    if genes is not None:
        hit = genes[(genes["gene_id"].astype(str) == locus) | (genes["name"].astype(str) == locus)]
        if len(hit):
            g = hit.iloc[0]
            lo = max(int(g["tss"]) - width // 2, 0)
            hi = min(int(g["tss"]) + width // 2, sizes.get(g["chrom"], int(g["tss"]) + width))
            return f"{g['chrom']}:{lo + 1}-{hi}"
    raise Seq2ExpError(f"--locus {locus}: not a gene of the genes file nor CHROM:START-END")


def write_session(
    out: str | os.PathLike, genome: str | os.PathLike, *, genes=None, tracks=None, mask=None,
    elements=None, links=None, peaks=None, truth=None, locus: str | None = None,
    width: int = 100_000,
) -> SessionInfo:
    """Write an IGV session XML naming the genome and every given track.

    Parameters
    ----------
    out : path
        The session (``.xml``); derived BED9 files go to ``<out stem>_tracks/`` beside it.
    genome : path
        Genome FASTA (IGV needs its ``.fai``; it is built when missing).
    genes : path, optional
        GTF / GFF3 (loaded as is) or a TSS table / BED6 (rewritten as BED9 TSSs).
    tracks : dict of str to path, optional
        Signal bigWigs by name (``dnase``, ``h3k27ac``); None values are skipped.
    mask, elements, links, peaks, truth : path, optional
        The mask bigWig, call-elements BED, call-links BEDPE, peaks, truth_elements.bed.
    locus : str, optional
        Gene id / name (its TSS ± ``width`` / 2) or ``CHROM:START-END``; default the
        first gene.
    width : int
        bp shown around a gene's TSS.

    Returns
    -------
    SessionInfo
    """
    from ..io.bed import read_interval_table
    from ..io.fasta import Genome
    from ..io.genes import read_genes
    from ..colors import COLORS, display_name

    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    derived_dir = folder / f"{out.stem}_tracks"
    g = Genome(genome)  # builds the .fai when missing
    sizes = dict(g.chroms.sizes)
    gene_table = read_genes(genes) if genes is not None else None
    res = SessionInfo(out, _locus(locus, gene_table, width, sizes))

    entries: list[tuple[str, str, str | None]] = []  # (path, name, colour "r,g,b")

    def derived(name: str) -> Path:
        derived_dir.mkdir(parents=True, exist_ok=True)
        p = derived_dir / name
        res.derived.append(p)
        return p

    if genes is not None:
        kind = Path(genes).name.lower()
        if kind.endswith((".gtf", ".gtf.gz", ".gff", ".gff3", ".gff.gz", ".gff3.gz")):
            entries.append((_rel(genes, folder), "genes", _rgb(COLORS["gene"])))
        else:
            t = gene_table
            tss = pd.DataFrame({"chrom": t["chrom"], "start": t["tss"], "end": t["tss"] + 1,
                                "name": t["name"].astype(str), "strand": t["strand"]})
            p = derived("genes_tss.bed")
            _bed9(tss, p, "gene TSSs", None, COLORS["gene"])
            entries.append((_rel(p, folder), "gene TSSs", _rgb(COLORS["gene"])))
    for name, p in (tracks or {}).items():
        if p is not None:
            entries.append((_rel(p, folder), display_name(name), _rgb(COLORS.get(name, "#444444"))))
    if mask is not None:
        entries.append((_rel(mask, folder), "learned mask", _rgb(COLORS["mask"])))
    if elements is not None:
        p = derived("elements.bed")
        _bed9(read_interval_table(elements), p, "seq2exp elements", None, COLORS["elements"])
        entries.append((_rel(p, folder), "seq2exp elements", _rgb(COLORS["elements"])))
    if peaks is not None:
        entries.append((_rel(peaks, folder), "peaks", _rgb(COLORS["peaks"])))
    if truth is not None:
        t = read_interval_table(truth)
        if "name" not in t:
            raise Seq2ExpError(f"{truth}: needs a name column with the element kind")
        p = derived("truth.bed")
        _bed9(t.assign(kind=t["name"]), p, "truth", "kind", "#000000")
        entries.append((_rel(p, folder), "truth (by kind)", None))
    if links is not None:
        entries.append((_rel(links, folder), "learned links", _rgb(COLORS["links"])))

    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
             f'<Session genome={quoteattr(_rel(genome, folder))} hasGeneTrack="false" '
             f'hasSequenceTrack="true" locus={quoteattr(res.locus)} version="8">',
             "    <Resources>"]
    for path, name, color in entries:
        col = f" color={quoteattr(color)}" if color else ""
        lines.append(f"        <Resource name={quoteattr(name)} path={quoteattr(path)}{col}/>")
        res.tracks.append(name)
    lines += ["    </Resources>", "</Session>", ""]
    write_text_atomic(out, "\n".join(lines))
    return res


def batch_script(session: Path, locus: str, png: Path) -> str:
    """Return an IGV batch script: load ``session``, go to ``locus``, save ``png``, exit."""
    return (f"load {session}\n"
            f"goto {locus}\n"
            f"snapshotDirectory {png.parent}\n"
            f"maxPanelHeight 1200\n"
            f"snapshot {png.name}\n"
            "exit\n")
