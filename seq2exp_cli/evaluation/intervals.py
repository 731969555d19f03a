"""Interval algebra and overlap metrics at base-pair and interval level, and AUPRC.

An *interval set* is a ``dict`` chromosome -> ``np.ndarray`` of shape (n, 2), int64,
rows ``[start, end)`` (0-based half-open, bp), sorted, disjoint and non-touching
(touching intervals are merged).  Every operation is vectorised over intervals: the cost
grows with the number of intervals, never with the number of bp.

Scored intervals (a learned mask, peaks with a signal value, a bigWig as runs) are
``dict`` chromosome -> ``(starts, ends, scores)``; they may overlap, and a bp covered by
several takes the maximum score.  A bp covered by none scores 0.

Average precision follows sklearn's ``average_precision_score``:
``AP = sum_n (R_n - R_{n-1}) * P_n`` over the distinct score thresholds in decreasing
order (ties form one threshold), with optional sample weights (here: bp counts).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

IntervalSet = dict[str, np.ndarray]
ScoredIntervals = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]

_EMPTY = np.zeros((0, 2), dtype=np.int64)


# --------------------------------------------------------------------------- algebra
def merge(starts, ends) -> np.ndarray:
    """Merge overlapping or touching intervals.

    Parameters
    ----------
    starts, ends:
        Interval bounds (bp, 0-based half-open), any order; empty intervals are dropped.

    Returns
    -------
    np.ndarray, shape (n, 2), int64
        Sorted, disjoint, non-touching intervals.
    """
    s = np.asarray(starts, dtype=np.int64).ravel()
    e = np.asarray(ends, dtype=np.int64).ravel()
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return _EMPTY.copy()
    order = np.lexsort((e, s))
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.concatenate([[True], s[1:] > reach[:-1]])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:] - 1, [s.size - 1]])
    return np.stack([s[first], reach[last]], axis=1)


def from_frame(df: pd.DataFrame) -> IntervalSet:
    """Interval set from a table with ``chrom, start, end`` columns (merged per chrom)."""
    out: IntervalSet = {}
    if df is None or len(df) == 0:
        return out
    for chrom, sub in df.groupby("chrom", sort=False):
        iv = merge(sub["start"].to_numpy(), sub["end"].to_numpy())
        if len(iv):
            out[str(chrom)] = iv
    return out


def _covered_at(iv: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether each position ``x`` (bp) lies inside the disjoint sorted set ``iv``."""
    if len(iv) == 0:
        return np.zeros(len(x), dtype=bool)
    k = np.searchsorted(iv[:, 0], x, side="right") - 1
    return (k >= 0) & (x < iv[np.maximum(k, 0), 1])


def _combine(a: np.ndarray, b: np.ndarray, op) -> np.ndarray:
    pts = np.unique(np.concatenate([a.ravel(), b.ravel()]))
    if pts.size < 2:
        return _EMPTY.copy()
    left, right = pts[:-1], pts[1:]
    keep = op(_covered_at(a, left), _covered_at(b, left))
    return merge(left[keep], right[keep])


def _apply(a: IntervalSet, b: IntervalSet, op, chroms) -> IntervalSet:
    out: IntervalSet = {}
    for c in chroms:
        iv = _combine(a.get(c, _EMPTY), b.get(c, _EMPTY), op)
        if len(iv):
            out[c] = iv
    return out


def union(a: IntervalSet, b: IntervalSet) -> IntervalSet:
    """Bases in ``a`` or ``b``."""
    return _apply(a, b, np.logical_or, list(dict.fromkeys([*a, *b])))


def intersect(a: IntervalSet, b: IntervalSet) -> IntervalSet:
    """Bases in both ``a`` and ``b``."""
    return _apply(a, b, np.logical_and, [c for c in a if c in b])


def subtract(a: IntervalSet, b: IntervalSet) -> IntervalSet:
    """Bases in ``a`` and not in ``b``."""
    return _apply(a, b, lambda x, y: x & ~y, list(a))


def total_bp(a: IntervalSet) -> int:
    """Return the number of bp covered by the set."""
    return int(sum(int((iv[:, 1] - iv[:, 0]).sum()) for iv in a.values()))


def covered_bp(a: IntervalSet, chrom: str, starts, ends) -> np.ndarray:
    """Bp of the set inside each query ``[starts[i], ends[i])`` on ``chrom``, shape (n,).

    Uses the cumulative covered length, so it costs O(n log m) for m set intervals.
    """
    s = np.asarray(starts, dtype=np.int64)
    e = np.asarray(ends, dtype=np.int64)
    iv = a.get(chrom, _EMPTY)
    if len(iv) == 0:
        return np.zeros(s.shape, dtype=np.int64)
    cum = np.concatenate([[0], np.cumsum(iv[:, 1] - iv[:, 0])])

    def upto(x):  # covered bp in [0, x)
        k = np.searchsorted(iv[:, 0], x, side="right")
        prev = np.maximum(k - 1, 0)
        part = np.clip(x - iv[prev, 0], 0, iv[prev, 1] - iv[prev, 0])
        return cum[np.maximum(k - 1, 0)] + np.where(k > 0, part, 0)

    return np.maximum(upto(e) - upto(s), 0)


def overlaps_any(chroms, starts, ends, b: IntervalSet) -> np.ndarray:
    """Whether each interval ``[starts[i], ends[i])`` shares at least 1 bp with ``b``.

    Returns
    -------
    np.ndarray, shape (n,), bool
    """
    chroms = np.asarray(chroms, dtype=object)
    s = np.asarray(starts, dtype=np.int64)
    e = np.asarray(ends, dtype=np.int64)
    out = np.zeros(len(s), dtype=bool)
    for c in pd.unique(chroms):
        iv = b.get(str(c))
        if iv is None or len(iv) == 0:
            continue
        sel = np.flatnonzero(chroms == c)
        k = np.searchsorted(iv[:, 1], s[sel], side="right")  # first interval ending after s
        ok = k < len(iv)
        hit = np.zeros(sel.size, dtype=bool)
        hit[ok] = iv[k[ok], 0] < e[sel][ok]
        out[sel] = hit & (e[sel] > s[sel])
    return out


# --------------------------------------------------------------------------- metrics
def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def bp_overlap(a: IntervalSet, b: IntervalSet) -> dict[str, float]:
    """Bp-level overlap of two sets.

    ``jaccard`` (|A∩B| / |A∪B|), ``frac_a_in_b`` (|A∩B| / |A|) and ``frac_b_in_a`` (|A∩B| /
    |B|).
    """
    inter = total_bp(intersect(a, b))
    na, nb = total_bp(a), total_bp(b)
    return {"jaccard": _ratio(inter, na + nb - inter), "frac_a_in_b": _ratio(inter, na),
            "frac_b_in_a": _ratio(inter, nb)}


def bp_prf(called: IntervalSet, truth: IntervalSet) -> dict[str, float]:
    """Bp-level ``precision`` (|C∩T| / |C|), ``recall`` (|C∩T| / |T|) and ``f1``."""
    tp = total_bp(intersect(called, truth))
    p, r = _ratio(tp, total_bp(called)), _ratio(tp, total_bp(truth))
    f1 = 2 * p * r / (p + r) if (p + r) > 0 else (0.0 if np.isfinite(p + r) else float("nan"))
    return {"precision": p, "recall": r, "f1": f1}


def fraction_overlapping(df: pd.DataFrame, b: IntervalSet) -> float:
    """Fraction of the intervals (rows ``chrom, start, end``) overlapping ``b`` by >= 1 bp.

    NaN for an empty table.
    """
    if df is None or len(df) == 0:
        return float("nan")
    hit = overlaps_any(df["chrom"].to_numpy(), df["start"].to_numpy(), df["end"].to_numpy(), b)
    return float(hit.mean())


def restrict(df: pd.DataFrame, universe: IntervalSet) -> pd.DataFrame:
    """Rows of ``df`` overlapping the universe by >= 1 bp (coordinates unchanged)."""
    if df is None or len(df) == 0:
        return df
    hit = overlaps_any(df["chrom"].to_numpy(), df["start"].to_numpy(), df["end"].to_numpy(),
                       universe)
    return df[hit].reset_index(drop=True)


# --------------------------------------------------------------------------- scores per bp
def scored_from_frame(df: pd.DataFrame, score_col: str) -> ScoredIntervals:
    """Scored intervals from a table with ``chrom, start, end`` and ``score_col``."""
    out: ScoredIntervals = {}
    if df is None or len(df) == 0:
        return out
    for chrom, sub in df.groupby("chrom", sort=False):
        out[str(chrom)] = (sub["start"].to_numpy(np.int64), sub["end"].to_numpy(np.int64),
                           sub[score_col].to_numpy(np.float64))
    return out


def bp_scores(scored: ScoredIntervals, universe: IntervalSet, positives: IntervalSet
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bp scores and labels over the universe, run-length compressed.

    The universe is cut at every interval bound into elementary segments; each segment
    carries the maximum score of the scored intervals covering it (0 when none) and its
    label (inside ``positives``).

    Returns
    -------
    scores : np.ndarray, shape (k,), float64
    weights : np.ndarray, shape (k,), int64
        Segment lengths (bp); they sum to ``total_bp(universe)``.
    labels : np.ndarray, shape (k,), bool
    """
    out_s, out_w, out_y = [], [], []
    for chrom, uni in universe.items():
        ss, se, sv = scored.get(chrom, (np.zeros(0, np.int64),) * 2 + (np.zeros(0),))
        ss, se, sv = (np.asarray(ss, np.int64), np.asarray(se, np.int64),
                      np.asarray(sv, np.float64))
        pos = positives.get(chrom, _EMPTY)
        pts = np.unique(np.concatenate([uni.ravel(), pos.ravel(), ss, se]))
        left, width = pts[:-1], np.diff(pts)
        score = np.full(left.size, -np.inf)
        i0 = np.searchsorted(pts, ss)
        i1 = np.searchsorted(pts, se)
        n = np.maximum(i1 - i0, 0)
        if n.sum():
            # segment indices spanned by each scored interval, expanded without a loop
            rep = np.repeat(np.arange(ss.size), n)
            idx = i0[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n))
            np.maximum.at(score, idx, sv[rep])
        score[~np.isfinite(score)] = 0.0
        keep = _covered_at(uni, left)
        out_s.append(score[keep])
        out_w.append(width[keep])
        out_y.append(_covered_at(pos, left)[keep])
    if not out_s:
        return np.zeros(0), np.zeros(0, np.int64), np.zeros(0, bool)
    return np.concatenate(out_s), np.concatenate(out_w), np.concatenate(out_y)


def pr_curve(scores, labels, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at every distinct score threshold (decreasing).

    Parameters
    ----------
    scores : shape (n,)
    labels : shape (n,), bool (positive class = True)
    weights : shape (n,), optional sample weights (e.g. bp per segment)

    Returns
    -------
    precision, recall, thresholds : np.ndarray, shape (t,)
        At threshold ``thresholds[i]`` every sample with ``score >= thresholds[i]`` is
        called positive.  Empty arrays when there are no samples of positive weight.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=bool).ravel()
    w = np.ones(s.size) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    keep = w > 0
    s, y, w = s[keep], y[keep], w[keep]
    if s.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    uniq, inv = np.unique(-s, return_inverse=True)  # ascending -s = descending s
    tp = np.cumsum(np.bincount(inv, weights=w * y, minlength=uniq.size))
    fp = np.cumsum(np.bincount(inv, weights=w * ~y, minlength=uniq.size))
    precision = tp / (tp + fp)
    recall = tp / tp[-1] if tp[-1] > 0 else np.full(tp.size, np.nan)
    return precision, recall, -uniq


def average_precision(scores, labels, weights=None) -> float:
    """Average precision (area under the step-wise PR curve), as sklearn's ``average_precision_score``.

    Ties share one threshold; NaN without positives.
    """
    precision, recall, _ = pr_curve(scores, labels, weights)
    if precision.size == 0 or not np.isfinite(recall[-1]):
        return float("nan")
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def prevalence(labels, weights=None) -> float:
    """Weighted fraction of positives: the AUPRC of a random ranking."""
    y = np.asarray(labels, dtype=np.float64)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=np.float64)
    return _ratio(float((w * y).sum()), float(w.sum()))


def clip_scored(scored: ScoredIntervals, sizes: Mapping[str, int] | None) -> ScoredIntervals:
    """Clip scored intervals to ``[0, chrom size)`` (drop empty ones)."""
    out: ScoredIntervals = {}
    for c, (s, e, v) in scored.items():
        hi = sizes.get(c) if sizes else None
        s2 = np.maximum(s, 0)
        e2 = e if hi is None else np.minimum(e, hi)
        k = e2 > s2
        out[c] = (s2[k], e2[k], v[k])
    return out


# --------------------------------------------------------------------------- universe
def gene_windows(genes: pd.DataFrame, window: int,
                 sizes: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Each gene's window ``[tss - window // 2, tss + window - window // 2)`` clipped to ``[0, chrom size)`` (to ``[0, inf)`` for chromosomes absent from ``sizes``).

    Returns
    -------
    pd.DataFrame
        ``gene_id, chrom, start, end`` (bp, 0-based half-open), one row per gene.
    """
    tss = genes["tss"].to_numpy(np.int64)
    start = np.maximum(tss - window // 2, 0)
    end = tss + (window - window // 2)
    if sizes:
        hi = genes["chrom"].map(lambda c: sizes.get(str(c), np.iinfo(np.int64).max))
        end = np.minimum(end, hi.to_numpy(np.int64))
    return pd.DataFrame({"gene_id": genes["gene_id"].astype(str).to_numpy(),
                         "chrom": genes["chrom"].astype(str).to_numpy(),
                         "start": start, "end": end})


def promoter_set(genes: pd.DataFrame, flank: int = 1000,
                 truth: pd.DataFrame | None = None) -> IntervalSet:
    """Promoters to leave out of the universe.

    ``TSS ± flank`` bp of every gene, plus the truth table's intervals named ``promoter``
    when ``truth`` is given.
    """
    tss = genes["tss"].to_numpy(np.int64)
    parts = [pd.DataFrame({"chrom": genes["chrom"].astype(str).to_numpy(),
                           "start": np.maximum(tss - flank, 0), "end": tss + flank + 1})]
    if truth is not None and len(truth) and "name" in truth:
        parts.append(truth.loc[truth["name"] == "promoter", ["chrom", "start", "end"]])
    return from_frame(pd.concat(parts, ignore_index=True))


def window_slice(iv: np.ndarray, start: int, end: int) -> np.ndarray:
    """Return the intervals of a disjoint sorted (n, 2) array clipped to ``[start, end)`` (bp)."""
    if len(iv) == 0:
        return _EMPTY
    i0 = int(np.searchsorted(iv[:, 1], start, side="right"))
    i1 = int(np.searchsorted(iv[:, 0], end, side="left"))
    part = iv[i0:i1].copy()
    if len(part):
        part[0, 0] = max(part[0, 0], start)
        part[-1, 1] = min(part[-1, 1], end)
        part = part[part[:, 1] > part[:, 0]]
    return part
