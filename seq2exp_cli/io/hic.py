"""Hi-C contact maps (.hic, .cool, .mcool): open one for reading, write one.

Formats: Juicer ``.hic`` (https://github.com/aidenlab/hic-format/blob/master/HiCFormatV9.md),
read with hic-straw and written with hictkpy; cooler ``.cool``/``.mcool``
(https://cooler.readthedocs.io/en/latest/schema.html), read and written with cooler.

A :class:`ContactSource` gives intra-chromosomal contacts at one resolution (bin size,
bp) and one normalisation.  Bins are genome-aligned: bin ``k`` of a chromosome covers
``[k * res, (k + 1) * res)`` (0-based half-open bp, the last bin clipped to the end).
The contact maths built on a source (ABC profiles, power laws) is in
:mod:`seq2exp_cli.contacts`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .atomic import atomic_path
from .chroms import ChromNames
from .hic_sources import ContactSource, CoolerSource, HicSource

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def open_contacts(path: str | os.PathLike, resolution: int = 5000, normalization: str = "VC",
                  chroms: ChromNames | None = None) -> ContactSource:
    """Open a ``.hic``, ``.cool`` or ``.mcool`` file (``file.mcool::/resolutions/5000`` also accepted) at one resolution (bp) and normalisation.

    ``normalization``: ``NONE`` (raw counts), ``VC``, ``VC_SQRT``, ``KR``, ``SCALE`` (the
    .hic names); for cooler files ``KR``/``ICE``/``weight`` use the ``weight`` balancing
    column and any other name a bins column of that name.  ``VC`` absent from a file is
    computed from the raw coverage (see :meth:`ContactSource.vc_vector`).

    Raises
    ------
    InputError
        Missing, unreadable or truncated file; resolution not in the file (lists the
        available ones); normalisation not in the file; no chromosome shared with
        ``chroms``.
    """
    spec = str(path)
    file_part = spec.split("::", 1)[0]
    p = Path(file_part)
    if not p.is_file():
        raise InputError(f"{p}: Hi-C file not found; check the --hic path")
    with open(p, "rb") as fh:
        magic = fh.read(16)
    if magic[:4] == b"HIC\0":
        return HicSource(p, int(resolution), normalization, chroms)
    if magic[:8] == _HDF5_MAGIC:
        return CoolerSource(spec, int(resolution), normalization, chroms)
    raise InputError(f"{p}: neither a .hic nor a cooler (HDF5) file; give a .hic, .cool "
                     "or .mcool contact map")


# --------------------------------------------------------------------------- writers
def _pixels_to_bins(chrom_sizes: dict[str, int], resolution: int,
                    pixels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-triangular, summed, sorted genome-wide (bin1, bin2, count)."""
    nb = {c: -(-int(n) // resolution) for c, n in chrom_sizes.items()}
    offset = dict(zip(nb, np.concatenate([[0], np.cumsum(list(nb.values()))[:-1]])))
    if {"bin1_id", "bin2_id"} <= set(pixels.columns):
        b1 = pixels["bin1_id"].to_numpy(np.int64)
        b2 = pixels["bin2_id"].to_numpy(np.int64)
    else:
        for c in ("chrom1", "start1", "chrom2", "start2"):
            if c not in pixels:
                raise ValueError(f"pixels need bin1_id/bin2_id or chrom1,start1,chrom2,start2; "
                                 f"missing {c}")
        for side in ("1", "2"):
            bad = ~pixels["chrom" + side].isin(list(nb))
            if bad.any():
                raise ValueError(f"pixels on unknown chromosome {pixels['chrom' + side][bad]}")
            if (pixels["start" + side] >= pixels["chrom" + side].map(chrom_sizes)).any():
                raise ValueError("pixel start beyond the chromosome end")
        b1 = (pixels["chrom1"].map(offset) + pixels["start1"] // resolution).to_numpy(np.int64)
        b2 = (pixels["chrom2"].map(offset) + pixels["start2"] // resolution).to_numpy(np.int64)
    lo, hi = np.minimum(b1, b2), np.maximum(b1, b2)
    df = pd.DataFrame({"bin1_id": lo, "bin2_id": hi,
                       "count": pixels["count"].to_numpy()})
    df = df.groupby(["bin1_id", "bin2_id"], sort=True, as_index=False)["count"].sum()
    return (df["bin1_id"].to_numpy(), df["bin2_id"].to_numpy(), df["count"].to_numpy())


def write_cool(path: str | os.PathLike, chrom_sizes: dict[str, int], resolution: int,
               pixels: pd.DataFrame, weights: dict[str, np.ndarray] | None = None) -> None:
    """Write a single-resolution ``.cool`` file atomically.

    Parameters
    ----------
    chrom_sizes:
        Chromosome -> length (bp), in genome order.
    resolution:
        Bin size (bp).
    pixels:
        ``chrom1, start1, chrom2, start2, count`` (bp; the bin holding ``start`` is used)
        or ``bin1_id, bin2_id, count`` (genome-wide bin ids); either triangle, duplicates
        summed.  Integer counts are stored as int32, others as float64.
    weights:
        Optional bins columns (name -> array of length n_bins), e.g. ``weight`` for a
        cooler balancing vector (multiplicative) or ``VC``.
    """
    import cooler

    bins = cooler.binnify(pd.Series({k: int(v) for k, v in chrom_sizes.items()}),
                          int(resolution))
    for name, w in (weights or {}).items():
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (len(bins),):
            raise ValueError(f"weights[{name!r}] needs {len(bins)} values, got {w.shape}")
        bins[name] = w
    b1, b2, cnt = _pixels_to_bins(chrom_sizes, int(resolution), pixels)
    integer = np.all(np.mod(cnt, 1) == 0)
    pix = pd.DataFrame({"bin1_id": b1, "bin2_id": b2,
                        "count": cnt.astype(np.int32 if integer else np.float64)})
    with atomic_path(path) as tmp:
        cooler.create_cooler(str(tmp), bins, pix, ordered=True, mode="w",
                             dtypes={"count": pix["count"].dtype})


def write_hic(path: str | os.PathLike, chrom_sizes: dict[str, int],
              resolutions: int | Sequence[int], pixels: pd.DataFrame,
              assembly: str = "unknown") -> None:
    """Write a ``.hic`` file (v9) with hictkpy, atomically.

    ``pixels`` are at the finest resolution (same forms as :func:`write_cool`); coarser
    resolutions (multiples of the finest) are aggregated by hictk.  No normalisation
    vectors are written (hictkpy cannot); readers asking for ``VC`` compute it from the
    raw coverage, other normalisations are then unavailable.

    hictkpy runs in a child process (:mod:`._hic_writer`): importing it here would leave
    a logger thread spinning on a core for the rest of this process.
    """
    import logging
    import subprocess
    import sys

    from ..errors import Seq2ExpError
    from .atomic import scratch_dir

    res = sorted({int(resolutions)} if isinstance(resolutions, (int, np.integer))
                 else {int(r) for r in resolutions})
    if any(r % res[0] for r in res):
        raise ValueError(f"resolutions {res} must be multiples of the finest")
    b1, b2, cnt = _pixels_to_bins(chrom_sizes, res[0], pixels)
    path = Path(path)
    with atomic_path(path) as tmp, scratch_dir(path) as work:
        tmp.unlink()
        np.savez(work / "pixels.npz", chroms=np.array(list(chrom_sizes), dtype=str),
                 sizes=np.array([int(v) for v in chrom_sizes.values()], dtype=np.int64),
                 resolutions=np.array(res, dtype=np.int64), assembly=np.array(assembly),
                 tmpdir=np.array(str(work)), bin1_id=b1, bin2_id=b2, count=cnt)
        debug = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
        r = subprocess.run([sys.executable, str(Path(__file__).with_name("_hic_writer.py")),
                            str(work / "pixels.npz"), str(tmp)] + (["--debug"] if debug else []),
                           capture_output=True, text=True)
        if r.returncode != 0:
            tail = (r.stderr.strip().splitlines() or ["no message"])[-1]
            raise Seq2ExpError(f"{path}: writing the .hic failed ({tail})")

