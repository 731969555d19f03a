"""bigWig signal tracks (DNase, H3K27ac, ...) and bedGraph output.

Formats: bigWig (https://genome.ucsc.edu/goldenPath/help/bigWig.html; Kent et al. 2010)
read and written through pyBigWig; bedGraph
(https://genome.ucsc.edu/goldenPath/help/bedgraph.html).  Coordinates are 0-based,
half-open, in bp.  Values are per-bp float32; positions with no data (NaN) read as 0.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import InputError
from .atomic import atomic_path
from .chroms import ChromNames


class BigWigTrack:
    """A bigWig file read per bp.

    Parameters
    ----------
    path:
        The ``.bw``/``.bigWig`` file.
    chroms:
        Genome chromosome names; the bigWig's names are mapped onto them (``chr1``/``1``
        aliases), and a bigWig sharing no chromosome with the genome is rejected.
    name:
        Label for messages (default: the file name).
    """

    def __init__(self, path: str | os.PathLike, chroms: ChromNames | None = None,
                 name: str | None = None):
        import pyBigWig

        self.path = Path(path)
        self.name = name or self.path.name
        if not self.path.is_file():
            raise InputError(f"{self.path}: bigWig file not found; check the path")
        with open(self.path, "rb") as fh:
            magic = fh.read(4)
        if magic not in (b"\x26\xfc\x8f\x88", b"\x88\x8f\xfc\x26"):
            raise InputError(f"{self.path}: not a bigWig file (wrong magic number); convert "
                             "bedGraph with bedGraphToBigWig")
        try:
            bw = pyBigWig.open(str(self.path))
        except RuntimeError as exc:
            raise InputError(f"{self.path}: cannot open as bigWig ({exc}); the file may be "
                             "truncated, re-download or regenerate it") from exc
        if bw is None or not bw.isBigWig():
            raise InputError(f"{self.path}: not a readable bigWig file")
        self._bw = bw
        self._sizes: dict[str, int] = dict(bw.chroms())
        self._check_readable()
        if chroms is not None:
            mapping = chroms.map_names(self._sizes, source=str(self.path))
            self._to_file = {canon: own for own, canon in mapping.items()}
        else:
            self._to_file = {n: n for n in self._sizes}
        self._chroms = chroms

    def _check_readable(self) -> None:
        """Fail now, not mid-run, on a truncated file.

        Every index offset recorded in the header (main index and zoom-level indexes) must
        lie inside the file.
        """
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as fh:
            head = fh.read(64)
            endian = "<" if head[:4] == b"\x26\xfc\x8f\x88" else ">"
            n_zoom = struct.unpack(endian + "H", head[6:8])[0]
            offsets = [struct.unpack(endian + "Q", head[24:32])[0]]
            zooms = fh.read(24 * n_zoom)
        for z in range(len(zooms) // 24):
            offsets += struct.unpack(endian + "QQ", zooms[24 * z + 8:24 * z + 24])
        if len(zooms) < 24 * n_zoom or max(offsets) >= size:
            raise InputError(f"{self.path}: bigWig truncated ({size} bytes, its index needs "
                             f"more than {max(offsets)}); regenerate or re-download it")
        if not self._sizes:
            raise InputError(f"{self.path}: bigWig has no chromosomes")

    def _file_chrom(self, chrom: str) -> str | None:
        canon = self._chroms.get(chrom) if self._chroms is not None else chrom
        if canon is None:
            return None
        return self._to_file.get(canon)

    def has_chrom(self, chrom: str) -> bool:
        """Return True when the bigWig has the (genome-named) chromosome ``chrom``."""
        return self._file_chrom(chrom) is not None

    def fetch(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Per-bp values of ``chrom:[start, end)``.

        Positions past the chromosome ends, with no data, or on a chromosome absent from
        the bigWig are 0.

        Returns
        -------
        np.ndarray, shape (end - start,), float32
        """
        start, end = int(start), int(end)
        out = np.zeros(end - start, dtype=np.float32)
        own = self._file_chrom(chrom)
        if own is None:
            return out
        lo, hi = max(start, 0), min(end, self._sizes[own])
        if hi <= lo:
            return out
        try:
            vals = self._bw.values(own, lo, hi, numpy=True)
        except RuntimeError as exc:
            raise InputError(f"{self.path}: cannot read {own}:{lo}-{hi} ({exc}); the file "
                             "may be truncated") from exc
        vals = np.nan_to_num(np.asarray(vals, dtype=np.float32), nan=0.0, posinf=0.0,
                             neginf=0.0)
        out[lo - start:hi - start] = vals
        return out

    def chrom_values(self, chrom: str) -> np.ndarray:
        """Per-bp values of a whole chromosome (length from ``chroms`` when given, else from the bigWig), float32.

        Built from the interval list (fast for sparse tracks).
        """
        own = self._file_chrom(chrom)
        if self._chroms is not None:
            length = self._chroms.sizes[self._chroms.resolve(chrom, source=str(self.path))]
        elif own is not None:
            length = self._sizes[own]
        else:
            raise InputError(f"{self.path}: chromosome '{chrom}' not in the bigWig")
        out = np.zeros(length, dtype=np.float32)
        if own is None:
            return out
        n = min(length, self._sizes[own])
        ivals = self._bw.intervals(own, 0, n) or ()
        if not ivals:
            return out
        arr = np.asarray(ivals, dtype=np.float64)
        s = arr[:, 0].astype(np.int64)
        e = np.minimum(arr[:, 1].astype(np.int64), n)
        v = np.nan_to_num(arr[:, 2].astype(np.float32), nan=0.0)
        # Interval runs plus the gaps between them, as (value, length) pairs covering
        # [0, n) in order; one np.repeat expands them to per-bp values.
        gap_before = s - np.concatenate([[0], e[:-1]])
        vals = np.empty(2 * s.size + 1, dtype=np.float32)
        lens = np.empty(2 * s.size + 1, dtype=np.int64)
        vals[0:-1:2], lens[0:-1:2] = 0.0, np.maximum(gap_before, 0)
        vals[1::2], lens[1::2] = v, np.maximum(e - s, 0)
        vals[-1], lens[-1] = 0.0, n - (e[-1] if e.size else 0)
        out[:n] = np.repeat(vals, lens)
        return out

    def has_data(self, chrom: str) -> bool:
        """Tell whether the bigWig has a non-zero value on ``chrom`` (alias accepted).

        Judged from its zoom-level summaries (a few kB read, not the whole chromosome).
        """
        own = self._file_chrom(chrom)
        if own is None:
            return False
        n = self._sizes[own]
        try:
            hi = self._bw.stats(own, 0, n, type="max", exact=False)[0]
            lo = self._bw.stats(own, 0, n, type="min", exact=False)[0]
        except RuntimeError as exc:
            raise InputError(f"{self.path}: cannot read {own} ({exc}); the file may be "
                             "truncated") from exc
        return hi is not None and lo is not None and (hi != 0 or lo != 0)

    def require_data(self, chroms: Sequence[str]) -> None:
        """Raise :class:`InputError` naming the file unless ``chroms`` have data.

        ``chroms`` are the genes' chromosomes: an empty or all-zero track is a wrong input,
        not a track of zeros to learn from.
        """
        chroms = list(dict.fromkeys(chroms))
        if not any(self.has_data(c) for c in chroms):
            shown = ", ".join(chroms[:5]) + (", ..." if len(chroms) > 5 else "")
            raise InputError(f"{self.path}: no data on the genes' chromosomes ({shown}): the "
                             "track is empty or all zero there; check that this is the right "
                             "bigWig for this genome")

    @property
    def chrom_sizes(self) -> dict[str, int]:
        """The bigWig's own chromosome names and sizes (bp)."""
        return dict(self._sizes)

    def close(self) -> None:
        """Close the file."""
        if self._bw is not None:
            self._bw.close()
            self._bw = None

    def __enter__(self):
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *exc) -> None:
        """Close the file."""
        self.close()


def _runs(values: np.ndarray, skip_zeros: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encode per-bp values: (starts, ends, values) of maximal equal runs."""
    v = np.asarray(values, dtype=np.float32)
    if v.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    change = np.flatnonzero(v[1:] != v[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [v.size]]).astype(np.int64)
    vals = v[starts]
    keep = ~np.isnan(vals)
    if skip_zeros:
        keep &= vals != 0
    return starts[keep], ends[keep], vals[keep]


def write_bigwig(path: str | os.PathLike, chrom_sizes: Mapping[str, int],
                 tracks: Mapping[str, np.ndarray], skip_zeros: bool = True) -> None:
    """Write per-bp values as a bigWig, run-length encoded, atomically.

    Parameters
    ----------
    chrom_sizes:
        Chromosome name -> length (bp); the header order.
    tracks:
        Chromosome -> values, shape (length,) or shorter (the rest has no data); NaN
        means no data.  Consecutive equal values are merged into one entry.
    skip_zeros:
        Leave runs of 0 out (they read back as 0 through :class:`BigWigTrack`).
    """
    import pyBigWig

    unknown = set(tracks) - set(chrom_sizes)
    if unknown:
        raise ValueError(f"write_bigwig: tracks for chromosomes not in chrom_sizes: {unknown}")
    with atomic_path(path) as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader([(str(c), int(n)) for c, n in chrom_sizes.items()], maxZooms=10)
            for chrom in chrom_sizes:
                if chrom not in tracks:
                    continue
                vals = np.asarray(tracks[chrom])
                if vals.size > chrom_sizes[chrom]:
                    raise ValueError(f"write_bigwig: {chrom} has {vals.size} values > size "
                                     f"{chrom_sizes[chrom]}")
                s, e, v = _runs(vals, skip_zeros)
                if s.size:
                    bw.addEntries([str(chrom)] * s.size, s.tolist(), ends=e.tolist(),
                                  values=v.astype(np.float64).tolist())
        finally:
            bw.close()


def write_bedgraph(path_or_file: str | os.PathLike | IO[str] | None, chrom: str,
                   values: np.ndarray, offset: int = 0, skip_zeros: bool = True,
                   precision: int = 6) -> None:
    """Write one chromosome's per-bp values as run-length bedGraph lines.

    Parameters
    ----------
    path_or_file:
        Path (written atomically, replacing the file), open text stream (appended to, so
        several chromosomes can share one file), or ``'-'``/``None`` for stdout.
    values:
        Per-bp values, shape (L,), for ``chrom:[offset, offset + L)``.
    skip_zeros:
        Omit runs of 0 (MACS3 ``bdgpeakcall`` treats gaps as 0).
    """
    s, e, v = _runs(values, skip_zeros)
    lines = [f"{chrom}\t{a}\t{b}\t{x:.{precision}g}\n"
             for a, b, x in zip((s + offset).tolist(), (e + offset).tolist(), v.tolist())]
    text = "".join(lines)
    if path_or_file is None or str(path_or_file) == "-":
        sys.stdout.write(text)
    elif hasattr(path_or_file, "write"):
        path_or_file.write(text)
    else:
        with atomic_path(path_or_file) as tmp:
            tmp.write_text(text)
