"""Gene models (transcript span, exons, strand, name) for drawing a locus.

Formats: GTF2.2 (https://mblab.wustl.edu/GTF22.html) and GFF3
(https://github.com/The-Sequence-Ontology/Specifications/blob/master/gff3.md): each gene is
drawn with one transcript, the one tagged ``Ensembl_canonical`` (else ``MANE_Select``, else
the longest).  A TSS table or BED6 (:func:`seq2exp_cli.io.genes.read_genes`) has no gene
bodies: its genes come back as a TSS with a strand (``has_body`` False).

Coordinates are 0-based half-open bp (GTF/GFF3's 1-based inclusive ones are converted).
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .genes import CANONICAL_TAGS, _kind, read_genes

__all__ = ["read_gene_models", "MODEL_COLUMNS"]

#: the columns of :func:`read_gene_models`' table
MODEL_COLUMNS = ["gene_id", "name", "chrom", "start", "end", "strand", "exons", "has_body"]

_GTF_KEY = re.compile(r'(\w+) "([^"]*)"')


def _attrs(text: str, gff3: bool) -> dict[str, str]:
    if gff3:
        out = {}
        for part in text.strip().strip(";").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                out[k] = v
        return out
    out: dict[str, str] = {}
    for k, v in _GTF_KEY.findall(text):
        if k == "tag":
            out["tag"] = out.get("tag", "") + f"{v},"
        else:
            out.setdefault(k, v)
    return out


def _open(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def _from_annotation(path: Path, chrom: str, start: int, end: int, gff3: bool) -> pd.DataFrame:
    genes: dict[str, dict] = {}
    txs: dict[str, dict] = {}
    exons: dict[str, list] = {}
    prefixes = (f"{chrom}\t",)
    bare = chrom[3:] if chrom.startswith("chr") else f"chr{chrom}"
    prefixes += (f"{bare}\t",)
    with _open(path) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.startswith(prefixes):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) < 9:
                continue
            try:
                s, e = int(f[3]) - 1, int(f[4])
            except ValueError:
                raise InputError(f"{path}: line {number}: start/end are not integers") from None
            if e <= start or s >= end:
                continue
            a = _attrs(f[8], gff3)
            kind = f[2]
            if gff3:
                fid, parent = a.get("ID", ""), a.get("Parent", "").split(",")[0]
                if kind.endswith("gene") or kind == "pseudogene":
                    genes[fid] = {"name": a.get("Name", fid), "strand": f[6], "s": s, "e": e}
                elif kind == "exon":
                    exons.setdefault(parent, []).append((s, e))
                elif parent:
                    txs[fid] = {"gene": parent, "s": s, "e": e, "strand": f[6],
                                "tag": a.get("tag", "")}
            else:
                gid, tid = a.get("gene_id", ""), a.get("transcript_id", "")
                if kind == "gene":
                    genes[gid] = {"name": a.get("gene_name", gid), "strand": f[6], "s": s, "e": e}
                elif kind == "transcript":
                    txs[tid] = {"gene": gid, "s": s, "e": e, "strand": f[6], "tag": a.get("tag", ""),
                                "name": a.get("gene_name", gid)}
                elif kind == "exon" and tid:
                    exons.setdefault(tid, []).append((s, e))
                    if tid not in txs:
                        txs.setdefault(tid, {"gene": gid, "s": s, "e": e, "strand": f[6],
                                             "tag": a.get("tag", ""),
                                             "name": a.get("gene_name", gid)})
    chosen: dict[str, tuple] = {}
    for tid, t in txs.items():
        rank = (0 if CANONICAL_TAGS[0] in t["tag"] else 1 if CANONICAL_TAGS[1] in t["tag"] else 2,
                -(t["e"] - t["s"]))
        g = t["gene"]
        if g not in chosen or rank < chosen[g][0]:
            chosen[g] = (rank, tid)
    rows = []
    for g in dict.fromkeys([*genes, *chosen]):
        info = genes.get(g, {})
        if g in chosen:
            tid = chosen[g][1]
            t = txs[tid]
            ex = sorted(exons.get(tid, [])) or [(t["s"], t["e"])]
            s, e, strand = min(t["s"], ex[0][0]), max(t["e"], ex[-1][1]), t["strand"]
            name = info.get("name") or t.get("name") or g
        else:
            s, e, strand, name = info["s"], info["e"], info["strand"], info["name"]
            ex = [(s, e)]
        gid = g[5:] if gff3 and g.startswith("gene:") else g
        rows.append((gid, name, chrom, int(s), int(e), strand, ex, True))
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def read_gene_models(path: str | os.PathLike, chrom: str, start: int, end: int) -> pd.DataFrame:
    """Read the genes overlapping ``chrom:[start, end)`` with their exons.

    Parameters
    ----------
    path : str or PathLike
        GTF / GFF3 (``.gz`` allowed): transcript spans and exons; or a TSS table / BED6:
        TSSs only.
    chrom : str
        Chromosome (``chr1`` also matches ``1`` in the file and the other way round).
    start, end : int
        The region, 0-based half-open bp.

    Returns
    -------
    pandas.DataFrame
        :data:`MODEL_COLUMNS`: ``exons`` is a list of ``(start, end)`` pairs; without gene
        bodies ``start`` is the TSS, ``end`` = TSS + 1, ``has_body`` False.

    Raises
    ------
    InputError
        The file is missing or of an unknown kind.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: gene annotation not found; check the path")
    kind = _kind(p)
    if kind in ("gtf", "gff3"):
        return _from_annotation(p, chrom, int(start), int(end), kind == "gff3")
    g = read_genes(p)
    alt = chrom[3:] if chrom.startswith("chr") else f"chr{chrom}"
    g = g[g["chrom"].isin([chrom, alt]) & (g["tss"] >= start) & (g["tss"] < end)]
    return pd.DataFrame({
        "gene_id": g["gene_id"].astype(str).to_numpy(), "name": g["name"].astype(str).to_numpy(),
        "chrom": chrom, "start": g["tss"].to_numpy(), "end": g["tss"].to_numpy() + 1,
        "strand": g["strand"].to_numpy(), "exons": [[] for _ in range(len(g))],
        "has_body": False,
    }, columns=MODEL_COLUMNS)
