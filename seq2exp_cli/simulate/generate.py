"""The generative model end to end: arrays and truth tables, no files.

:func:`generate` runs every step with its own random stream (``rng_for(seed, step)``), so
the same seed gives identical arrays, and changing one step leaves the others' draws alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .config import TEST_CHROMS, SimConfig
from .contacts import make_loops, sample_contacts
from .elements import plant_elements
from .expression import (
    FEATURES,
    ceilings,
    crispri_table,
    element_gene_pairs,
    expression,
    gene_features,
)
from .layout import place_elements, place_gaps, place_genes
from .motifs import load_motifs
from .sequence import N_CODE, load_markov, markov_sequence, plant_repeats, rng_for
from .signals import BinnedTrack, make_tracks, peak_heights, promoter_activity


@dataclass
class SimData:
    """Everything the simulator generates (in memory).

    Attributes
    ----------
    codes, masked: chrom -> base codes (uint8, 0..3, 4 = N) and soft-mask flags, per bp.
    gaps: ``chrom, start, end`` of N gaps.
    genes: ``gene_id, name, chrom, tss, strand, tx_start, tx_end`` + expression truth + the
        9 per-gene features + ``in_cage`` (False for the held-out genes).
    elements: promoters, enhancers, decoys, CTCF sites with ``activity``, ``dnase``,
        ``h3k27ac`` heights.
    motifs: planted motif instances (``chrom, start, end, strand, matrix_id, motif,
        element_id, sequence``).
    boundaries, loops, blacklist: domain boundaries, loops, blacklisted regions.
    dnase, h3k27ac: binned per-bp tracks.
    pixels: Hi-C counts at the finest resolution (``chrom1, start1, chrom2, start2, count``).
    crispri: element-gene table (ENCODE CRISPRi benchmark columns).
    summary: counts, noise ceiling, timings.
    """

    cfg: SimConfig
    seed: int
    codes: dict[str, np.ndarray]
    masked: dict[str, np.ndarray]
    gaps: pd.DataFrame
    genes: pd.DataFrame
    elements: pd.DataFrame
    motifs: pd.DataFrame
    boundaries: pd.DataFrame
    loops: pd.DataFrame
    blacklist: pd.DataFrame
    dnase: BinnedTrack
    h3k27ac: BinnedTrack
    pixels: pd.DataFrame
    crispri: pd.DataFrame
    summary: dict = field(default_factory=dict)


def _genome(cfg: SimConfig, gaps: pd.DataFrame, seed: int) -> tuple[dict, dict]:
    """Background Markov sequence with repeats, then N gaps, per chromosome."""
    rng = rng_for(seed, "sequence")
    trans = load_markov()
    total = cfg.genome_size
    allc = markov_sequence(total, rng, trans)
    allm = np.zeros(total, dtype=bool)
    plant_repeats(allc, allm, cfg.repeat_fraction, rng, trans)
    codes, masked, o = {}, {}, 0
    for chrom, size in cfg.chrom_sizes.items():
        codes[chrom], masked[chrom] = allc[o : o + size], allm[o : o + size]
        o += size
    for c, s, e in zip(gaps.chrom, gaps.start, gaps.end):
        codes[c][s:e] = N_CODE
        masked[c][s:e] = False
    return codes, masked


def generate(cfg: SimConfig, seed: int = 0, step: Callable[[str], None] | None = None) -> SimData:
    """Simulate one cell type.

    Parameters
    ----------
    cfg: the configuration (see :func:`~seq2exp_cli.simulate.config.make_config`).
    seed: master seed.
    step: called with a description before each stage (progress reporting).
    """
    step = step or (lambda _s: None)
    times: dict[str, float] = {}
    t0 = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        times[name] = round(now - t0, 3)
        t0 = now

    step("layout")
    rl = rng_for(seed, "layout")
    gaps = place_gaps(cfg, rl)
    genes = place_genes(cfg, gaps, rl)
    elements, boundaries, blacklist = place_elements(cfg, genes, gaps, rl)
    mark("layout")
    step("sequence")
    codes, masked = _genome(cfg, gaps, seed)
    mark("sequence")
    step("motifs")
    elements, motifs = plant_elements(
        codes,
        masked,
        elements,
        load_motifs(),
        load_markov(),
        rng_for(seed, "motifs"),
        cfg.motifs_per_enhancer,
    )
    mark("motifs")
    step("signals")
    rs = rng_for(seed, "signals")
    elements = peak_heights(elements, rs)
    dnase, ac = make_tracks(cfg.chrom_sizes, elements, blacklist, rs, cfg.signal_bin)
    mark("signals")
    step("contacts")
    rc = rng_for(seed, "contacts")
    loops = make_loops(boundaries, elements, genes, cfg.ep_loop_fraction, rc)
    pixels = sample_contacts(
        cfg.chrom_sizes,
        boundaries,
        loops,
        rc,
        cfg.hic_resolutions[0],
        cfg.gamma,
        cfg.insulation,
        cfg.loop_strength,
        cfg.hic_depth,
        cfg.hic_max_distance,
    )
    mark("contacts")
    step("expression")
    re = rng_for(seed, "expression")
    feats = gene_features(genes, re)
    pairs = element_gene_pairs(cfg, genes, elements, boundaries, loops)
    expr = expression(cfg, genes, elements, pairs, feats, re)
    genes = pd.concat([genes, expr, feats], axis=1)
    genes["promoter_activity"] = promoter_activity(dnase, ac, genes)
    n_out = max(1, int(round(cfg.heldout_fraction * len(genes))))
    held = re.choice(len(genes), size=min(n_out, len(genes)), replace=False)
    genes["in_cage"] = True
    genes.loc[genes.index[held], "in_cage"] = False
    crispri = crispri_table(pairs, genes, elements, expr, cfg.baseline, seed)
    mark("expression")

    ceil = ceilings(genes, genes)
    kinds = elements.kind.value_counts().to_dict()
    summary = {
        "seed": seed,
        "genome_bp": cfg.genome_size,
        "chromosomes": list(cfg.chrom_sizes),
        "test_chromosomes": list(TEST_CHROMS),
        "counts": {
            "genes": len(genes),
            "genes_in_cage": int(genes.in_cage.sum()),
            "genes_heldout": int((~genes.in_cage).sum()),
            **{f"{k}s": int(kinds.get(k, 0)) for k in ("promoter", "enhancer", "decoy", "ctcf")},
            "motif_instances": len(motifs),
            "loops": len(loops),
            "domain_boundaries": len(boundaries),
            "blacklist_regions": len(blacklist),
            "hic_pixels": len(pixels),
            "crispri_pairs": len(crispri),
            "crispri_regulated": int(crispri.Regulated.sum()),
        },
        "noise_ceiling": {"pearson_log10_all": ceil["all"], "pearson_log10_test": ceil["test"]},
        "soft_masked_fraction": float(np.mean(np.concatenate(list(masked.values())))),
        "n_fraction": float(np.mean(np.concatenate(list(codes.values())) == N_CODE)),
        "features": FEATURES + ["promoter_activity"],
        "seconds": times,
    }
    return SimData(
        cfg,
        seed,
        codes,
        masked,
        gaps,
        genes,
        elements,
        motifs,
        boundaries,
        loops,
        blacklist,
        dnase,
        ac,
        pixels,
        crispri,
        summary,
    )
