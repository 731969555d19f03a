"""Windows of sequence, signals and contact around each gene's TSS.

A window of gene ``g`` covers the genome interval ``[tss - W/2, tss + W/2)`` (0-based,
half-open, W = ``width``).  Positions past a chromosome end are padded: sequence code 4
(N), signals 0, contact 0.  With ``orient="transcript"`` (the default) windows of
minus-strand genes are reverse-complemented (sequence complemented and reversed, signals
reversed) so that upstream is always on the left; ``Window.to_genome`` maps a per-bp
array back to genome orientation.

Each gene also has a contact matrix between the genome-aligned Hi-C bins its window
touches (:meth:`WindowSource.contact_matrix`, :func:`batch_contact_matrices`), placed
relative to the window by :meth:`WindowSource.contact_shift`.

:class:`WindowSource` holds the assembly; :class:`~seq2exp_cli.store.Store` (a
preprocessed store) and :class:`~seq2exp_cli.store.live.FileWindows` (raw files, read on
demand) supply the pieces.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import Seq2ExpError

#: complement of sequence codes A=0,C=1,G=2,T=3,N=4
_COMPLEMENT = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


@dataclass
class Window:
    """One gene's input window.

    Attributes
    ----------
    seq : np.ndarray, shape=(L,), uint8
        Sequence codes A=0, C=1, G=2, T=3, N=4.
    signals : np.ndarray, shape=(L, k), float32
        Tracks in store order, then ``log10(1 + contact)``.
    blacklist : np.ndarray, shape=(L,), bool
        True where the position is blacklisted.
    start, end : int
        Genome interval of the window (0-based half-open; ``start`` may be negative).
    flipped : bool
        True when the arrays are in reverse-complement (minus-strand transcript) orientation.
    """

    index: int
    gene_id: str
    chrom: str
    start: int
    end: int
    strand: str
    flipped: bool
    seq: np.ndarray
    signals: np.ndarray
    blacklist: np.ndarray
    target: float
    features: np.ndarray

    def to_genome(self, values: np.ndarray) -> np.ndarray:
        """Map a per-bp array of this window (first axis length L) to genome orientation."""
        return values[::-1] if self.flipped else values


class WindowSource(abc.ABC):
    """Assembles :class:`Window` objects; subclasses provide the data.

    Subclasses set ``genes`` (DataFrame with gene_id, name, chrom, tss, strand, target,
    has_target, contact_ok and feature columns), ``window_bp``, ``resolution``,
    ``track_names``, ``signal_names`` (tracks + ``"contact"``), ``feature_names``,
    ``chrom_sizes`` and ``_blacklist`` (chrom -> sorted (n, 2) int array), and implement
    :meth:`_fetch_seq`, :meth:`_fetch_track` and :meth:`contact_bins`.
    """

    genes: pd.DataFrame
    window_bp: int
    resolution: int
    track_names: list[str]
    #: track -> the divisor its values are normalised by (scale-free signals)
    track_scales: dict[str, float]
    signal_names: list[str]
    feature_names: list[str]
    chrom_sizes: dict[str, int]
    _blacklist: dict[str, np.ndarray]

    def __len__(self) -> int:
        """Return the number of genes."""
        return len(self.genes)

    @abc.abstractmethod
    def reopen(self) -> "WindowSource":
        """Return a fresh source over the same inputs, with file handles of its own.

        For a worker process (:mod:`seq2exp_cli.inference.workers`): handles inherited across
        ``fork`` share their file offsets, so each process reads through its own.
        """

    @abc.abstractmethod
    def _fetch_seq(self, chrom: str, lo: int, hi: int) -> np.ndarray:
        """Return the sequence codes of [lo, hi), inside the chromosome, shape=(hi-lo,), uint8."""

    @abc.abstractmethod
    def _fetch_track(self, track: str, chrom: str, lo: int, hi: int) -> np.ndarray:
        """Return a track's signal over [lo, hi), inside the chromosome, shape=(hi-lo,), float32."""

    @abc.abstractmethod
    def contact_bins(self, index: int) -> np.ndarray:
        """Raw contact profile of a gene over its genome-aligned Hi-C bins, shape=(n_bins,).

        Bin 0 is the genome bin holding ``tss - window_bp // 2``.
        """

    @abc.abstractmethod
    def contact_matrix_bins(self, index: int) -> np.ndarray:
        """Raw contact between every pair of the gene's genome-aligned Hi-C bins, genome orientation, shape=(nb, nb), float32 (see :func:`seq2exp_cli.contacts.gene_contact_matrix`).

        Its TSS row equals :meth:`contact_bins`.
        """

    def contact_matrix(self, index: int, orient: str = "transcript") -> np.ndarray:
        """``log10(1 + contact)`` between the gene's genome-aligned Hi-C bins.

        Bin ``k`` of the matrix (genome orientation) is the genome bin
        ``(tss - window_bp // 2) // resolution + k``, as in :meth:`contact_bins`; the row
        of the TSS's bin equals ``log10(1 + contact_bins(index))``.  Bins outside the
        chromosome, and the last one when the window does not reach it, are 0.  With
        ``orient="transcript"`` a minus-strand gene's matrix is reversed on both axes; use
        :meth:`contact_shift` to place window positions in its bins.

        Returns
        -------
        np.ndarray, shape=(nb, nb), float32
            Symmetric; ``nb = window_bp // resolution + 1``.
        """
        if orient not in ("transcript", "genome"):
            raise ValueError(f"orient must be 'transcript' or 'genome', not {orient!r}")
        mat = np.log10(1.0 + np.asarray(self.contact_matrix_bins(index), dtype=np.float32))
        if orient == "transcript" and self._columns()["strand"][index] == "-":
            mat = mat[::-1, ::-1]
        return np.ascontiguousarray(mat, dtype=np.float32)

    def contact_shift(self, index: int, width: int | None = None,
                      orient: str = "transcript") -> int:
        """Where a window sits in the bins of :meth:`contact_matrix`.

        Returns ``s`` (bp, between ``(window_bp - width) // 2`` and that plus
        ``resolution``; ``window_bp`` a multiple of ``resolution``) such that
        position ``q`` of the window of ``width`` bp (0-based, same orientation as the
        matrix) lies in matrix bin ``(q + s) // resolution``: in genome orientation the
        distance from the start of matrix bin 0 to the window's first base, in transcript
        orientation for a minus-strand gene the distance from the window's last base to
        the end of the last matrix bin.
        """
        width = self._checked_width(width, orient)
        c = self._columns()
        tss, res = int(c["tss"][index]), self.resolution
        first = (tss - self.window_bp // 2) // res * res  # start of matrix bin 0
        if orient == "transcript" and c["strand"][index] == "-":
            last = first + (self.window_bp // res + 1) * res  # end of the last matrix bin
            return int(last - (tss + width // 2))
        return int(tss - width // 2 - first)

    def gene_index(self, gene_id: str) -> int:
        """Row of ``gene_id`` (also accepts a gene name when unambiguous)."""
        hits = np.flatnonzero(self.genes["gene_id"].to_numpy() == gene_id)
        if len(hits) == 0:
            hits = np.flatnonzero(self.genes["name"].to_numpy() == gene_id)
        if len(hits) == 1:
            return int(hits[0])
        what = "is ambiguous" if len(hits) else "matches no gene"
        raise Seq2ExpError(f"gene '{gene_id}' {what} (by id or name); give its gene_id")

    def select(self, split: str | None = None, genes: Sequence[str] | None = None
               ) -> np.ndarray | None:
        """Rows of the genes a command runs on: ``genes`` (ids or names) when given, else split.

        Returns None (every gene) when neither is given; with ``split`` its genes whether
        or not they have a target.
        """
        if genes:
            return np.array([self.gene_index(g) for g in genes], dtype=np.int64)
        if split:
            return self.indices(split, with_target=False)
        return None

    def indices(self, split: str | None = None, with_target: bool = True) -> np.ndarray:
        """Row indices of genes in ``split`` (None = all).

        ``with_target`` keeps only genes with a target and a valid promoter contact.
        """
        keep = np.ones(len(self.genes), dtype=bool)
        if split is not None:
            keep &= self.genes["split"].to_numpy() == split
        if with_target:
            keep &= self.genes["has_target"].to_numpy(dtype=bool)
            keep &= self.genes["contact_ok"].to_numpy(dtype=bool)
        return np.flatnonzero(keep)

    # ------------------------------------------------------------------ windows
    def _checked_width(self, width: int | None, orient: str) -> int:
        """``width`` (default the store's) after checking it and ``orient``."""
        width = self.window_bp if width is None else int(width)
        if width > self.window_bp or width <= 0 or width % 2:
            raise Seq2ExpError(
                f"window width {width} bp: must be even and at most the store's {self.window_bp} bp"
            )
        if orient not in ("transcript", "genome"):
            raise ValueError(f"orient must be 'transcript' or 'genome', not {orient!r}")
        return width

    def window(
        self,
        index: int,
        width: int | None = None,
        orient: str = "transcript",
    ) -> Window:
        """Return the input window of the gene in row ``index``.

        Parameters
        ----------
        index:
            Gene row.
        width:
            Window width in bp (even, at most the store's ``window_bp``); default the store's.
        orient:
            ``"transcript"`` (minus-strand genes reverse-complemented) or ``"genome"``.
        """
        width = self._checked_width(width, orient)
        c = self._columns()
        chrom, tss, strand = c["chrom"][index], int(c["tss"][index]), c["strand"][index]
        start, end = tss - width // 2, tss + width // 2
        size = self.chrom_sizes[chrom]
        lo, hi = max(start, 0), min(end, size)
        a, b = lo - start, hi - start  # valid span inside the window

        k = len(self.signal_names)
        seq = np.empty(width, dtype=np.uint8)
        sig = np.empty((k, width), dtype=np.float32)
        if a > 0 or b < width:  # padding past a chromosome end
            seq.fill(4)
            sig.fill(0.0)
        if hi > lo:
            seq[a:b] = self._fetch_seq(chrom, lo, hi)
            for j, name in enumerate(self.track_names):
                sig[j, a:b] = self._fetch_track(name, chrom, lo, hi)
            sig[k - 1, a:b] = self._contact_bp(index, tss, lo, hi)
        bl = np.zeros(width, dtype=bool)
        iv = self._blacklist.get(chrom)
        if iv is not None and len(iv):
            j0 = np.searchsorted(iv[:, 1], start, side="right")
            j1 = np.searchsorted(iv[:, 0], end, side="left")
            for s, e in iv[j0:j1]:
                bl[max(s, start) - start: min(e, end) - start] = True

        flipped = orient == "transcript" and strand == "-"
        if flipped:
            seq = _COMPLEMENT[seq[::-1]]
            sig = sig[:, ::-1]
            bl = bl[::-1]
        return Window(
            index=int(index), gene_id=c["gene_id"][index], chrom=chrom, start=start, end=end,
            strand=strand, flipped=flipped, seq=seq, signals=sig.T, blacklist=bl,
            target=float(c["target"][index]), features=c["features"][index],
        )

    def _columns(self) -> dict[str, np.ndarray]:
        """Return the gene-table columns a window needs, as numpy arrays (built once)."""
        cache = getattr(self, "_column_cache", None)
        if cache is None:
            g = self.genes
            feats = (g[self.feature_names].to_numpy(dtype=np.float32) if self.feature_names
                     else np.zeros((len(g), 0), dtype=np.float32))
            cache = {
                "gene_id": g["gene_id"].astype(str).to_numpy(),
                "chrom": g["chrom"].astype(str).to_numpy(),
                "tss": g["tss"].to_numpy(dtype=np.int64),
                "strand": g["strand"].astype(str).to_numpy(),
                "target": g["target"].to_numpy(dtype=np.float64),
                "features": np.nan_to_num(feats),
            }
            self._column_cache = cache
        return cache

    def _contact_bp(self, index: int, tss: int, lo: int, hi: int) -> np.ndarray:
        """Per-bp ``log10(1 + contact)`` over genome positions [lo, hi)."""
        from ..contacts import contact_track

        return contact_track(self.contact_bins(index), tss, self.window_bp, self.resolution,
                             lo, hi)

    def batch(
        self, indices: Sequence[int], width: int | None = None, orient: str = "transcript"
    ) -> dict[str, np.ndarray]:
        """Stack windows.

        ``seq`` (B, L) uint8, ``signals`` (B, L, k) float32, ``blacklist`` (B, L) bool,
        ``target`` (B,) float32, ``features`` (B, F) float32, ``index`` (B,), and each
        window's ``start`` (B,), ``flipped`` (B,) and ``chrom`` (list).
        """
        return stack_windows([self.window(int(i), width, orient) for i in indices])


def batch_contact_matrices(source: WindowSource, indices: Sequence[int],
                           orient: str = "transcript") -> np.ndarray:
    """Stack :meth:`WindowSource.contact_matrix` of the genes ``indices``.

    Returns
    -------
    np.ndarray, shape=(B, nb, nb), float32
        ``log10(1 + contact)`` between each gene's genome-aligned Hi-C bins.
    """
    nb = source.window_bp // source.resolution + 1
    out = np.empty((len(indices), nb, nb), dtype=np.float32)
    for j, i in enumerate(indices):
        out[j] = source.contact_matrix(int(i), orient)
    return out


def batch_contact_shifts(source: WindowSource, indices: Sequence[int], width: int | None = None,
                         orient: str = "transcript") -> np.ndarray:
    """:meth:`WindowSource.contact_shift` of the genes ``indices``, shape=(B,), int64.

    Window position ``q`` of gene ``b`` lies in bin ``(q + shift[b]) // resolution`` of its
    matrix from :func:`batch_contact_matrices` (same ``orient``).
    """
    return np.array([source.contact_shift(int(i), width, orient) for i in indices],
                    dtype=np.int64)


def stack_windows(wins: Sequence[Window]) -> dict:
    """Stack windows.

    ``seq`` (B, L) uint8, ``signals`` (B, L, k) float32, ``blacklist`` (B, L) bool,
    ``target`` (B,) float32, ``features`` (B, F) float32, ``index`` (B,), and each window's
    ``start`` (B,), ``flipped`` (B,) and ``chrom`` (list).
    """
    return {
        "seq": np.stack([w.seq for w in wins]),
        "signals": np.stack([w.signals for w in wins]),
        "blacklist": np.stack([w.blacklist for w in wins]),
        "target": np.array([w.target for w in wins], dtype=np.float32),
        "features": np.stack([w.features for w in wins]).astype(np.float32),
        "index": np.array([w.index for w in wins], dtype=np.int64),
        "start": np.array([w.start for w in wins], dtype=np.int64),
        "flipped": np.array([w.flipped for w in wins], dtype=bool),
        "chrom": [w.chrom for w in wins],
    }
