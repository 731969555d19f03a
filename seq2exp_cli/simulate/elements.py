"""Element sequences: plant real motif instances, derive activity from them.

Every element's span is redrawn from the Markov background (upper case, unmasked), then:

* enhancers get 1-5 activating motif instances; activity = sum of the motifs' weights times a
  log-normal factor (sigma 0.25): activity is written in the sequence;
* promoters get 0-4 promoter motifs (15 % none: nearly silent genes); strength = summed
  weights (0.1 without motifs) times a log-normal factor (sigma 0.3);
* CTCF sites get one CTCF instance;
* decoys get none, and are redrawn until no activating motif scores >= 75 % of its maximum
  (so a decoy carries no accidental strong activating site).

Motif instances are sampled from sharpened matrices (high-affinity sites).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .motifs import Motif, best_scores, max_score, reverse_complement, sample_instances
from .sequence import markov_sequence

#: decoys carry no activating site scoring above this fraction of the motif's maximum
DECOY_MAX_SCORE = 0.75


def _plant(
    codes: np.ndarray,
    start: int,
    width: int,
    motifs: list[Motif],
    k: int,
    el_id: str,
    chrom: str,
    rng: np.random.Generator,
    out: list,
) -> float:
    """Plant ``k`` instances of randomly chosen ``motifs`` into ``codes[start:start+width]``
    in ``k`` equal sub-slots; append truth rows to ``out``; return the summed weights."""
    total = 0.0
    if k == 0:
        return total
    sub = width // k
    for j in range(k):
        m = motifs[int(rng.integers(len(motifs)))]
        site = sample_instances(m, 1, rng)[0]
        strand = "+" if rng.random() < 0.5 else "-"
        if strand == "-":
            site = reverse_complement(site)
        s = start + j * sub + int(rng.integers(0, max(1, sub - m.width)))
        codes[s : s + m.width] = site
        total += m.weight
        out.append(
            (
                chrom,
                s,
                s + m.width,
                strand,
                m.matrix_id,
                m.name,
                el_id,
                "".join("ACGT"[b] for b in site),
            )
        )
    return total


def strong_site(
    seqs: np.ndarray, activators: list[Motif], frac: float = DECOY_MAX_SCORE
) -> np.ndarray:
    """Per row of ``seqs`` (n, length): whether any activator scores >= ``frac`` of its
    maximum log-odds on either strand."""
    hit = np.zeros(len(seqs), dtype=bool)
    for m in activators:
        hit |= best_scores(seqs, m) >= frac * max_score(m)
    return hit


def clean_background(
    n: int,
    width: int,
    activators: list[Motif],
    trans: np.ndarray,
    rng: np.random.Generator,
    rounds: int = 12,
) -> np.ndarray:
    """``n`` Markov sequences of ``width`` bp without a strong activating site, shape (n, width).

    Rows with a strong site are redrawn (batched) up to ``rounds`` times; the few that still
    have one get it scrambled by redrawing the whole row's bases uniformly (rare).
    """
    seqs = markov_sequence(n * width, rng, trans).reshape(n, width)
    bad = strong_site(seqs, activators)
    for _ in range(rounds):
        if not bad.any():
            break
        idx = np.flatnonzero(bad)
        seqs[idx] = markov_sequence(len(idx) * width, rng, trans).reshape(len(idx), width)
        bad[idx] = strong_site(seqs[idx], activators)
    return seqs


def plant_elements(
    codes: dict[str, np.ndarray],
    masked: dict[str, np.ndarray],
    elements: pd.DataFrame,
    motifs: list[Motif],
    trans: np.ndarray,
    rng: np.random.Generator,
    motifs_per_enhancer: tuple[int, int] = (1, 5),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write element sequences into the genome (in place) and compute their activities.

    Parameters
    ----------
    codes, masked:
        Per chromosome, base codes and soft-mask flags (modified in place).
    elements:
        Output of :func:`~seq2exp_cli.simulate.layout.place_elements`.

    Returns
    -------
    elements:
        A copy with ``n_motifs`` and ``activity`` (enhancers: activity; promoters: strength;
        others 0) added.
    planted:
        One row per motif instance: ``chrom, start, end, strand, matrix_id, motif,
        element_id, sequence`` (sequence as read on the forward strand, upper case).
    """
    act = [m for m in motifs if m.role == "activator"]
    prom = [m for m in motifs if m.role == "promoter"]
    ctcf = [m for m in motifs if m.role == "insulator"]
    el = elements.copy()
    widths = (el.end - el.start).to_numpy()
    fresh = markov_sequence(int(widths.sum()), rng, trans)
    offs = np.concatenate([[0], np.cumsum(widths)])
    dec = np.flatnonzero((el.kind == "decoy").to_numpy())
    if len(dec):
        w0 = int(widths[dec[0]])
        clean = clean_background(len(dec), w0, act, trans, rng)
        for j, i in enumerate(dec):
            fresh[offs[i] : offs[i + 1]] = clean[j, : widths[i]]
    out: list = []
    activity = np.zeros(len(el))
    n_motifs = np.zeros(len(el), dtype=np.int64)
    lo, hi = motifs_per_enhancer
    for i, r in enumerate(el.itertuples(index=False)):
        c = codes[r.chrom]
        seq = fresh[offs[i] : offs[i + 1]]
        c[r.start : r.end] = seq
        masked[r.chrom][r.start : r.end] = False
        w = r.end - r.start
        if r.kind == "enhancer":
            k = int(rng.integers(lo, hi + 1))
            activity[i] = _plant(c, r.start, w, act, k, r.element_id, r.chrom, rng, out)
            activity[i] *= rng.lognormal(0.0, 0.35)
        elif r.kind == "promoter":
            k = int(rng.choice([0, 1, 2, 3, 4], p=[0.15, 0.25, 0.25, 0.2, 0.15]))
            core = _plant(c, r.start, w, prom, k, r.element_id, r.chrom, rng, out)
            activity[i] = (core if k else 0.1) * rng.lognormal(0.0, 0.3)
        elif r.kind == "ctcf":
            k = 1
            _plant(c, r.start + w // 2 - 20, 40, ctcf, 1, r.element_id, r.chrom, rng, out)
        else:
            k = 0
        n_motifs[i] = k
    el["n_motifs"] = n_motifs
    el["activity"] = activity
    planted = pd.DataFrame(
        out,
        columns=["chrom", "start", "end", "strand", "matrix_id", "motif", "element_id", "sequence"],
    )
    return el, planted
