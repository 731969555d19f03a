"""DNase and H3K27ac tracks: piecewise-constant per-bp signals built from element peaks.

Each track is held per chromosome as values over runs of ``bin_size`` bp (default 20), so
per-bp arrays are ``np.repeat(bins, bin_size)`` and bigWigs stay small.

* DNase: a Gaussian peak (sigma = width / 4) at every open element.  Enhancers and decoys
  draw their peak heights from the *same* distribution (a decoy borrows the "activity" of a
  random enhancer), so DNase alone cannot tell them apart.
* H3K27ac: two flanking humps (nucleosomes beside the open core, sigma 300 bp, at
  +-(width/2 + 250) bp); heights follow activity (enhancers: activity**0.8; decoys: half of a
  borrowed enhancer activity's), so H3K27ac is informative but noisy.
* Promoters: strong DNase and H3K27ac rising with promoter strength; CTCF sites: DNase only.
* Blacklisted regions carry a flat artefact (high in both tracks); the background is zero
  with sparse low-level noise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


class BinnedTrack(Mapping):
    """A per-bp signal stored as runs of ``bin_size`` bp; mapping chrom -> per-bp array.

    Attributes
    ----------
    bins: chrom -> float32 array of ``ceil(size / bin_size)`` run values.
    sizes: chrom -> length (bp).
    """

    def __init__(self, sizes: Mapping[str, int], bin_size: int):
        self.sizes = dict(sizes)
        self.bin_size = bin_size
        self.bins = {
            c: np.zeros(-(-s // bin_size), dtype=np.float32) for c, s in self.sizes.items()
        }

    def __getitem__(self, chrom: str) -> np.ndarray:
        """Per-bp values, shape=(size,), float32."""
        return np.repeat(self.bins[chrom], self.bin_size)[: self.sizes[chrom]]

    def __iter__(self):
        return iter(self.sizes)

    def __len__(self) -> int:
        return len(self.sizes)

    def add_profile(
        self,
        chrom: str,
        centers: np.ndarray,
        heights: np.ndarray,
        offsets_bp: np.ndarray,
        shape: np.ndarray,
    ) -> None:
        """Add ``height * shape`` at ``center + offsets_bp`` for every (center, height).

        ``offsets_bp`` and ``shape`` have the same length; positions are binned and added
        (``np.add.at``), vectorised over all elements.
        """
        if len(centers) == 0:
            return
        pos = (np.asarray(centers)[:, None] + offsets_bp[None, :]) // self.bin_size
        val = np.asarray(heights, dtype=np.float32)[:, None] * shape[None, :].astype(np.float32)
        ok = (pos >= 0) & (pos < len(self.bins[chrom]))
        np.add.at(self.bins[chrom], pos[ok], val[ok])

    def total(self) -> float:
        """Sum of the per-bp signal over the genome."""
        return float(sum(b.sum() * self.bin_size for b in self.bins.values()))

    def window_sum(self, chrom: str, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Per-bp signal summed over ``[start, end)`` (bp; bin-aligned approximation)."""
        cs = np.concatenate([[0.0], np.cumsum(self.bins[chrom], dtype=np.float64)])
        a = np.clip(np.asarray(start) // self.bin_size, 0, len(cs) - 1)
        b = np.clip(-(-np.asarray(end) // self.bin_size), 0, len(cs) - 1)
        return (cs[b] - cs[a]) * self.bin_size


def _gauss(sigma: float, half: float, step: int) -> tuple[np.ndarray, np.ndarray]:
    off = np.arange(-half, half + 1, step, dtype=np.int64)
    return off, np.exp(-0.5 * (off / sigma) ** 2)


def peak_heights(elements: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """DNase and H3K27ac peak heights per element (columns ``dnase``, ``h3k27ac`` added).

    Enhancer heights follow their activity; each decoy borrows the activity of a random
    enhancer, so DNase heights of decoys and enhancers share one distribution.
    """
    el = elements.copy()
    kind = el.kind.to_numpy()
    act = el.activity.to_numpy()
    enh = act[kind == "enhancer"]
    mean = enh.mean() if len(enh) else 1.0
    rel = np.where(kind == "enhancer", act / mean, 1.0)
    n_dec = int((kind == "decoy").sum())
    if n_dec and len(enh):
        rel[kind == "decoy"] = rng.choice(enh, n_dec) / mean
    n = len(el)
    ln = lambda s: rng.lognormal(0.0, s, n)  # noqa: E731
    dn = np.select(
        [kind == "enhancer", kind == "decoy", kind == "promoter", kind == "ctcf"],
        [
            4.0 * rel**0.3 * ln(0.35),
            4.0 * rel**0.3 * ln(0.35),
            8.0 * np.maximum(act, 0.05) ** 0.3 * ln(0.3),
            3.0 * ln(0.3),
        ],
    )
    ac = np.select(
        [kind == "enhancer", kind == "decoy", kind == "promoter", kind == "ctcf"],
        [
            3.0 * rel**0.8 * ln(0.45),
            1.5 * rel**0.8 * ln(0.45),
            5.0 * np.maximum(act, 0.05) ** 0.6 * ln(0.3),
            0.3 * ln(0.3),
        ],
    )
    el["dnase"] = np.round(dn, 3)
    el["h3k27ac"] = np.round(ac, 3)
    return el


def make_tracks(
    sizes: Mapping[str, int],
    elements: pd.DataFrame,
    blacklist: pd.DataFrame,
    rng: np.random.Generator,
    bin_size: int = 20,
) -> tuple[BinnedTrack, BinnedTrack]:
    """Build the DNase and H3K27ac tracks from elements with ``dnase``/``h3k27ac`` heights.

    Returns
    -------
    (dnase, h3k27ac): :class:`BinnedTrack` each; values rounded to 0.01.
    """
    dnase, ac = BinnedTrack(sizes, bin_size), BinnedTrack(sizes, bin_size)
    width = int((elements.end - elements.start).median()) if len(elements) else 400
    d_off, d_shape = _gauss(width / 4, width, bin_size)
    h_off1, h_shape1 = _gauss(300, 900, bin_size)
    h_off = np.concatenate([h_off1 - (width // 2 + 250), h_off1 + (width // 2 + 250)])
    h_shape = np.concatenate([h_shape1, h_shape1])
    p_off, p_shape = _gauss(700, 2_100, bin_size)  # promoters: broad H3K27ac
    for chrom in sizes:
        e = elements[elements.chrom == chrom]
        ctr = ((e.start + e.end) // 2).to_numpy()
        dnase.add_profile(chrom, ctr, e.dnase.to_numpy(), d_off, d_shape)
        prom = (e.kind == "promoter").to_numpy()
        ac.add_profile(chrom, ctr[~prom], e.h3k27ac.to_numpy()[~prom], h_off, h_shape)
        ac.add_profile(chrom, ctr[prom], e.h3k27ac.to_numpy()[prom], p_off, p_shape)
        for trk, rate, scale in ((dnase, 0.03, 0.15), (ac, 0.02, 0.1)):
            b = trk.bins[chrom]
            b *= rng.lognormal(0.0, 0.15, len(b)).astype(np.float32)  # per-run noise on peaks
            hit = rng.random(len(b)) < rate
            b[hit] += rng.exponential(scale, int(hit.sum())).astype(np.float32)
        bl = blacklist[blacklist.chrom == chrom]
        for s, t in zip(bl.start, bl.end):
            for trk, lvl in ((dnase, 30.0), (ac, 15.0)):
                trk.bins[chrom][s // bin_size : -(-t // bin_size)] += lvl * rng.lognormal(0, 0.2)
    for trk in (dnase, ac):
        for chrom in sizes:
            b = trk.bins[chrom]
            b[b < 0.02] = 0.0
            np.round(b, 2, out=b)
    return dnase, ac


def in_units(track: BinnedTrack, units: str, scale: float, rng: np.random.Generator,
             read_depth: float = 8.0, read_length: int = 50) -> BinnedTrack:
    """A copy of ``track`` in the units another pipeline would write (see
    :attr:`~seq2exp_cli.simulate.config.SimConfig.track_units`), times ``scale``.

    ``signal`` keeps the values; ``rpm`` rescales them to reads-per-million coverage of
    ``read_length``-bp reads (``v * 1e6 * read_length / sum(v)``); ``counts`` draws each run's
    read coverage ``Poisson(v * read_depth)`` (integers: weak signal becomes 0 or a few
    reads).  Blacklist artefacts and background go through the same conversion.
    """
    out = BinnedTrack(track.sizes, track.bin_size)
    total = track.total() or 1.0
    for c, b in track.bins.items():
        v = b.astype(np.float64)
        if units == "rpm":
            v = v * 1e6 * read_length / total
        elif units == "counts":
            v = rng.poisson(v * read_depth).astype(np.float64)
        elif units != "signal":
            raise ValueError(f"unknown track units {units!r}")
        out.bins[c] = (v * scale).astype(np.float32)
    return out


def promoter_activity(dnase: BinnedTrack, ac: BinnedTrack, genes: pd.DataFrame) -> np.ndarray:
    """``sqrt(H3K27ac_RPM x DNase_RPM)`` over TSS +- 500 bp (RPM = share of the genome-wide
    signal x 1e6), per gene in ``genes`` order."""
    out = np.zeros(len(genes))
    td, ta = dnase.total() or 1.0, ac.total() or 1.0
    for chrom in genes.chrom.unique():
        m = (genes.chrom == chrom).to_numpy()
        t = genes.tss.to_numpy()[m]
        d = dnase.window_sum(chrom, t - 500, t + 500) / td * 1e6
        a = ac.window_sum(chrom, t - 500, t + 500) / ta * 1e6
        out[m] = np.sqrt(d * a)
    return out
