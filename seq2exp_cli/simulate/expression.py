"""Expression (CAGE) from promoter strength, enhancer activity and contact; CRISPRi truth.

ABC-like model, per gene ``g`` with TSS ``t_g``::

    S_g  = baseline + sum_e a_e * c(e, g)      over enhancers e with |center_e - t_g| <= reach
    mu_g = cage_scale * p_g * S_g * 10**(0.15 * h_g)

``p_g`` is the promoter strength (from its planted motifs), ``a_e`` the enhancer activity,
``c`` the contact of :func:`~seq2exp_cli.simulate.contacts.contact` and ``h_g`` an mRNA
stability score built from the simulated transcript features (half-life: the 8 features).
Observed CAGE counts are negative binomial (gamma-Poisson) with mean ``mu_g``.

Silencing element ``e`` (CRISPRi) removes its term, so the fractional change of expression is
``EffectSize = -a_e c(e, g) / S_g`` (negative = expression drops; decoys and CTCF sites: 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .config import SimConfig, TEST_CHROMS
from .contacts import contact
from ..io.targets import FEATURE_COLUMNS

#: the 8 half-life features (all of :data:`seq2exp_cli.io.targets.FEATURE_COLUMNS` but
#: the last, promoter activity)
FEATURES = list(FEATURE_COLUMNS[:8])
#: weights of the standardised features in the stability score h
_STABILITY = np.array([-0.3, 0.2, 0.25, -0.45, -0.2, 0.35, 0.3, -0.4])


def gene_features(genes: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The 8 mRNA half-life features (method.md): log10 lengths as z-scores (5'UTR, CDS,
    intron, 3'UTR), GC fractions (5'UTR, CDS, 3'UTR), ORF exon-junction density (per kb).

    Intron length follows the simulated gene-body length."""
    n = len(genes)
    body = (genes.tx_end - genes.tx_start).to_numpy()
    utr5 = rng.lognormal(np.log(150), 0.6, n)
    cds = rng.lognormal(np.log(1_300), 0.6, n)
    utr3 = rng.lognormal(np.log(900), 0.8, n)
    intron = np.maximum(body - utr5 - cds - utr3, 100.0) * rng.lognormal(0, 0.1, n)
    exons = np.maximum(1, np.round(rng.lognormal(np.log(8), 0.5, n) * (body / 25_000) ** 0.3))
    z = lambda x: (np.log10(x) - np.log10(x).mean()) / (np.log10(x).std() or 1.0)  # noqa: E731
    return pd.DataFrame(
        {
            "utr5_length": z(utr5),
            "cds_length": z(cds),
            "intron_length": z(intron),
            "utr3_length": z(utr3),
            "utr5_gc": np.clip(rng.normal(0.62, 0.06, n), 0.3, 0.85),
            "cds_gc": np.clip(rng.normal(0.52, 0.05, n), 0.3, 0.75),
            "utr3_gc": np.clip(rng.normal(0.44, 0.05, n), 0.25, 0.7),
            "orf_exon_junction_density": (exons - 1) / (cds / 1000.0),
        },
        index=genes.index,
    )


def stability(features: pd.DataFrame) -> np.ndarray:
    """Standardised linear stability score h (mean 0, sd 1 over genes)."""
    x = features[FEATURES].to_numpy(dtype=float)
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    h = x @ _STABILITY
    return (h - h.mean()) / (h.std() or 1.0)


def element_gene_pairs(
    cfg: SimConfig,
    genes: pd.DataFrame,
    elements: pd.DataFrame,
    boundaries: pd.DataFrame,
    loops: pd.DataFrame,
) -> pd.DataFrame:
    """All (enhancer | decoy | ctcf, gene) pairs within ``reach`` with their contact and
    contribution ``a_e * c(e, g)`` (0 unless an enhancer)."""
    ep = set(zip(loops.element_id, loops.gene_id))
    cand = elements[elements.kind.isin(["enhancer", "decoy", "ctcf"])]
    parts = []
    for chrom, e in cand.groupby("chrom", sort=False):
        g = genes[genes.chrom == chrom]
        if g.empty:
            continue
        ctr = ((e.start + e.end) // 2).to_numpy()
        t = g.tss.to_numpy()
        ei, gi = np.nonzero(np.abs(ctr[:, None] - t[None, :]) <= cfg.reach)
        bnd = np.sort(boundaries.pos[boundaries.chrom == chrom].to_numpy())
        eids, gids = e.element_id.to_numpy()[ei], g.gene_id.to_numpy()[gi]
        looped = np.array([(a, b) in ep for a, b in zip(eids, gids)], dtype=bool)
        c = contact(ctr[ei], t[gi], bnd, looped, cfg.gamma, cfg.insulation, cfg.loop_strength)
        kind = e.kind.to_numpy()[ei]
        a = np.where(kind == "enhancer", e.activity.to_numpy()[ei], 0.0)
        parts.append(
            pd.DataFrame(
                {
                    "element_id": eids,
                    "gene_id": gids,
                    "kind": kind,
                    "distance": ctr[ei] - t[gi],
                    "contact": c,
                    "looped": looped,
                    "activity": a,
                    "contribution": a * c,
                }
            )
        )
    cols = [
        "element_id",
        "gene_id",
        "kind",
        "distance",
        "contact",
        "looped",
        "activity",
        "contribution",
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def expression(
    cfg: SimConfig,
    genes: pd.DataFrame,
    elements: pd.DataFrame,
    pairs: pd.DataFrame,
    features: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Expected and observed CAGE per gene.

    Returns
    -------
    pd.DataFrame indexed like ``genes`` with ``promoter_strength, enhancer_sum, stability,
    expected_cage, observed_cage`` (counts).
    """
    prom = elements[elements.kind == "promoter"].set_index("gene_id").activity
    p = prom.reindex(genes.gene_id).fillna(0.0).to_numpy()
    s = pairs.groupby("gene_id")["contribution"].sum().reindex(genes.gene_id).fillna(0.0).to_numpy()
    h = stability(features)
    mu = cfg.cage_scale * p * (cfg.baseline + s) * 10 ** (0.15 * h)
    phi = cfg.nb_dispersion
    lam = rng.gamma(1.0 / phi, mu * phi)
    obs = rng.poisson(lam)
    return pd.DataFrame(
        {
            "promoter_strength": p,
            "enhancer_sum": s,
            "stability": h,
            "expected_cage": mu,
            "observed_cage": obs,
        },
        index=genes.index,
    )


def noise_ceiling(observed: np.ndarray, expected: np.ndarray) -> float:
    """Pearson r between log10(1 + observed) and log10(1 + expected) CAGE."""
    if len(observed) < 3:
        return float("nan")
    return float(np.corrcoef(np.log10(1 + observed), np.log10(1 + expected))[0, 1])


def ceilings(genes: pd.DataFrame, expr: pd.DataFrame) -> dict[str, float]:
    """Noise ceiling over all genes and over the test chromosomes."""
    test = genes.chrom.isin(TEST_CHROMS).to_numpy()
    o, e = expr.observed_cage.to_numpy(), expr.expected_cage.to_numpy()
    return {"all": noise_ceiling(o, e), "test": noise_ceiling(o[test], e[test])}


def crispri_table(
    pairs: pd.DataFrame,
    genes: pd.DataFrame,
    elements: pd.DataFrame,
    expr: pd.DataFrame,
    baseline: float,
    seed: int,
    se: float = 0.04,
) -> pd.DataFrame:
    """Element-gene pairs in the ENCODE CRISPRi benchmark layout.

    ``EffectSize`` is the true fractional change of expected expression when the element is
    silenced; ``pValueAdjusted`` comes from a z-test of it with standard error ``se``
    (Benjamini-Hochberg over the table); ``Regulated`` = significant and negative.
    """
    g = genes.set_index("gene_id")
    ssum = pd.Series(expr.enhancer_sum.to_numpy(), index=genes.gene_id.to_numpy())
    el = elements.set_index("element_id")
    eff = -pairs.contribution.to_numpy() / (baseline + ssum.reindex(pairs.gene_id).to_numpy()) + 0.0
    p = 2 * stats.norm.sf(np.abs(eff) / se)
    padj = stats.false_discovery_control(p) if len(p) else p
    gg = g.reindex(pairs.gene_id)
    ee = el.reindex(pairs.element_id)
    out = pd.DataFrame(
        {
            "chrom": ee.chrom.to_numpy(),
            "chromStart": ee.start.to_numpy(),
            "chromEnd": ee.end.to_numpy(),
            "name": [
                f"{n}|{c}:{s}-{e}:{i}"
                for n, c, s, e, i in zip(gg.name, ee.chrom, ee.start, ee.end, pairs.element_id)
            ],
            "EffectSize": np.round(eff, 6),
            "chrTSS": gg.chrom.to_numpy(),
            "startTSS": gg.tss.to_numpy(),
            "endTSS": gg.tss.to_numpy() + 1,
            "measuredGeneSymbol": gg.name.to_numpy(),
            "measuredGeneEnsemblId": pairs.gene_id.to_numpy(),
            "Significant": padj < 0.05,
            "pValueAdjusted": padj,
            "PowerAtEffectSize25": np.round(stats.norm.sf(1.96 - 0.25 / se), 4),
            "ValidConnection": True,
            "CellType": "SIM",
            "Reference": f"seq2exp-simulate-seed{seed}",
            "Regulated": (padj < 0.05) & (eff < 0),
            "elementId": pairs.element_id.to_numpy(),
            "elementKind": pairs.kind.to_numpy(),
            "distanceToTSS": pairs.distance.to_numpy(),
            "contact": np.round(pairs.contact.to_numpy(), 6),
            "looped": pairs.looped.to_numpy(),
            "activity": np.round(pairs.activity.to_numpy(), 6),
        }
    )
    order = {c: i for i, c in enumerate(dict.fromkeys(genes.chrom))}
    key = out.chrom.map(order)
    return (
        out.assign(_k=key)
        .sort_values(["_k", "chromStart", "startTSS"], kind="stable")
        .drop(columns="_k")
        .reset_index(drop=True)
    )
