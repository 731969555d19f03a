"""Scale-free signal tracks: each track divided by a robust statistic of its own distribution.

Labs write DNase and H3K27ac bigWigs in different units (fold enrichment, RPM, raw read
coverage, ×10 of any of these).  A model that reads raw values learns the units of its
training data, and its mask moves when the units change.  So every track is divided by its
own **scale**: the :data:`QUANTILE` quantile of its per-bp values over a fixed, genome-wide
sample of positions (:func:`sample_blocks`).  A high quantile lies inside the peaks of any
sparse chromatin track, ignores the few kb of blacklisted artefacts (0.01-0.1 % of the bp) and
scales with the units: multiplying a bigWig by 10 multiplies its scale by 10, so the
normalised values do not change.

The same function runs in ``seq2exp preprocess`` (the scale is written to the store's
manifest, ``track_scales``) and when windows are read straight from the files
(:class:`~seq2exp_cli.store.live.FileWindows`), so both paths give identical windows; every
trained model's config records the scales of the data it was trained on.
"""

from __future__ import annotations

import logging
from typing import Iterable, Mapping

import numpy as np

from ..errors import InputError

log = logging.getLogger(__name__)

#: the statistic: this quantile of the sampled per-bp values
QUANTILE = 0.99
#: sampled blocks are this long (bp) ...
SAMPLE_BLOCK = 10_000
#: ... and spread evenly so that at most about this many bp are read per track
SAMPLE_BP = 50_000_000


def sample_blocks(chrom_sizes: Mapping[str, int], block: int = SAMPLE_BLOCK,
                  total: int = SAMPLE_BP) -> list[tuple[str, int, int]]:
    """Evenly spaced ``(chrom, start, end)`` blocks covering about ``total`` bp of a genome.

    Deterministic: depends only on the chromosome names, their order and sizes.  Blocks
    start every ``stride = max(block, genome * block / total)`` bp on every chromosome
    (so a genome smaller than ``total`` is read almost whole), the last one clipped to the
    chromosome end.
    """
    genome = int(sum(chrom_sizes.values()))
    stride = max(block, int(np.ceil(genome * block / max(total, 1))))
    out = []
    for chrom, size in chrom_sizes.items():
        for start in range(0, int(size), stride):
            out.append((chrom, start, min(start + block, int(size))))
    return out


def robust_scale(values: np.ndarray, quantile: float = QUANTILE) -> float:
    """Return the scale of a track from sampled per-bp values (NaN-free, >= 0).

    The ``quantile`` of all values; when that is 0 (a track whose signal covers less than
    ``1 - quantile`` of the genome) the same quantile of the non-zero values.  0 when there
    are no non-zero values.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0
    q = float(np.quantile(v, quantile))
    if q > 0:
        return q
    nz = v[v > 0]
    return float(np.quantile(nz, quantile)) if nz.size else 0.0


def track_scale(track, chroms: Iterable[str], chrom_sizes: Mapping[str, int]) -> float:
    """Scale of an opened track (anything with ``fetch(chrom, start, end)``).

    Parameters
    ----------
    track : BigWigTrack
        The opened track (values per bp; no data reads as 0).
    chroms : iterable of str
        Chromosomes to sample (genome names, in genome order): those the track has data on.
    chrom_sizes : mapping
        Genome chromosome sizes (bp).

    Raises
    ------
    InputError
        When the sampled positions hold no signal at all (an empty or all-zero track).
    """
    sizes = {c: int(chrom_sizes[c]) for c in chroms}
    parts = [track.fetch(c, s, e) for c, s, e in sample_blocks(sizes)]
    scale = robust_scale(np.concatenate(parts) if parts else np.zeros(0))
    if not scale > 0:
        name = getattr(track, "path", getattr(track, "name", "track"))
        raise InputError(f"{name}: the track has no signal on the genome's chromosomes "
                         "(all sampled values are 0 or missing); check that it is the right "
                         "file and that its chromosome names match the FASTA")
    return scale


class ScaledTrack:
    """A track whose values are divided by ``scale`` (read-through wrapper).

    Parameters
    ----------
    track : BigWigTrack
        The opened track; ``fetch``, ``chrom_values`` and ``close`` are forwarded.
    scale : float
        The divisor (> 0), from :func:`track_scale` or a store's manifest.
    """

    def __init__(self, track, scale: float):
        if not scale > 0:
            raise ValueError(f"track scale must be > 0, got {scale}")
        self.track = track
        self.scale = float(scale)
        self._inv = np.float32(1.0 / self.scale)

    def fetch(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Normalised per-bp values of ``chrom:[start, end)``, float32."""
        return self.track.fetch(chrom, start, end) * self._inv

    def chrom_values(self, chrom: str) -> np.ndarray:
        """Normalised per-bp values of a whole chromosome, float32."""
        return self.track.chrom_values(chrom) * self._inv

    def __getattr__(self, name):
        """Forward everything else (``path``, ``chrom_sizes``, ...) to the wrapped track."""
        return getattr(self.track, name)

    def close(self) -> None:
        """Close the underlying track."""
        self.track.close()
