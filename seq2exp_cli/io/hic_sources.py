"""Readers of intra-chromosomal Hi-C contacts: ``.hic`` (hic-straw) and cooler files.

Formats: Juicer ``.hic`` v8/v9 (https://github.com/aidenlab/hic-format/blob/master/HiCFormatV9.md)
and cooler ``.cool``/``.mcool`` (https://cooler.readthedocs.io/en/latest/schema.html).
Bins are genome-aligned: bin ``k`` covers ``[k * res, (k + 1) * res)`` bp.  Use
:func:`seq2exp_cli.io.hic.open_contacts` rather than these classes directly.
"""

from __future__ import annotations

import abc
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import InputError
from .chroms import ChromNames

#: Rows of the map read at once around a queried TSS bin (the next genes reuse them).
BLOCK_ROWS = 64
_BALANCE_ALIASES = ("KR", "ICE", "WEIGHT", "BALANCED")


class ContactSource(abc.ABC):
    """Intra-chromosomal contacts of one file at one resolution and normalisation.

    Subclasses implement ``_fetch`` (dense block of the map in file chromosome names)
    and ``_raw_marginals`` (per-bin raw contact totals, for a computed VC).
    """

    def __init__(self, path: str, resolution: int, normalization: str, sizes: dict[str, int],
                 chroms: ChromNames | None):
        self.path = str(path)
        self.resolution = int(resolution)
        self.normalization = normalization
        self._sizes = sizes
        if chroms is not None:
            mapping = chroms.map_names(sizes, source=self.path)
            self._to_file = {canon: own for own, canon in mapping.items()}
        else:
            self._to_file = {n: n for n in sizes}
        self._chroms = chroms
        self._cache: dict[str, tuple[int, int, int, int, np.ndarray]] = {}
        self._vc: dict[str, np.ndarray] = {}
        self.computed_vc = False

    # -- names and sizes
    def _own(self, chrom: str) -> str | None:
        canon = self._chroms.get(chrom) if self._chroms is not None else chrom
        return None if canon is None else self._to_file.get(canon)

    def chrom_size(self, chrom: str) -> int:
        """Length (bp) of ``chrom`` (alias accepted).

        From the genome when ``chroms`` was given, else from the file.
        """
        if self._chroms is not None:
            return self._chroms.sizes[self._chroms.resolve(chrom, source=self.path)]
        if chrom not in self._sizes:
            raise InputError(f"{self.path}: chromosome '{chrom}' not in the Hi-C file")
        return self._sizes[chrom]

    def n_bins(self, chrom: str) -> int:
        """Return the number of bins of ``chrom`` at this resolution."""
        return -(-self.chrom_size(chrom) // self.resolution)

    # -- reading
    def matrix(self, chrom: str, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Dense block rows ``[r0, r1)`` x cols ``[c0, c1)`` (bin indices of ``chrom``).

        Bins outside the chromosome, NaN values, and chromosomes absent from the file
        give 0.

        Returns
        -------
        np.ndarray, shape (r1 - r0, c1 - c0), float64
        """
        out = np.zeros((r1 - r0, c1 - c0), dtype=np.float64)
        own = self._own(chrom)
        if own is None:
            return out
        nb = -(-self._sizes[own] // self.resolution)
        vr0, vr1, vc0, vc1 = max(r0, 0), min(r1, nb), max(c0, 0), min(c1, nb)
        if vr1 <= vr0 or vc1 <= vc0:
            return out
        block = self._fetch(own, vr0, vr1, vc0, vc1)
        if self.computed_vc:
            v = self.vc_vector(own)
            denom = np.outer(v[vr0:vr1], v[vc0:vc1])
            block = np.divide(block, denom, out=np.zeros_like(block), where=denom > 0)
        out[vr0 - r0:vr1 - r0, vc0 - c0:vc1 - c0] = np.nan_to_num(block, nan=0.0,
                                                                  posinf=0.0, neginf=0.0)
        return out

    def row(self, chrom: str, tss: int, start: int, end: int) -> np.ndarray:
        """Contacts between the bin of ``tss`` and every bin overlapping ``[start, end)``.

        Returns
        -------
        np.ndarray, shape (ceil(end / res) - start // res,), float64
            Entry ``i`` is bin ``start // res + i``; bins outside the chromosome are 0.
        """
        res = self.resolution
        b = int(tss) // res
        c_lo, c_hi = int(start) // res, -(-int(end) // res)
        hit = self._cache.get(chrom)
        if hit is None or not (hit[0] <= b < hit[1] and hit[2] <= c_lo and c_hi <= hit[3]):
            r0, r1 = b, b + BLOCK_ROWS
            c0, c1 = c_lo, c_hi + BLOCK_ROWS
            hit = (r0, r1, c0, c1, self.matrix(chrom, r0, r1, c0, c1))
            self._cache = {chrom: hit}
        r0, _, c0, _, mat = hit
        return mat[b - r0, c_lo - c0:c_hi - c0].copy()

    def vc_vector(self, own: str) -> np.ndarray:
        """Coverage (VC) vector computed from raw counts: each bin's total intra- chromosomal contacts divided by the mean over non-empty bins.

        The VC-normalised value is ``O_ij / (v_i * v_j)`` (Juicer's VC up to a global
        factor).
        """
        if own not in self._vc:
            tot = self._raw_marginals(own)
            mean = tot[tot > 0].mean() if (tot > 0).any() else 1.0
            self._vc[own] = tot / mean
        return self._vc[own]

    @abc.abstractmethod
    def _fetch(self, own: str, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Observed (normalised) block rows [r0, r1) x columns [c0, c1) of ``own``."""

    @abc.abstractmethod
    def _raw_marginals(self, own: str) -> np.ndarray:
        """Raw intra-chromosomal contact total of every bin of ``own``."""

    def close(self) -> None:
        """Release cached blocks."""
        self._cache = {}

    def __enter__(self):
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *exc) -> None:
        """Close the file."""
        self.close()


class _Reader:
    """Little-endian reads of the ``.hic`` primitive types from a binary file."""

    def __init__(self, fh):
        self.fh = fh

    def _unpack(self, fmt: str, n: int):
        raw = self.fh.read(n)
        if len(raw) != n:
            raise EOFError("short read")
        return struct.unpack(fmt, raw)[0]

    def i32(self) -> int:
        return self._unpack("<i", 4)

    def i64(self) -> int:
        return self._unpack("<q", 8)

    def string(self) -> str:
        out = bytearray()
        while True:
            c = self.fh.read(1)
            if not c:
                raise EOFError("unterminated string")
            if c == b"\0":
                return out.decode("utf-8", "replace")
            out += c

    def skip(self, n: int) -> None:
        if n < 0:
            raise ValueError("negative length")
        self.fh.seek(n, os.SEEK_CUR)


def hic_normalizations(path: str | os.PathLike, resolution: int) -> list[str] | None:
    """Normalisations a ``.hic`` file (v8 or v9) stores at ``resolution`` bp.

    Walks the footer as the format describes it
    (https://github.com/aidenlab/hic-format/blob/master/HiCFormatV9.md#footer): the master
    index, the expected-value vectors and the normalised ones are skipped, then the
    normalisation vector index is read; its entries with unit ``BP`` and bin size
    ``resolution`` are the answer (upper case, file order, each once).  Reads a few kB and
    needs no library (hictkpy, which could list them too, starts a busy thread on import).

    Returns
    -------
    list of str, or None when the file's version is not 8 or 9 or its footer cannot be
    walked (callers then treat the normalisation list as unknown).
    """
    try:
        with open(path, "rb") as fh:
            r = _Reader(fh)
            if fh.read(4) != b"HIC\0":
                return None
            version = r.i32()
            if version not in (8, 9):
                return None
            footer = r.i64()
            big = version > 8  # v9 widened nValues/nBytes to long and values to float
            fh.seek(footer)
            r.i64() if big else r.i32()  # nBytesV5
            for _ in range(r.i32()):  # master index
                r.string()
                r.i64()
                r.i32()
            value_bytes = 4 if big else 8
            for normalized in (False, True):  # expected, then normalised expected, vectors
                for _ in range(r.i32()):
                    if normalized:
                        r.string()  # type
                    r.string()  # unit
                    r.i32()  # bin size
                    n = r.i64() if big else r.i32()
                    r.skip(n * value_bytes)
                    r.skip(r.i32() * (4 + value_bytes))  # (chrIndex, scale factor) pairs
            found: list[str] = []
            for _ in range(r.i32()):  # normalisation vector index
                kind = r.string().upper()
                r.i32()  # chromosome index
                unit = r.string().upper()
                bin_size = r.i32()
                r.i64()  # file position
                r.i64() if big else r.i32()  # size in bytes
                if unit == "BP" and bin_size == int(resolution) and kind not in found:
                    found.append(kind)
            return found
    except (OSError, EOFError, ValueError, struct.error):
        return None


def hic_footer_ok(path: Path) -> None:
    """Raise :class:`InputError` when a ``.hic`` file is shorter than its header says."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    if len(head) < 16:
        raise InputError(f"{path}: .hic file truncated ({size} bytes)")
    _version, footer = struct.unpack("<iq", head[4:16])
    if footer <= 0 or footer >= size:
        raise InputError(f"{path}: .hic file truncated or corrupt ({size} bytes, its index "
                         f"starts at {footer}); regenerate or re-download it")


class HicSource(ContactSource):
    """A Juicer ``.hic`` file read through hic-straw (observed contacts)."""

    def __init__(self, path: Path, resolution: int, normalization: str,
                 chroms: ChromNames | None):
        import hicstraw

        hic_footer_ok(path)
        try:
            hic = hicstraw.HiCFile(str(path))
            resolutions = [int(r) for r in hic.getResolutions()]
            sizes = {c.name: int(c.length) for c in hic.getChromosomes()
                     if c.name.lower() != "all"}
        except (RuntimeError, ValueError, OSError) as exc:
            raise InputError(f"{path}: unreadable .hic file ({exc})") from exc
        if resolution not in resolutions:
            raise InputError(f"{path}: resolution {resolution} bp not in the file (available: "
                             f"{', '.join(map(str, sorted(resolutions)))}); pick one of them")
        norm = normalization.upper()
        super().__init__(str(path), resolution, norm, sizes, chroms)
        self._hic = hic
        self._mzd: dict[tuple[str, str], object] = {}
        available = self._available_norms(path, resolution)
        if norm != "NONE" and available is not None and norm not in available:
            if norm == "VC":
                self.computed_vc = True
            else:
                raise InputError(f"{path}: no {norm} normalisation at {resolution} bp "
                                 f"(available: NONE{''.join(', ' + a for a in available)}, "
                                 "VC computed); choose one of them")
        self._read_norm = "NONE" if self.computed_vc else norm

    @staticmethod
    def _available_norms(path: Path, resolution: int) -> list[str] | None:
        return hic_normalizations(path, resolution)

    def _zoom(self, own: str, norm: str):
        key = (own, norm)
        if key not in self._mzd:
            try:
                self._mzd[key] = self._hic.getMatrixZoomData(own, own, "observed", norm, "BP",
                                                             self.resolution)
            except (RuntimeError, MemoryError, ValueError) as exc:
                raise InputError(f"{self.path}: cannot read {own} with {norm} normalisation "
                                 f"({exc})") from exc
        return self._mzd[key]

    def _fetch(self, own: str, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        res = self.resolution
        mzd = self._zoom(own, self._read_norm)
        mat = np.asarray(mzd.getRecordsAsMatrix(r0 * res, (r1 - 1) * res, c0 * res,
                                                (c1 - 1) * res), dtype=np.float64)
        if mat.shape != (r1 - r0, c1 - c0):
            if mat.size <= 1 and not mat.any():
                return np.zeros((r1 - r0, c1 - c0))
            raise InputError(f"{self.path}: unexpected block shape {mat.shape} for {own}; "
                             "the file may be corrupt")
        return mat

    def _raw_marginals(self, own: str) -> np.ndarray:
        nb = -(-self._sizes[own] // self.resolution)
        tot = np.zeros(nb)
        step = max(1, 2_000_000 // nb)  # large hic-straw dense blocks crash
        mzd = self._zoom(own, "NONE")
        res = self.resolution
        for a in range(0, nb, step):
            b = min(nb, a + step)
            mat = np.asarray(mzd.getRecordsAsMatrix(a * res, (b - 1) * res, 0, (nb - 1) * res))
            if mat.shape == (b - a, nb):
                tot[a:b] = np.nan_to_num(mat).sum(axis=1)
        return tot


class CoolerSource(ContactSource):
    """A ``.cool`` or ``.mcool`` file read through cooler."""

    def __init__(self, spec: str, resolution: int, normalization: str,
                 chroms: ChromNames | None):
        import cooler

        file_part = spec.split("::", 1)[0]
        try:
            if "::" not in spec and cooler.fileops.is_multires_file(file_part):
                uris = cooler.fileops.list_coolers(file_part)
                avail = sorted(int(u.rsplit("/", 1)[-1]) for u in uris
                               if u.rsplit("/", 1)[-1].isdigit())
                if resolution not in avail:
                    raise InputError(f"{file_part}: resolution {resolution} bp not in the "
                                     f"file (available: {', '.join(map(str, avail))}); "
                                     "pick one of them")
                spec = f"{file_part}::/resolutions/{resolution}"
            clr = cooler.Cooler(spec)
            binsize = clr.binsize
            sizes = {str(k): int(v) for k, v in clr.chromsizes.items()}
            columns = list(clr.bins().columns)
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"{file_part}: unreadable cooler file ({exc}); it may be "
                             "truncated, regenerate it") from exc
        if binsize != resolution:
            raise InputError(f"{spec}: resolution {resolution} bp not in the file (available: "
                             f"{binsize}); pick that one or use an .mcool")
        super().__init__(spec, resolution, normalization, sizes, chroms)
        self._clr = clr
        weights = [c for c in columns if c not in ("chrom", "start", "end")]
        norm = normalization
        if norm.upper() == "NONE":
            self._balance: bool | str = False
        elif norm in weights:
            self._balance = norm
        elif norm.upper() in _BALANCE_ALIASES and "weight" in weights:
            self._balance = "weight"
        elif norm.upper() == "VC":
            self._balance = False
            self.computed_vc = True
        else:
            raise InputError(f"{spec}: no '{norm}' balancing column (available: NONE"
                             f"{''.join(', ' + w for w in weights)}, VC computed); choose one")

    def _fetch(self, own: str, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        off = int(self._clr.offset(own))
        try:
            mat = self._clr.matrix(balance=self._balance, sparse=False)[off + r0:off + r1,
                                                                         off + c0:off + c1]
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"{self.path}: cannot read {own} ({exc}); the file may be "
                             "truncated") from exc
        return np.asarray(mat, dtype=np.float64)

    def _raw_marginals(self, own: str) -> np.ndarray:
        lo, hi = (int(x) for x in self._clr.extent(own))
        with self._clr.open("r") as h5:
            offsets = h5["indexes/bin1_offset"][lo:hi + 1]
        tot = np.zeros(hi - lo)
        p0, p1 = int(offsets[0]), int(offsets[-1])
        chunk = 5_000_000
        for a in range(p0, p1, chunk):
            pix = self._clr.pixels()[a:min(p1, a + chunk)]
            b1 = pix["bin1_id"].to_numpy() - lo
            b2 = pix["bin2_id"].to_numpy() - lo
            w = pix["count"].to_numpy(np.float64)
            intra = b2 < hi - lo
            b1, b2, w = b1[intra], b2[intra], w[intra]
            tot += np.bincount(b1, w, minlength=hi - lo)
            off = b1 != b2
            tot += np.bincount(b2[off], w[off], minlength=hi - lo)
        return tot
