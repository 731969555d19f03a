"""Hi-C contact maps (.hic, .cool, .mcool) and ABC-style contact profiles.

Formats: Juicer ``.hic`` (https://github.com/aidenlab/hic-format/blob/master/HiCFormatV9.md),
read with hic-straw and written with hictkpy; cooler ``.cool``/``.mcool``
(https://cooler.readthedocs.io/en/latest/schema.html), read and written with cooler.

A :class:`ContactSource` gives intra-chromosomal contacts at one resolution (bin size,
bp) and one normalisation.  Bins are genome-aligned: bin ``k`` of a chromosome covers
``[k * res, (k + 1) * res)`` (0-based half-open bp, the last bin clipped to the end).
:func:`contact_profile` turns one row of the map into the per-gene Hi-C input of the
model, following the ABC model (Fulco et al. 2019; broadinstitute/ABC-Enhancer-Gene-
Prediction, ``hic.py`` and ``predictor.py``); see its docstring for every step.
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

#: Genes whose self-promoter contact (see :func:`self_contact`) is below this are dropped.
SELF_CONTACT_MIN = 0.01
#: ABC's reference power law at 5 kb: scale = -4.80 + 11.63 * gamma (predictor.py).
_ABC_SCALE_INTERCEPT, _ABC_SCALE_SLOPE = -4.80, 11.63

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def open_contacts(path: str | os.PathLike, resolution: int = 5000, normalization: str = "VC",
                  chroms: ChromNames | None = None) -> ContactSource:
    """Open a ``.hic``, ``.cool`` or ``.mcool`` file (``file.mcool::/resolutions/5000`` also
    accepted) at one resolution (bp) and normalisation.

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


# --------------------------------------------------------------------------- power laws
def powerlaw_contact(distance_bp: np.ndarray | float, gamma: float = 0.87,
                     scale: float | None = None, min_distance: int = 5000) -> np.ndarray:
    """ABC power-law contact ``exp(scale - gamma * ln(d + 1))`` with ``d`` clipped to
    ``>= min_distance`` bp.  ``scale=None`` uses ABC's reference ``-4.80 + 11.63 * gamma``
    (5.318 for gamma 0.87), which matches Hi-C rows normalised to sum to 1."""
    if scale is None:
        scale = _ABC_SCALE_INTERCEPT + _ABC_SCALE_SLOPE * gamma
    d = np.maximum(np.asarray(distance_bp, dtype=np.float64), min_distance)
    return np.exp(scale - gamma * np.log(d + 1.0))


def abc_powerlaw(distance_bp: np.ndarray | float, min_distance: int = 5000) -> np.ndarray:
    """ABC's fallback without Hi-C: ``exp(5.96 - 1.024 * ln(|d| + 1))``, |d| clipped to
    ``>= min_distance`` bp (5 kb in ABC)."""
    return powerlaw_contact(np.abs(np.asarray(distance_bp, dtype=np.float64)), gamma=1.024,
                            scale=5.96, min_distance=min_distance)


# --------------------------------------------------------------------------- profiles
def profile_bins(tss: int, window: int = 200_000, resolution: int = 5000) -> tuple[int, int]:
    """Genome bins ``[b_lo, b_hi)`` overlapping the window ``[tss - window//2,
    tss + window//2)``; profile bin ``i`` covers ``[(b_lo + i) * res, (b_lo + i + 1) * res)``
    (may start below 0 or run past the chromosome end)."""
    start = int(tss) - window // 2
    end = int(tss) + window // 2
    return start // resolution, -(-end // resolution)


def expand_profile(profile: np.ndarray, tss: int, window: int = 200_000,
                   resolution: int = 5000) -> np.ndarray:
    """Per-bp values of a bin profile over ``[tss - window//2, tss + window//2)``.

    Returns
    -------
    np.ndarray, shape (2 * (window // 2),), float32
        For each bp, the profile value of the genome bin holding it.
    """
    b_lo, b_hi = profile_bins(tss, window, resolution)
    profile = np.asarray(profile, dtype=np.float32)
    if profile.shape != (b_hi - b_lo,):
        raise ValueError(f"profile has {profile.shape} bins, window needs {b_hi - b_lo}")
    pos = np.arange(int(tss) - window // 2, int(tss) + window // 2, dtype=np.int64)
    return profile[pos // resolution - b_lo]


def bins_inside(bins: np.ndarray, resolution: int, chrom_size: int | None) -> np.ndarray:
    """Which genome bins lie on the chromosome (index >= 0 and start < its size; no upper
    bound when the size is unknown)."""
    inside = bins >= 0
    if chrom_size is not None:
        inside &= bins * resolution < chrom_size
    return inside


def _normalized_row(source: ContactSource, chrom: str, tss: int, b_lo: int, b_hi: int,
                    norm_distance: int) -> tuple[np.ndarray, int, int]:
    """TSS-bin row over ``[lo, hi)`` bins covering the profile and ±norm_distance, with
    the diagonal replaced and the row scaled to sum 1.  Returns (row, lo, tss_bin)."""
    row, lo, b = tss_row_diag_corrected(source, chrom, tss, b_lo, b_hi, norm_distance)
    total = row.sum()
    if total > 0:
        row /= total
    return row, lo, b


def tss_row_diag_corrected(source: ContactSource, chrom: str, tss: int, b_lo: int, b_hi: int,
                           norm_distance: int) -> tuple[np.ndarray, int, int]:
    """TSS-bin row (float64) over ``[lo, hi)`` bins covering ``[b_lo, b_hi)`` and
    ±norm_distance, its diagonal replaced by the larger neighbour (ABC).  Returns
    (row, lo, tss_bin)."""
    res = source.resolution
    b = int(tss) // res
    reach = max(norm_distance // res, 1)
    lo, hi = min(b_lo, b - reach), max(b_hi, b + reach + 1)
    row = source.row(chrom, tss, lo * res, hi * res).astype(np.float64)
    nbins = -(-source.chrom_size(chrom) // res)
    left = row[b - lo - 1] if b - 1 >= max(lo, 0) else 0.0
    right = row[b - lo + 1] if b + 1 < min(hi, nbins) else 0.0
    row[b - lo] = max(left, right)
    return row, lo, b


def contact_profile(source: ContactSource | None, chrom: str, tss: int, window: int = 200_000,
                    resolution: int = 5000, gamma: float = 0.87, scale: float | None = None,
                    pseudocount_distance: int = 1_000_000, norm_distance: int = 5_000_000,
                    chrom_size: int | None = None) -> np.ndarray:
    """ABC-style contact profile of a gene: contact of the TSS's bin with every bin of
    the window ``[tss - window//2, tss + window//2)`` (bins as in :func:`profile_bins`).

    With Hi-C (``source`` given, its resolution is used):

    1. read the TSS bin's row (observed, chosen normalisation; NaN -> 0) over the window
       and over ``tss ± norm_distance``;
    2. replace the diagonal (the TSS bin itself) by the max of its two neighbours
       (ABC ``apply_diagonal_bin_correction``);
    3. scale the row to sum 1 over ``tss ± norm_distance`` (5 Mb, ABC's gene window):
       ABC's handling of VC maps (``process_vc``: each gene's row sums to 1).  For KR /
       SCALE maps ABC divides by the chromosome's mean row sum, which equals every row's
       sum for a balanced map, so the same step is used for all normalisations.
       ABC's optional rescaling to a reference power law is not applied;
    4. add the pseudocount ``min(powerlaw(d), powerlaw(pseudocount_distance))`` where
       ``powerlaw`` is :func:`powerlaw_contact` (``gamma``, ``scale``) and ``d`` is the
       distance from the TSS to the bin centre.

    Without Hi-C (``source=None``): ABC's fallback :func:`abc_powerlaw` of ``d``.
    Bins wholly outside the chromosome are 0 in both cases (the size comes from the
    source, or ``chrom_size`` for the fallback).  The caller stores ``log10(1 + value)``.

    Returns
    -------
    np.ndarray, shape (b_hi - b_lo,), float32
    """
    res = source.resolution if source is not None else int(resolution)
    b_lo, b_hi = profile_bins(tss, window, res)
    bins = np.arange(b_lo, b_hi)
    dist = np.abs((bins + 0.5) * res - tss)
    inside = bins_inside(bins, res, source.chrom_size(chrom) if source is not None else chrom_size)
    if source is None:
        prof = abc_powerlaw(dist)
    else:
        row, lo, _ = _normalized_row(source, chrom, tss, b_lo, b_hi, norm_distance)
        prof = row[b_lo - lo:b_hi - lo]
        pseudo = np.minimum(powerlaw_contact(dist, gamma, scale, min_distance=res),
                            powerlaw_contact(pseudocount_distance, gamma, scale,
                                             min_distance=res))
        prof = prof + pseudo
    return np.where(inside, prof, 0.0).astype(np.float32)


def self_contact(source: ContactSource | None, chrom: str, tss: int,
                 norm_distance: int = 5_000_000, resolution: int = 5000) -> float:
    """The gene's self-promoter contact: the TSS bin's own value after steps 1-3 of
    :func:`contact_profile` (no pseudocount).  ABC (``qc_hic``) and Seq2Exp treat a gene
    whose value is below :data:`SELF_CONTACT_MIN` (0.01) as lacking Hi-C coverage; the
    caller drops it.  Without Hi-C this is ``abc_powerlaw(0)`` (always kept)."""
    if source is None:
        return float(abc_powerlaw(0.0))
    res = source.resolution
    b = int(tss) // res
    row, lo, _ = _normalized_row(source, chrom, tss, b, b + 1, norm_distance)
    return float(row[b - lo])


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


def quiet_hictkpy() -> None:
    """hictkpy logs every block it writes at DEBUG level; keep its logger at WARNING unless
    the user asked for debug output (``-vv``)."""
    import logging

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        import hictkpy

        logging.getLogger("hictkpy").setLevel(logging.WARNING)
        hictkpy.logging.setLevel(logging.WARNING)


def write_hic(path: str | os.PathLike, chrom_sizes: dict[str, int],
              resolutions: int | Sequence[int], pixels: pd.DataFrame,
              assembly: str = "unknown") -> None:
    """Write a ``.hic`` file (v9) with hictkpy, atomically.

    ``pixels`` are at the finest resolution (same forms as :func:`write_cool`); coarser
    resolutions (multiples of the finest) are aggregated by hictk.  No normalisation
    vectors are written (hictkpy cannot); readers asking for ``VC`` compute it from the
    raw coverage, other normalisations are then unavailable.
    """
    import hictkpy

    quiet_hictkpy()

    res = sorted({int(resolutions)} if isinstance(resolutions, (int, np.integer))
                 else {int(r) for r in resolutions})
    if any(r % res[0] for r in res):
        raise ValueError(f"resolutions {res} must be multiples of the finest")
    b1, b2, cnt = _pixels_to_bins(chrom_sizes, res[0], pixels)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.unlink()
        writer = hictkpy.hic.FileWriter(str(tmp), {k: int(v) for k, v in chrom_sizes.items()},
                                        res, assembly=assembly, tmpdir=str(path.parent))
        writer.add_pixels_from_dict({"bin1_id": b1.tolist(), "bin2_id": b2.tolist(),
                                     "count": cnt.astype(np.float64).tolist()})
        writer.finalize()

