"""Names, constants and small helpers shared by the store's writer and reader."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

#: 2: tracks are stored divided by their robust scale (``track_scales`` in the manifest)
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
GENES = "genes.tsv"
CONTACT = "contact.npy"
#: float32 (n_genes, nb, nb) contact between every pair of a gene's genome-aligned Hi-C bins
#: (same bins, pseudocount and normalisation as ``contact.npy``, whose rows are the TSS rows
#: of these matrices; not log-transformed).  Absent from stores of older seq2exp versions.
CONTACT_MATRIX = "contact_matrix.npy"
BLACKLIST = "blacklist.bed"
SEQ_DIR = "seq"
TRACK_DIR = "tracks"

#: The paper's cross-chromosome split (method.md).
DEFAULT_VAL_CHROMS: tuple[str, ...] = ("chr3", "chr21")
DEFAULT_TEST_CHROMS: tuple[str, ...] = ("chr22", "chrX")

#: Name of the derived contact signal channel.
CONTACT_TRACK = "contact"


def seq_path(root: Path, chrom: str) -> Path:
    """Return the path of a chromosome's sequence codes in a store."""
    return Path(root) / SEQ_DIR / f"{chrom}.npy"


def track_path(root: Path, track: str, chrom: str) -> Path:
    """Return the path of a chromosome's values of one track in a store."""
    return Path(root) / TRACK_DIR / track / f"{chrom}.npy"


def file_record(path: str | os.PathLike, checksum: bool = True) -> dict:
    """Path, size and sha256 of an input file, for the manifest."""
    p = Path(path)
    rec = {"path": str(p.resolve()), "size": p.stat().st_size}
    if checksum:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        rec["sha256"] = h.hexdigest()
    return rec


def assign_split(
    chroms: Sequence[str],
    val_chroms: Iterable[str],
    test_chroms: Iterable[str],
    resolve,
) -> np.ndarray:
    """Label each gene's chromosome ``train``, ``val`` or ``test``.

    Parameters
    ----------
    chroms:
        Canonical chromosome of each gene.
    val_chroms, test_chroms:
        Chromosome names (aliases allowed; names absent from the genome are ignored).
    resolve:
        Callable mapping a name to its canonical form or ``None``.
    """
    val = {resolve(c) for c in val_chroms} - {None}
    test = {resolve(c) for c in test_chroms} - {None}
    overlap = val & test
    if overlap:
        from ..errors import Seq2ExpError

        raise Seq2ExpError(
            f"chromosome(s) {', '.join(sorted(overlap))} are in both --val-chroms and "
            "--test-chroms; give each chromosome to one split"
        )
    out = np.full(len(chroms), "train", dtype=object)
    c = np.asarray(chroms, dtype=object)
    out[np.isin(c, list(val))] = "val"
    out[np.isin(c, list(test))] = "test"
    return out
