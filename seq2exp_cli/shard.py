"""Split one genome's genes over jobs (scatter) and join the jobs' outputs (gather).

``seq2exp predict`` and ``seq2exp call-elements`` take ``--chroms chr1,chr2`` (only the
genes on these chromosomes) and ``--shard I/N`` (the I-th of N parts, 1-based, as in
``split -n l/I/N``).  A shard is a group of *whole* chromosomes: the chromosomes, in the
order their first gene appears in the gene table, are cut into N consecutive groups of
about equal gene counts (:func:`shard_chroms`).  Whole chromosomes keep the shards exact:

- genes are batched per chromosome (:func:`chrom_batches`), so a gene meets the same
  batch neighbours with or without sharding and gets bit-identical model outputs;
- merged elements (``--merged``) never join genes of two chromosomes;
- each chromosome's mask bigWig values come from one shard.

The outputs of shards ``1/N`` .. ``N/N`` joined by :func:`gather_tsv` (predictions:
concatenated, one header), :func:`gather_bed` (elements: concatenated and sorted as
``call-elements`` sorts) and :func:`gather_bigwig` (mask: the per-base maximum) equal the
unsharded outputs byte for byte, given the same other options and a gene table whose
chromosomes are contiguous (sorted by chromosome, as GTFs and the simulator's tables are;
with interleaved chromosomes :func:`select_genes` warns, and only the row order of the
joined predictions differs).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, Seq2ExpError

log = logging.getLogger(__name__)

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Part ``index`` (1-based) of ``count`` parts."""

    index: int
    count: int

    def __str__(self) -> str:
        """Format as ``I/N``, the way ``--shard`` takes it."""
        return f"{self.index}/{self.count}"


def parse_shard(text: str, flag: str = "--shard") -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``; anything else is a one-line :class:`InputError`.

    Parameters
    ----------
    text:
        ``I/N`` with ``1 <= I <= N``.
    flag:
        Name used in the error message.
    """
    m = _SHARD_RE.match(str(text))
    if not m:
        raise InputError(f"{flag} {text}: expected I/N (shard I of N, 1-based), e.g. {flag} 1/4")
    i, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= i <= n:
        raise InputError(f"{flag} {text}: shard I of N needs 1 <= I <= N "
                         f"(here N = {n}); e.g. {flag} 1/{max(n, 1)}")
    return Shard(i, n)


def parse_chrom_list(text: str, flag: str = "--chroms") -> list[str]:
    """``"chr1, chr2"`` -> ``["chr1", "chr2"]``; an empty list is an :class:`InputError`."""
    chroms = list(dict.fromkeys(c.strip() for c in str(text).split(",") if c.strip()))
    if not chroms:
        raise InputError(f"{flag} '{text}': no chromosome named; e.g. {flag} chr1,chr2")
    return chroms


def chrom_order(chroms: Iterable[str]) -> list[str]:
    """Distinct chromosome names in order of first appearance."""
    return list(dict.fromkeys(str(c) for c in chroms))


def shard_chroms(gene_chroms: Sequence[str], count: int) -> list[list[str]]:
    """Cut the chromosomes of a gene list into ``count`` groups of whole chromosomes.

    Chromosomes keep the order of their first gene; group boundaries fall where the
    running gene count crosses multiples of ``total / count``: a chromosome goes to
    group ``floor(count * m / total)``, ``m`` the running count at its middle gene.  Groups
    can be empty (when ``count`` exceeds the chromosomes, or one chromosome holds more
    than a group's share).

    Parameters
    ----------
    gene_chroms:
        The chromosome of each gene, in gene-table order.
    count:
        Number of groups, >= 1.

    Returns
    -------
    list of ``count`` lists of chromosome names; their concatenation is the chromosome
    order.
    """
    if count < 1:
        raise ValueError(f"shard_chroms: count must be >= 1, not {count}")
    order = chrom_order(gene_chroms)
    sizes = pd.Series(list(gene_chroms), dtype=object).value_counts()
    total = int(sizes.sum())
    groups: list[list[str]] = [[] for _ in range(count)]
    done = 0
    for c in order:
        n = int(sizes[c])
        k = min(count - 1, (count * (2 * done + n)) // (2 * total))
        groups[k].append(c)
        done += n
    return groups


def select_genes(
    genes: pd.DataFrame,
    indices: Sequence[int] | np.ndarray | None = None,
    chroms: Sequence[str] | None = None,
    shard: Shard | None = None,
    known_chroms: Iterable[str] | None = None,
) -> np.ndarray | None:
    """Rows of ``genes`` to run: ``indices`` (None = all) on ``chroms``, then ``shard``.

    Parameters
    ----------
    genes:
        The source's gene table (a ``chrom`` column), in its order.
    indices:
        Rows already chosen (``--split``, ``--gene``), in the order to run them.
    chroms:
        Keep genes on these chromosomes (``--chroms``).  A name that is not a chromosome
        of the genome (``known_chroms``, default the genes' chromosomes) is an error; a
        chromosome without genes selects nothing.
    shard:
        Keep the genes of this group of :func:`shard_chroms`, computed over the genes left
        after ``indices`` and ``chroms``.

    Returns
    -------
    np.ndarray of row indices (int64), or None (every gene) when nothing restricts them.
    """
    if chroms is None and shard is None:
        return None if indices is None else np.asarray(indices, dtype=np.int64)
    col = genes["chrom"].astype(str).to_numpy()
    idx = np.arange(len(genes)) if indices is None else np.asarray(indices)
    idx = idx.astype(np.int64)
    if chroms is not None:
        known = set(known_chroms) if known_chroms is not None else set(col)
        unknown = [c for c in chroms if c not in known]
        if unknown:
            shown = ", ".join(list(dict.fromkeys(col))[:8]) or "none"
            raise Seq2ExpError(f"--chroms: '{unknown[0]}' is not a chromosome of the inputs "
                               f"(genes are on {shown}); check the name")
        idx = idx[np.isin(col[idx], list(chroms))]
    if shard is not None:
        sel = col[idx]
        if len(sel) and not _contiguous(sel):
            log.warning("genes of one chromosome are not contiguous in the gene table; the "
                        "shards' predictions, concatenated, will be ordered by chromosome; "
                        "sort the gene table by chromosome for the unsharded order")
        mine = shard_chroms(list(sel), shard.count)[shard.index - 1] if len(sel) else []
        idx = idx[np.isin(sel, mine)]
    return idx


def _contiguous(chroms: np.ndarray) -> bool:
    """Tell whether each chromosome's entries form one run."""
    starts = np.concatenate([[True], chroms[1:] != chroms[:-1]])
    return len(set(chroms[starts])) == int(starts.sum())


def chrom_groups(gene_chroms: np.ndarray, indices: np.ndarray) -> list[np.ndarray]:
    """Group positions into ``indices`` by chromosome.

    Groups come in order of first appearance, each in ``indices`` order.
    """
    sel = np.asarray(gene_chroms)[np.asarray(indices, dtype=np.int64)]
    return [np.flatnonzero(sel == c) for c in chrom_order(sel)]


def chrom_batches(
    gene_chroms: np.ndarray, indices: np.ndarray, batch_size: int
) -> Iterator[np.ndarray]:
    """Batches of ``indices`` (row numbers) that never mix chromosomes.

    Each chromosome's genes (in ``indices`` order) are cut into batches of ``batch_size``
    from its first gene, so a gene's batch does not depend on the other chromosomes
    selected: sharded and unsharded runs give the same batches, hence bit-identical model
    outputs.
    """
    idx = np.asarray(indices, dtype=np.int64)
    for pos in chrom_groups(gene_chroms, idx):
        for s in range(0, len(pos), batch_size):
            yield idx[pos[s: s + batch_size]]


# ---------------------------------------------------------------------------- gather
def _read_lines(path: str | os.PathLike) -> list[str]:
    try:
        with open(path) as fh:
            return fh.read().splitlines(keepends=True)
    except FileNotFoundError:
        raise InputError(f"{path}: shard output not found; run every shard first") from None


def gather_tsv(inputs: Sequence[str | os.PathLike], output: str | os.PathLike) -> None:
    """Concatenate shard TSVs (``seq2exp predict -o``) with one header, atomically.

    Every input must have the same header line; rows keep shard order.
    """
    from .io.atomic import atomic_path

    if not inputs:
        raise Seq2ExpError("gather_tsv: no shard outputs given")
    parts = [_read_lines(p) for p in inputs]
    header = parts[0][:1]
    for p, lines in zip(inputs, parts):
        if lines[:1] != header:
            raise InputError(f"{p}: header differs from {inputs[0]}'s; the shards were run "
                             "with different options, rerun them alike")
    with atomic_path(output) as tmp, open(tmp, "w") as fh:
        fh.writelines(header)
        for lines in parts:
            fh.writelines(lines[1:])


def _bed_key(line: str) -> tuple[str, int, int]:
    f = line.split("\t", 3)
    return f[0], int(f[1]), int(f[2])


def gather_bed(inputs: Sequence[str | os.PathLike], output: str | os.PathLike) -> None:
    """Join shard BEDs (``seq2exp call-elements -o``), atomically.

    The ``#`` header once, then every data line sorted by chromosome (lexicographic), start,
    end, as ``call-elements`` sorts; ties keep shard order.
    """
    from .io.atomic import atomic_path

    if not inputs:
        raise Seq2ExpError("gather_bed: no shard outputs given")
    heads, rows = [], []
    for p in inputs:
        lines = _read_lines(p)
        head = [x for x in lines if x.startswith("#")]
        if heads and head != heads[0]:
            raise InputError(f"{p}: header differs from {inputs[0]}'s; the shards were run "
                             "with different options, rerun them alike")
        heads.append(head)
        rows.extend(x for x in lines if not x.startswith("#") and x.strip())
    rows.sort(key=_bed_key)  # stable: equal intervals keep shard (= unsharded) order
    with atomic_path(output) as tmp, open(tmp, "w") as fh:
        fh.writelines(heads[0])
        fh.writelines(rows)


class _MaxOverShards:
    """chrom -> per-bp maximum over the shard bigWigs, read when asked (one at a time)."""

    def __init__(self, tracks, sizes: dict[str, int]):
        self._tracks, self._sizes = tracks, sizes

    def __contains__(self, chrom) -> bool:
        return chrom in self._sizes

    def __iter__(self):
        return iter(self._sizes)

    def __getitem__(self, chrom: str) -> np.ndarray:
        out = np.zeros(self._sizes[chrom], dtype=np.float32)
        for t in self._tracks:
            np.maximum(out, t.chrom_values(chrom), out=out)
        return out


def gather_bigwig(inputs: Sequence[str | os.PathLike], output: str | os.PathLike) -> None:
    """Join shard mask bigWigs (``seq2exp call-elements --bigwig``), atomically.

    The per-base maximum over the shards, with their common header; one chromosome is held
    in memory at a time.
    """
    from .io.bigwig import BigWigTrack, write_bigwig

    if not inputs:
        raise Seq2ExpError("gather_bigwig: no shard outputs given")
    for p in inputs:
        if not os.path.exists(p):
            raise InputError(f"{p}: shard output not found; run every shard first")
    tracks = [BigWigTrack(p) for p in inputs]
    try:
        sizes = tracks[0].chrom_sizes
        for p, t in zip(inputs, tracks):
            if t.chrom_sizes != sizes:
                raise InputError(f"{p}: chromosomes differ from {inputs[0]}'s; the shards "
                                 "were run on different inputs, rerun them alike")
        write_bigwig(output, sizes, _MaxOverShards(tracks, sizes))
    finally:
        for t in tracks:
            t.close()
