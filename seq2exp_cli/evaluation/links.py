"""Enhancer–gene link ranking against a CRISPRi benchmark (AUPRC).

The benchmark table (ENCODE CRISPRi layout, read by :func:`seq2exp_cli.io.crispri.read_crispri`)
has one row per tested (element, gene) pair; positives are ``Regulated == True``.

Scores ranked (higher = more likely a link):

``seq2exp``
    the largest ``mean_mask`` among the gene's own learned elements (``gene_id``
    column, comma-separated lists allowed) overlapping the tested element by >= 1 bp;
    0 when none.  Elements without ``gene_id`` count for every gene.  With a mask bigWig
    instead of elements: the mean mask over the element (not gene-specific).
``ABC``
    ``A·C / Σ A·C`` over the gene's tested elements (the candidate set of the table).
    ``A`` and ``C`` are the table's ``activity`` and ``contact`` columns when present;
    otherwise ``A = sqrt(mean DNase × mean H3K27ac)`` over the element (mean DNase alone
    without H3K27ac) and ``C = exp(5.96 − 1.024 · ln(d + 1))``, the ABC power law, with
    ``d = max(|element midpoint − TSS|, 5 kb)``.
``distance``
    ``−|distanceToTSS|`` (element midpoint − TSS when the column is absent).

AUPRC is reported for all pairs and by |distance| bin (EPInformer's: 0–25, 25–60,
60–100 kb; a bin includes its lower bound).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..contacts import abc_powerlaw
from .intervals import average_precision, pr_curve, prevalence

#: |distance| bins (bp): label -> [lo, hi).
DISTANCE_BINS: dict[str, tuple[int, int]] = {
    "0-25kb": (0, 25_000), "25-60kb": (25_000, 60_000), "60-100kb": (60_000, 100_001),
}
def learned_link_score(pairs: pd.DataFrame, elements: pd.DataFrame,
                       score_col: str = "mean_mask") -> np.ndarray:
    """Max ``score_col`` of the gene's elements overlapping each pair's element (0 if none).

    Returns
    -------
    np.ndarray, shape (len(pairs),), float64
    """
    out = np.zeros(len(pairs))
    if elements is None or len(elements) == 0 or len(pairs) == 0:
        return out
    el = elements[["chrom", "start", "end", score_col]].copy()
    if "gene_id" in elements:
        el["gene_id"] = elements["gene_id"].astype(str).str.split(",")
        el = el.explode("gene_id")
        key = ["chrom", "gene_id"]
    else:
        key = ["chrom"]
    p = pairs[["chrom", "start", "end", "gene_id"]].reset_index(drop=True)
    p["pair"] = np.arange(len(p))
    m = p.merge(el, on=key, suffixes=("", "_el"))
    m = m[(m["start_el"] < m["end"]) & (m["end_el"] > m["start"])]
    best = m.groupby("pair")[score_col].max()
    out[best.index.to_numpy()] = best.to_numpy(np.float64)
    return out


def track_means(track, pairs: pd.DataFrame) -> np.ndarray:
    """Mean bigWig value over each pair's element, shape (len(pairs),)."""
    return np.array([float(np.mean(track.fetch(c, s, e))) if e > s else 0.0
                     for c, s, e in zip(pairs["chrom"], pairs["start"], pairs["end"])])


def abc_score(pairs: pd.DataFrame, dnase=None, h3k27ac=None) -> np.ndarray | None:
    """ABC score per pair (see the module docstring).

    ``None`` when neither the table's ``activity`` column nor a DNase track is available.
    """
    if "activity" in pairs:
        act = pairs["activity"].to_numpy(np.float64)
    elif dnase is not None:
        act = track_means(dnase, pairs)
        if h3k27ac is not None:
            act = np.sqrt(act * track_means(h3k27ac, pairs))
    else:
        return None
    con = (pairs["contact"].to_numpy(np.float64) if "contact" in pairs
           else abc_powerlaw(pairs["distance"].to_numpy()))
    ac = np.clip(act, 0, None) * np.clip(con, 0, None)
    total = pd.Series(ac).groupby(pairs["gene_id"].to_numpy()).transform("sum").to_numpy()
    return np.divide(ac, total, out=np.zeros_like(ac), where=total > 0)


def link_auprc(pairs: pd.DataFrame, scores: dict[str, np.ndarray]
               ) -> tuple[list[tuple[str, str, str, float]], dict[str, tuple]]:
    """AUPRC of every score, overall (scope ``all``) and per distance bin.

    Returns
    -------
    rows : list of (method, metric, scope, value)
        Metrics ``auprc`` per method, plus ``n_pairs``, ``n_positive`` and ``auprc`` of
        method ``random`` (the positive fraction) per scope.
    curves : dict method -> (precision, recall)
        Over all pairs, for plotting.
    """
    y = pairs["regulated"].to_numpy(bool)
    dist = np.abs(pairs["distance"].to_numpy(np.int64))
    scopes = {"all": np.ones(len(pairs), dtype=bool)}
    for label, (lo, hi) in DISTANCE_BINS.items():
        scopes[label] = (dist >= lo) & (dist < hi)
    rows = []
    for scope, sel in scopes.items():
        rows.append(("pairs", "n_pairs", scope, float(sel.sum())))
        rows.append(("pairs", "n_positive", scope, float(y[sel].sum())))
        for method, s in scores.items():
            rows.append((method, "auprc", scope, average_precision(s[sel], y[sel])))
        rows.append(("random", "auprc", scope, prevalence(y[sel])))
    curves = {m: pr_curve(s, y)[:2] for m, s in scores.items()}
    return rows, curves
