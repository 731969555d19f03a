"""Contact maths: ABC-style contact profiles, matrices and power laws, arrays in and out.

Everything the model's Hi-C input is computed from sits here, on top of a
:class:`~seq2exp_cli.io.hic.ContactSource` (a map opened by
:func:`seq2exp_cli.io.hic.open_contacts`) or, without Hi-C, ABC's power-law fallback:

- :func:`contact_profile`: contact of a gene's TSS bin with every bin of its window
  (ABC: Fulco et al. 2019; broadinstitute/ABC-Enhancer-Gene-Prediction, ``hic.py`` and
  ``predictor.py``); see its docstring for every step.
- :func:`contact_track`: the per-bp contact channel the model reads,
  ``log10(1 + contact)`` of the bin holding each base.
- :func:`gene_contact_matrix`: the same contacts between every pair of the window's bins.
- :func:`powerlaw_contact` and :func:`abc_powerlaw`: the power laws.

Bins are genome-aligned: bin ``k`` covers ``[k * res, (k + 1) * res)`` (0-based half-open
bp).  A gene's profile starts at the bin holding ``tss - window // 2`` and has
:func:`n_contact_bins` entries (zero past the last bin the window touches).
"""

from __future__ import annotations

import numpy as np

#: Genes whose self-promoter contact (see :func:`self_contact`) is below this are dropped.
SELF_CONTACT_MIN = 0.01
#: ABC's reference power law at 5 kb: scale = -4.80 + 11.63 * gamma (predictor.py).
_ABC_SCALE_INTERCEPT, _ABC_SCALE_SLOPE = -4.80, 11.63

__all__ = [
    "SELF_CONTACT_MIN",
    "MatrixBlocks",
    "abc_powerlaw",
    "bins_inside",
    "contact_profile",
    "contact_track",
    "expand_profile",
    "gene_contact",
    "gene_contact_matrix",
    "n_contact_bins",
    "powerlaw_contact",
    "profile_bins",
    "self_contact",
    "tss_row_diag_corrected",
]


# --------------------------------------------------------------------------- power laws
def powerlaw_contact(distance_bp: np.ndarray | float, gamma: float = 0.87,
                     scale: float | None = None, min_distance: int = 5000) -> np.ndarray:
    """ABC power-law contact ``exp(scale - gamma * ln(d + 1))``, ``d`` clipped to ``>= min_distance``.

    Parameters
    ----------
    distance_bp : array_like or float
        Distances in bp.
    gamma, scale : float
        Exponent and log-scale; ``scale=None`` uses ABC's reference
        ``-4.80 + 11.63 * gamma`` (5.318 for gamma 0.87), which matches Hi-C rows
        normalised to sum to 1.
    min_distance : int
        Shortest distance (bp) used.

    Returns
    -------
    np.ndarray, float64
        Same shape as ``distance_bp``.
    """
    if scale is None:
        scale = _ABC_SCALE_INTERCEPT + _ABC_SCALE_SLOPE * gamma
    d = np.maximum(np.asarray(distance_bp, dtype=np.float64), min_distance)
    return np.exp(scale - gamma * np.log(d + 1.0))


def abc_powerlaw(distance_bp, min_distance: int = 5000):
    """ABC's fallback without Hi-C: ``exp(5.96 - 1.024 * ln(|d| + 1))``, ``|d| >= min_distance``.

    Parameters
    ----------
    distance_bp : array_like, float or torch.Tensor
        Signed or unsigned distances in bp.
    min_distance : int
        Shortest distance (bp) used (5 kb in ABC).

    Returns
    -------
    np.ndarray (float64) or torch.Tensor (float32 on the input's device)
        The contact, same shape as ``distance_bp``; a tensor in gives a tensor out.
    """
    if hasattr(distance_bp, "detach"):  # a torch tensor (torch is not imported here)
        import torch

        c = abc_powerlaw(distance_bp.detach().to("cpu").numpy(), min_distance)
        return torch.as_tensor(c, dtype=torch.float32, device=distance_bp.device)
    return powerlaw_contact(np.abs(np.asarray(distance_bp, dtype=np.float64)), gamma=1.024,
                            scale=5.96, min_distance=min_distance)


# --------------------------------------------------------------------------- bins
def profile_bins(tss: int, window: int = 200_000, resolution: int = 5000) -> tuple[int, int]:
    """Genome bins ``[b_lo, b_hi)`` overlapping the window ``[tss - window//2, tss + window//2)``.

    Profile bin ``i`` covers ``[(b_lo + i) * res, (b_lo + i + 1) * res)`` (it may start
    below 0 or run past the chromosome end).
    """
    start = int(tss) - window // 2
    end = int(tss) + window // 2
    return start // resolution, -(-end // resolution)


def n_contact_bins(window_bp: int, resolution: int) -> int:
    """Genome-aligned Hi-C bins that a window of ``window_bp`` can touch."""
    return window_bp // resolution + 1


def bins_inside(bins: np.ndarray, resolution: int, chrom_size: int | None) -> np.ndarray:
    """Tell which genome bins lie on the chromosome.

    A bin is inside when its index is >= 0 and its start is before the chromosome's end
    (no upper bound when ``chrom_size`` is None).
    """
    inside = bins >= 0
    if chrom_size is not None:
        inside &= bins * resolution < chrom_size
    return inside


def expand_profile(profile: np.ndarray, tss: int, window: int = 200_000,
                   resolution: int = 5000) -> np.ndarray:
    """Per-bp values of a bin profile over ``[tss - window//2, tss + window//2)``.

    Parameters
    ----------
    profile : np.ndarray, shape=(b_hi - b_lo,)
        One value per bin of :func:`profile_bins`.

    Returns
    -------
    np.ndarray, shape=(2 * (window // 2),), float32
        For each bp, the profile value of the genome bin holding it.
    """
    b_lo, b_hi = profile_bins(tss, window, resolution)
    profile = np.asarray(profile, dtype=np.float32)
    if profile.shape != (b_hi - b_lo,):
        raise ValueError(f"profile has {profile.shape} bins, window needs {b_hi - b_lo}")
    pos = np.arange(int(tss) - window // 2, int(tss) + window // 2, dtype=np.int64)
    return profile[pos // resolution - b_lo]


def contact_track(profile: np.ndarray, tss: int, window_bp: int, resolution: int,
                  lo: int | None = None, hi: int | None = None) -> np.ndarray:
    """Return the model's per-bp contact channel: ``log10(1 + contact)`` of the bin holding each base.

    Parameters
    ----------
    profile : np.ndarray, shape=(n_bins,)
        A gene's contact profile (:func:`contact_profile` or :func:`gene_contact`), bin 0
        the genome bin holding ``tss - window_bp // 2``; not log-transformed.
    tss, window_bp, resolution : int
        The gene's TSS (bp), the window width (bp) and the bin size (bp).
    lo, hi : int, optional
        Genome interval ``[lo, hi)`` to return, inside the window (default: the whole
        window ``[tss - window_bp // 2, tss + window_bp // 2)``).

    Returns
    -------
    np.ndarray, shape=(hi - lo,), float32
        Genome orientation; equal to the contact channel of the gene's window in a store.
    """
    lo = int(tss) - window_bp // 2 if lo is None else int(lo)
    hi = int(tss) + window_bp // 2 if hi is None else int(hi)
    if hi <= lo:
        return np.zeros(0, dtype=np.float32)
    bin0 = (int(tss) - window_bp // 2) // resolution  # genome bin of the profile's bin 0
    prof = np.log10(1.0 + np.asarray(profile)).astype(np.float32)
    first, last = lo // resolution, (hi - 1) // resolution
    counts = np.full(last - first + 1, resolution, dtype=np.int64)
    counts[0] = min(hi, (first + 1) * resolution) - lo
    if last > first:
        counts[-1] = hi - last * resolution
    return np.repeat(prof[first - bin0: last - bin0 + 1], counts)


# --------------------------------------------------------------------------- profiles
def _normalized_row(source, chrom: str, tss: int, b_lo: int, b_hi: int,
                    norm_distance: int) -> tuple[np.ndarray, int, int]:
    """Return the TSS-bin row, diagonal replaced, scaled to sum 1, with ``(lo, tss_bin)``."""
    row, lo, b = tss_row_diag_corrected(source, chrom, tss, b_lo, b_hi, norm_distance)
    total = row.sum()
    if total > 0:
        row /= total
    return row, lo, b


def tss_row_diag_corrected(source, chrom: str, tss: int, b_lo: int, b_hi: int,
                           norm_distance: int) -> tuple[np.ndarray, int, int]:
    """Read the TSS bin's row with its diagonal replaced by the larger neighbour (ABC).

    Returns
    -------
    row : np.ndarray, float64
        Over bins ``[lo, hi)`` covering ``[b_lo, b_hi)`` and ``tss ± norm_distance``.
    lo, tss_bin : int
        First bin of ``row`` and the TSS's bin.
    """
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


def contact_profile(source, chrom: str, tss: int, window: int = 200_000,
                    resolution: int = 5000, gamma: float = 0.87, scale: float | None = None,
                    pseudocount_distance: int = 1_000_000, norm_distance: int = 5_000_000,
                    chrom_size: int | None = None) -> np.ndarray:
    """ABC-style contact of a gene's TSS bin with every bin of its window.

    The window is ``[tss - window//2, tss + window//2)``, its bins those of
    :func:`profile_bins`.  With Hi-C (``source`` given, its resolution is used):

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
    source, or ``chrom_size`` for the fallback).  The model reads ``log10(1 + value)``
    (:func:`contact_track`).

    Parameters
    ----------
    source : ContactSource or None
        An opened map (:func:`seq2exp_cli.io.hic.open_contacts`), or None for the fallback.

    Returns
    -------
    np.ndarray, shape=(b_hi - b_lo,), float32
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


def self_contact(source, chrom: str, tss: int, norm_distance: int = 5_000_000,
                 resolution: int = 5000) -> float:
    """Return the gene's self-promoter contact.

    The TSS bin's own value after steps 1-3 of :func:`contact_profile` (no pseudocount).
    ABC (``qc_hic``) and Seq2Exp treat a gene whose value is below
    :data:`SELF_CONTACT_MIN` (0.01) as lacking Hi-C coverage; the caller drops it.
    Without Hi-C this is ``abc_powerlaw(0)`` (always kept).
    """
    if source is None:
        return float(abc_powerlaw(0.0))
    res = source.resolution
    b = int(tss) // res
    row, lo, _ = _normalized_row(source, chrom, tss, b, b + 1, norm_distance)
    return float(row[b - lo])


def gene_contact(source, chrom: str, tss: int, window_bp: int, resolution: int, gamma: float,
                 chrom_size: int) -> tuple[np.ndarray, float]:
    """ABC-style contact profile of one gene, padded to :func:`n_contact_bins`, and its self-contact.

    Returns
    -------
    profile : np.ndarray, shape=(n_bins,), float32
        Contact of the TSS bin with each genome bin from the one holding
        ``tss - window_bp // 2`` onwards (pseudocount included; zero past the last bin the
        window touches and outside the chromosome); see :func:`contact_profile`.
    self_contact : float
        The TSS bin's own normalised contact (:func:`self_contact`).
    """
    prof = np.asarray(
        contact_profile(source, chrom, tss, window=window_bp, resolution=resolution, gamma=gamma,
                        chrom_size=chrom_size),
        dtype=np.float32,
    )
    out = np.zeros(n_contact_bins(window_bp, resolution), dtype=np.float32)
    out[: len(prof)] = prof
    return out, self_contact(source, chrom, tss, resolution=resolution)


# --------------------------------------------------------------------------- matrices
class MatrixBlocks:
    """Square blocks of a contact map read through one cached larger block.

    The matrices of neighbouring genes (sorted by TSS, as in a gene table) then share one
    read.

    Parameters
    ----------
    source : ContactSource
        The opened map.
    extra : int
        Bins read beyond each request (the next genes reuse them).
    """

    def __init__(self, source, extra: int = 256):
        self.source = source
        self.extra = int(extra)
        self._hit: tuple[str, int, int, np.ndarray] | None = None

    def get(self, chrom: str, lo: int, hi: int) -> np.ndarray:
        """Dense block of bins ``[lo, hi)`` x ``[lo, hi)`` of ``chrom``, float64.

        See :meth:`~seq2exp_cli.io.hic_sources.ContactSource.matrix`.
        """
        hit = self._hit
        if hit is None or hit[0] != chrom or not (hit[1] <= lo and hi <= hit[2]):
            b0, b1 = lo, hi + self.extra
            hit = (chrom, b0, b1, self.source.matrix(chrom, b0, b1, b0, b1))
            self._hit = hit
        _, b0, _, blk = hit
        return blk[lo - b0:hi - b0, lo - b0:hi - b0]


def gene_contact_matrix(source, chrom: str, tss: int, window_bp: int, resolution: int,
                        gamma: float, chrom_size: int, blocks: MatrixBlocks | None = None,
                        norm_distance: int = 5_000_000,
                        pseudocount_distance: int = 1_000_000) -> np.ndarray:
    """Contact between every pair of a gene's genome-aligned Hi-C bins.

    The bins are those of :func:`gene_contact` (bin 0 holds ``tss - window_bp // 2``), and
    the matrix extends the profile's convention symmetrically so that its TSS row *is*
    the stored profile:

    * each bin is anchored at its centre, except the TSS bin, anchored at the TSS; the
      distance of a pair is that between their anchors;
    * with Hi-C, the observed block (chosen normalisation) has every diagonal entry
      replaced by the max of its two neighbours in its row, the whole block is divided by
      the TSS row's sum over ``tss ± norm_distance`` (the one factor that scales the
      profile; a single factor keeps the matrix symmetric), and the pseudocount
      ``min(powerlaw(d), powerlaw(pseudocount_distance))`` of :func:`contact_profile` is
      added;
    * without Hi-C, ABC's fallback :func:`abc_powerlaw` of ``d``;
    * pairs with a bin outside the chromosome, or past the last bin the window touches,
      are 0.

    Parameters
    ----------
    source : ContactSource or None
        The opened map, or None (power law).
    blocks : MatrixBlocks, optional
        A block cache over ``source`` reused across genes.

    Returns
    -------
    np.ndarray, shape=(nb, nb), float32
        ``nb = n_contact_bins(window_bp, resolution)``; symmetric; not log-transformed.
    """
    res = source.resolution if source is not None else int(resolution)
    b_lo, b_hi = profile_bins(tss, window_bp, res)
    n = b_hi - b_lo
    bins = np.arange(b_lo, b_hi)
    anchor = (bins + 0.5) * res
    anchor[int(tss) // res - b_lo] = float(tss)
    dist = np.abs(anchor[:, None] - anchor[None, :])
    size = source.chrom_size(chrom) if source is not None else chrom_size
    inside = bins_inside(bins, res, size)
    if source is None:
        mat = abc_powerlaw(dist)
    else:
        blk = (blocks.get(chrom, b_lo - 1, b_hi + 1) if blocks is not None
               else source.matrix(chrom, b_lo - 1, b_hi + 1, b_lo - 1, b_hi + 1))
        i = np.arange(n)
        mat = np.array(blk[1:-1, 1:-1], dtype=np.float64)
        mat[i, i] = np.maximum(blk[i + 1, i], blk[i + 1, i + 2])
        # the factor that scales the profile (steps 1-3 of contact_profile)
        total = float(tss_row_diag_corrected(source, chrom, tss, b_lo, b_hi,
                                             norm_distance)[0].sum())
        if total > 0:
            mat /= total
        mat += np.minimum(powerlaw_contact(dist, gamma, None, min_distance=res),
                          powerlaw_contact(pseudocount_distance, gamma, None, min_distance=res))
    mat = np.where(inside[:, None] & inside[None, :], mat, 0.0)
    nb = n_contact_bins(window_bp, resolution)
    out = np.zeros((nb, nb), dtype=np.float32)
    out[:n, :n] = mat
    return out
