"""FASTA genomes and the integer/one-hot encoding of DNA.

Format: FASTA (https://www.ncbi.nlm.nih.gov/genbank/fastaformat/) with a samtools
``.fai`` index (http://www.htslib.org/doc/faidx.html), read through pyfaidx.

Bases are encoded as ``uint8`` codes ``A=0, C=1, G=2, T=3`` and ``4`` for ``N`` or any
other character; lowercase (soft-masked) bases get the same codes as uppercase ones.
Encoding uses a 256-entry lookup table, so it is one vectorised numpy indexing step.
Coordinates are 0-based, half-open, in bp.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import InputError
from .atomic import atomic_path
from .chroms import ChromNames

#: Code of each base; every other character (N, IUPAC ambiguity codes, gaps) is 4.
SEQ_CODES: dict[str, int] = {"A": 0, "C": 1, "G": 2, "T": 3, "N": 4}
N_CODE = 4

_LUT = np.full(256, N_CODE, dtype=np.uint8)
for _base, _code in (("A", 0), ("C", 1), ("G", 2), ("T", 3)):
    _LUT[ord(_base)] = _code
    _LUT[ord(_base.lower())] = _code

_COMPLEMENT = np.array([3, 2, 1, 0, N_CODE], dtype=np.uint8)
_ONEHOT = np.zeros((5, 4), dtype=np.float32)
_ONEHOT[np.arange(4), np.arange(4)] = 1.0

_SOFT_LUT = np.zeros(256, dtype=bool)
_SOFT_LUT[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)] = True


def encode(seq: str | bytes | np.ndarray) -> np.ndarray:
    """Encode DNA into integer codes.

    Parameters
    ----------
    seq:
        A string, ASCII bytes, or a ``uint8`` array of ASCII characters, length L.

    Returns
    -------
    np.ndarray, shape (L,), dtype uint8
        ``A=0, C=1, G=2, T=3``, anything else ``4``; case-insensitive.
    """
    if isinstance(seq, str):
        raw = np.frombuffer(seq.encode("ascii", errors="replace"), dtype=np.uint8)
    elif isinstance(seq, (bytes, bytearray, memoryview)):
        raw = np.frombuffer(bytes(seq), dtype=np.uint8)
    else:
        raw = np.asarray(seq)
        if raw.dtype != np.uint8:
            raise TypeError(f"encode() needs ASCII uint8 codes, got dtype {raw.dtype}")
    return _LUT[raw]


def decode(codes: np.ndarray) -> str:
    """Inverse of :func:`encode` (uppercase ``ACGTN``) for codes of shape (L,)."""
    return np.frombuffer(b"ACGTN", dtype=np.uint8)[np.asarray(codes)].tobytes().decode()


def onehot(codes: np.ndarray) -> np.ndarray:
    """One-hot encode codes.

    Parameters
    ----------
    codes:
        ``uint8`` codes, shape (L,).

    Returns
    -------
    np.ndarray, shape (L, 4), float32
        Columns A, C, G, T; ``N`` (code 4) is all zeros.
    """
    return np.take(_ONEHOT, np.asarray(codes), axis=0)


def reverse_complement_codes(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of codes, shape (L,): reversed, A<->T, C<->G, N stays N."""
    return _COMPLEMENT[np.asarray(codes)[::-1]]


class Genome:
    """A FASTA genome opened through pyfaidx.

    Parameters
    ----------
    path:
        FASTA file (optionally bgzip-compressed).  A missing ``.fai`` index is built.

    Attributes
    ----------
    chroms:
        :class:`ChromNames` with the FASTA's sequence names and lengths (bp).
    """

    def __init__(self, path: str | os.PathLike):
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: FASTA file not found; check the --fasta path")
        try:
            self._fa = pyfaidx.Fasta(
                str(self.path), as_raw=True, sequence_always_upper=False, rebuild=True
            )
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat,
                ValueError, OSError) as exc:
            raise InputError(
                f"{self.path}: cannot index as FASTA ({exc}); give an uncompressed or "
                "bgzip-compressed FASTA file"
            ) from exc
        sizes = {name: int(rec.rlen) for name, rec in self._fa.faidx.index.items()}
        if not sizes:
            raise InputError(f"{self.path}: no sequences in the FASTA file")
        self.chroms = ChromNames(sizes)

    def _canon(self, chrom: str) -> str:
        return self.chroms.resolve(chrom, source=str(self.path))

    def fetch_codes(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Codes of ``chrom:[start, end)`` (0-based half-open, bp).

        Parts before 0 or past the chromosome end are padded with N (code 4).

        Returns
        -------
        np.ndarray, shape (end - start,), uint8
        """
        name = self._canon(chrom)
        size = self.chroms.sizes[name]
        start, end = int(start), int(end)
        if end < start:
            raise ValueError(f"end {end} < start {start}")
        out = np.full(end - start, N_CODE, dtype=np.uint8)
        lo, hi = max(start, 0), min(end, size)
        if hi > lo:
            seq = self._fa[name][lo:hi]
            out[lo - start:hi - start] = encode(seq)
        return out

    def chrom_codes(self, chrom: str) -> np.ndarray:
        """Codes of a whole chromosome, shape (chrom length,), uint8 (one read + LUT)."""
        name = self._canon(chrom)
        return encode(self._raw(name))

    def _raw(self, name: str) -> str:
        return self._fa[name][0:self.chroms.sizes[name]]

    def soft_masked_fraction(self, chrom: str) -> float:
        """Fraction of the chromosome's bases in lowercase (soft-masked repeats)."""
        name = self._canon(chrom)
        raw = np.frombuffer(self._raw(name).encode("ascii"), dtype=np.uint8)
        return float(_SOFT_LUT[raw].mean()) if raw.size else 0.0

    def close(self) -> None:
        """Close the underlying file handle."""
        self._fa.close()

    def __enter__(self):
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *exc) -> None:
        """Close the file."""
        self.close()


def write_fasta(
    path: str | os.PathLike, records: Mapping[str, str], line_width: int = 60
) -> None:
    """Write sequences to a FASTA file atomically, then build its ``.fai`` index.

    Parameters
    ----------
    path:
        Output path.
    records:
        Sequence name -> sequence (case is kept, so soft-masking survives).
    line_width:
        Bases per line (> 0).
    """
    import pyfaidx

    if line_width <= 0:
        raise ValueError("line_width must be positive")
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        for name, seq in records.items():
            fh.write(f">{name}\n")
            seq = str(seq)
            for i in range(0, len(seq), line_width):
                fh.write(seq[i:i + line_width])
                fh.write("\n")
    fai = Path(str(path) + ".fai")
    fai.unlink(missing_ok=True)
    pyfaidx.Faidx(str(path), rebuild=True).close()
