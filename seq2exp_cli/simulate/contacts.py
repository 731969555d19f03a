"""Hi-C contacts: power-law decay, insulating domain boundaries, loops, Poisson counts.

Expected contact between bins ``i <= j`` of one chromosome (resolution ``res`` bp)::

    E[i, j] = depth * (1 + (j - i))**-gamma * insulation**(boundaries between i and j)
              * (1 + loop boost)

Loops join consecutive domain boundaries (CTCF corner peaks, 60 % of domains) and a fraction
of enhancers to their gene's promoter; a loop multiplies its pixel by ``1 + loop_strength``
(its 8 neighbours by ``1 + 0.3 * loop_strength``).  Counts are Poisson(E), kept up to
``max_distance``.  The same formula, evaluated on bp distances, is the contact used by the
expression model (:func:`contact`), so Hi-C is a noisy binned measurement of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def crossings(pos_a: np.ndarray, pos_b: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
    """Number of boundaries (bp, sorted) strictly between positions ``pos_a`` and ``pos_b``."""
    lo, hi = np.minimum(pos_a, pos_b), np.maximum(pos_a, pos_b)
    return np.searchsorted(boundaries, hi, side="left") - np.searchsorted(
        boundaries, lo, side="right"
    )


def contact(
    pos_a: np.ndarray,
    pos_b: np.ndarray,
    boundaries: np.ndarray,
    looped: np.ndarray,
    gamma: float,
    insulation: float,
    loop_strength: float,
    res: int = 5_000,
) -> np.ndarray:
    """Relative contact (1 at distance 0) between bp positions, broadcasting.

    Parameters
    ----------
    pos_a, pos_b: positions (bp).
    boundaries: sorted domain-boundary positions of the chromosome (bp).
    looped: bool, whether the pair is joined by a loop.
    """
    d = np.abs(np.asarray(pos_a) - np.asarray(pos_b))
    c = (1.0 + d / res) ** -gamma * insulation ** crossings(pos_a, pos_b, boundaries)
    return c * (1.0 + loop_strength * np.asarray(looped, dtype=float))


def expected_pixels(
    size: int,
    res: int,
    boundaries: np.ndarray,
    loops: np.ndarray,
    gamma: float,
    insulation: float,
    loop_strength: float,
    depth: float,
    max_distance: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected counts of all bin pairs ``i <= j`` with ``j - i <= max_distance / res``.

    Parameters
    ----------
    loops: shape=(n, 2), bin index pairs of loop anchors.

    Returns
    -------
    (bin1, bin2, expected): int64, int64, float64 arrays in diagonal-major order.
    """
    n = -(-size // res)
    kmax = min(n - 1, max_distance // res)
    centers = np.arange(n) * res + res // 2
    dom = np.searchsorted(boundaries, centers)
    lens = n - np.arange(kmax + 1)
    offs = np.concatenate([[0], np.cumsum(lens)])
    b1 = np.concatenate([np.arange(m) for m in lens])
    b2 = b1 + np.repeat(np.arange(kmax + 1), lens)
    exp = depth * (1.0 + (b2 - b1)) ** -gamma * insulation ** (dom[b2] - dom[b1])
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            boost = loop_strength * (1.0 if di == dj == 0 else 0.3)
            i, j = loops[:, 0] + di, loops[:, 1] + dj
            i, j = np.minimum(i, j), np.maximum(i, j)
            ok = (i >= 0) & (j < n) & (j - i <= kmax)
            exp[offs[j[ok] - i[ok]] + i[ok]] *= 1.0 + boost
    return b1, b2, exp


def sample_contacts(
    sizes: dict[str, int],
    boundaries: pd.DataFrame,
    loops: pd.DataFrame,
    rng: np.random.Generator,
    res: int,
    gamma: float,
    insulation: float,
    loop_strength: float,
    depth: float,
    max_distance: int,
) -> pd.DataFrame:
    """Poisson counts at ``res`` bp for every chromosome (intra-chromosomal only).

    Parameters
    ----------
    boundaries: ``chrom, pos`` (bp).
    loops: ``chrom, pos1, pos2`` (bp) of loop anchors.

    Returns
    -------
    pd.DataFrame with ``chrom1, start1, chrom2, start2, count`` (bins' starts in bp; upper
    triangle; zero counts left out).
    """
    parts = []
    for chrom, size in sizes.items():
        bnd = np.sort(boundaries.pos[boundaries.chrom == chrom].to_numpy())
        lp = loops[loops.chrom == chrom]
        anchors = np.stack([lp.pos1.to_numpy() // res, lp.pos2.to_numpy() // res], axis=1)
        b1, b2, e = expected_pixels(
            size,
            res,
            bnd,
            anchors.astype(np.int64),
            gamma,
            insulation,
            loop_strength,
            depth,
            max_distance,
        )
        cnt = rng.poisson(e)
        keep = cnt > 0
        parts.append(
            pd.DataFrame(
                {
                    "chrom1": chrom,
                    "start1": b1[keep] * res,
                    "chrom2": chrom,
                    "start2": b2[keep] * res,
                    "count": cnt[keep].astype(np.int64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def coarsen(pixels: pd.DataFrame, res: int) -> pd.DataFrame:
    """Sum pixels into bins of ``res`` bp (a multiple of the input resolution)."""
    p = pixels.assign(start1=pixels.start1 // res * res, start2=pixels.start2 // res * res)
    return p.groupby(["chrom1", "start1", "chrom2", "start2"], sort=False, as_index=False)[
        "count"
    ].sum()


def make_loops(
    boundaries: pd.DataFrame,
    elements: pd.DataFrame,
    genes: pd.DataFrame,
    fraction_ep: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Loops: consecutive CTCF boundaries (60 %) and ``fraction_ep`` of enhancers >= 15 kb
    from their gene's TSS, looped to it.

    Returns
    -------
    pd.DataFrame with ``chrom, pos1, pos2, kind, element_id, gene_id`` (bp).
    """
    rows = []
    for chrom, b in boundaries.groupby("chrom", sort=False):
        p = np.sort(b.pos.to_numpy())
        for a, z in zip(p[:-1], p[1:]):
            if rng.random() < 0.6:
                rows.append((chrom, int(a), int(z), "ctcf", ".", "."))
    tss = genes.set_index("gene_id").tss
    enh = elements[elements.kind == "enhancer"]
    ctr = ((enh.start + enh.end) // 2).to_numpy()
    t = tss.reindex(enh.gene_id).to_numpy()
    pick = (np.abs(ctr - t) >= 15_000) & (rng.random(len(enh)) < fraction_ep)
    for c, x, y, eid, gid in zip(
        enh.chrom[pick], ctr[pick], t[pick], enh.element_id[pick], enh.gene_id[pick]
    ):
        rows.append((c, int(min(x, y)), int(max(x, y)), "enhancer-promoter", eid, gid))
    return pd.DataFrame(rows, columns=["chrom", "pos1", "pos2", "kind", "element_id", "gene_id"])
