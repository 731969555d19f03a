"""Where things are: N gaps, genes, enhancers, decoys, CTCF sites, domains, blacklist.

All coordinates are 0-based half-open bp.  Elements sit in a grid of 2 kb slots (one element
per slot, at least 400 bp apart), so no two elements overlap and none touches a promoter
(slots within 3 kb of a TSS are reserved) or an N gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import SimConfig

SLOT = 2_000
PROMOTER_CLEARANCE = 3_000


def place_gaps(cfg: SimConfig, rng: np.random.Generator) -> pd.DataFrame:
    """N gaps: one at each chromosome start (telomere-like) and one inside chromosomes of
    at least 1.5 Mb (contig gap).  Columns ``chrom, start, end``."""
    rows = []
    for chrom, size in cfg.chrom_sizes.items():
        lo, hi = cfg.gap_at_start
        rows.append((chrom, 0, int(rng.integers(lo, hi + 1))))
        if size >= 1_500_000:
            s = int(rng.integers(size // 3, 2 * size // 3))
            rows.append((chrom, s, s + int(rng.integers(2_000, 10_000))))
    return pd.DataFrame(rows, columns=["chrom", "start", "end"])


def place_genes(cfg: SimConfig, gaps: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Genes roughly one per ``gene_spacing`` bp, stratified (jittered grid) so TSSs are at
    least ~20 kb apart; ``near_end_genes`` of them put within 2-4 kb of a chromosome's end.

    Returns
    -------
    pd.DataFrame with ``gene_id, name, chrom, tss, strand, tx_start, tx_end`` (the TSS is
    ``tx_start`` on '+' and ``tx_end - 1`` on '-').
    """
    rows = []
    chroms = list(cfg.chrom_sizes)
    # near-end genes go to the last chromosomes (test split) so padding is exercised in tests
    near_end = set(chroms[::-1][: cfg.near_end_genes])
    for chrom in chroms:
        size = cfg.chrom_sizes[chrom]
        g = gaps[gaps.chrom == chrom]
        lo = int(g[g.start == 0].end.max()) + cfg.min_end_distance
        hi = size - cfg.min_end_distance
        n = max(1, int(round((hi - lo) / cfg.gene_spacing)))
        seg = (hi - lo) / n
        tss = lo + seg * (np.arange(n) + 0.1 + 0.8 * rng.random(n))
        tss = tss.astype(np.int64)
        inner = g[g.start > 0]
        for s, e in zip(inner.start, inner.end):  # push TSSs out of internal gaps
            bad = (tss > s - cfg.min_end_distance) & (tss < e + cfg.min_end_distance)
            tss[bad] = e + cfg.min_end_distance + rng.integers(0, 5_000, int(bad.sum()))
        strand = np.where(rng.random(n) < 0.5, "+", "-")
        if chrom in near_end:
            tss[-1] = size - int(rng.integers(2_000, 4_000))
            if n > 1 and tss[-1] - tss[-2] < 20_000:
                tss[-2] = tss[-1] - 20_000
        body = np.clip(rng.lognormal(np.log(25_000), 0.9, n), 2_000, 200_000).astype(np.int64)
        for t, st, b in zip(tss, strand, body):
            if st == "+":
                a, z = t, min(size, t + b)
            else:
                a, z = max(lo - cfg.min_end_distance, t - b + 1), t + 1
            rows.append((chrom, int(t), st, int(a), int(z)))
    df = pd.DataFrame(rows, columns=["chrom", "tss", "strand", "tx_start", "tx_end"])
    df.insert(0, "name", [f"SIM{i + 1}" for i in range(len(df))])
    df.insert(0, "gene_id", [f"SIMG{i + 1:06d}" for i in range(len(df))])
    return df[["gene_id", "name", "chrom", "tss", "strand", "tx_start", "tx_end"]]


class _Slots:
    """Free 2 kb slots of one chromosome."""

    def __init__(self, size: int, gaps: pd.DataFrame, tss: np.ndarray):
        self.n = size // SLOT
        self.free = np.ones(self.n, dtype=bool)
        for s, e in zip(gaps.start, gaps.end):
            self.free[max(0, s // SLOT - 1) : min(self.n, e // SLOT + 2)] = False
        for t in tss:
            self.free[
                max(0, (t - PROMOTER_CLEARANCE) // SLOT) : min(
                    self.n, (t + PROMOTER_CLEARANCE) // SLOT + 1
                )
            ] = False

    def take_near(self, pos: np.ndarray) -> int:
        """Take the first free slot among candidate positions (bp); -1 when none is free."""
        for p in pos:
            k = int(p) // SLOT
            if 0 <= k < self.n and self.free[k]:
                self.free[k] = False
                return k
        return -1


def _offsets(n: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Start offsets inside a slot leaving >= 200 bp on each side."""
    return rng.integers(200, SLOT - width - 200 + 1, n)


def place_elements(
    cfg: SimConfig, genes: pd.DataFrame, gaps: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Promoters, enhancers, decoys and CTCF sites; TAD boundaries; blacklist regions.

    Enhancers and decoys are drawn around each gene at log-uniform distances of 3 kb to
    ``0.95 * reach`` on either side (so all lie inside the gene's window).  CTCF sites mark
    domain boundaries (gamma-distributed domain sizes with mean ``tad_size``).

    Returns
    -------
    elements:
        ``element_id, chrom, start, end, kind, gene_id`` (kind: promoter, enhancer, decoy,
        ctcf; gene_id: the gene the element was placed for, '.' for CTCF sites).
    boundaries:
        ``chrom, pos`` of domain boundaries (bp).
    blacklist:
        ``chrom, start, end`` of blacklisted regions.
    """
    rows, brows, blrows = [], [], []
    w = cfg.element_width
    for chrom, size in cfg.chrom_sizes.items():
        gg = genes[genes.chrom == chrom]
        slots = _Slots(size, gaps[gaps.chrom == chrom], gg.tss.to_numpy())
        half = cfg.promoter_width // 2
        for gid, t in zip(gg.gene_id, gg.tss):
            rows.append((chrom, max(0, t - half), min(size, t + half), "promoter", gid))
        # domain boundaries with a CTCF site each
        pos = np.cumsum(rng.gamma(4.0, cfg.tad_size / 4.0, size // max(cfg.tad_size // 4, 1) + 2))
        for p in pos[pos < size - SLOT]:
            k = slots.take_near(p + np.array([0, 2_000, -2_000, 4_000, -4_000]))
            if k >= 0:
                s = k * SLOT + int(_offsets(1, w, rng)[0])
                rows.append((chrom, s, s + w, "ctcf", "."))
                brows.append((chrom, s + w // 2))
        for kind, mean in (("enhancer", cfg.enhancers_per_gene), ("decoy", cfg.decoys_per_gene)):
            for gid, t in zip(gg.gene_id, gg.tss):
                # gamma-Poisson: some genes have many enhancers, some none besides one
                n = rng.poisson(mean * rng.gamma(1.5, 1 / 1.5)) + (1 if kind == "enhancer" else 0)
                for _ in range(n):
                    d = np.exp(
                        rng.uniform(np.log(PROMOTER_CLEARANCE + 500), np.log(0.95 * cfg.reach), 8)
                    )
                    cand = t + np.where(rng.random(8) < 0.5, -d, d)
                    k = slots.take_near(cand)
                    if k >= 0:
                        s = k * SLOT + int(_offsets(1, w, rng)[0])
                        rows.append((chrom, s, s + w, kind, gid))
        # blacklist: runs of 4 free slots (8 kb), region of 2-6 kb inside
        f = slots.free
        runs = (
            np.flatnonzero(f[:-3] & f[1:-2] & f[2:-1] & f[3:]) if len(f) > 4 else np.array([], int)
        )
        if len(runs):
            for k in np.sort(
                rng.choice(runs, size=min(cfg.blacklist_per_chrom, len(runs)), replace=False)
            ):
                if f[k : k + 4].all():
                    f[k : k + 4] = False
                    s = k * SLOT + 1_000
                    blrows.append((chrom, s, s + int(rng.integers(2_000, 6_001))))
    el = pd.DataFrame(rows, columns=["chrom", "start", "end", "kind", "gene_id"])
    order = {c: i for i, c in enumerate(cfg.chrom_sizes)}
    el = el.sort_values(["chrom", "start"], key=lambda s: s.map(order) if s.name == "chrom" else s)
    el = el.reset_index(drop=True)
    el.insert(0, "element_id", [f"{k[:3].upper()}{i + 1:06d}" for i, k in enumerate(el.kind)])
    return (
        el,
        pd.DataFrame(brows, columns=["chrom", "pos"]),
        pd.DataFrame(blrows, columns=["chrom", "start", "end"]),
    )
