"""Regression metrics between predictions and measured targets (log10(1+x) units)."""

from __future__ import annotations

import numpy as np


def _clean(pred, target) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(target, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"pred {p.shape} and target {t.shape} differ in shape")
    keep = np.isfinite(p) & np.isfinite(t)
    return p[keep], t[keep]


def pearson(pred, target) -> float:
    """Pearson correlation; NaN when fewer than 2 values or a constant input."""
    p, t = _clean(pred, target)
    if len(p) < 2 or p.std() == 0 or t.std() == 0:
        return float("nan")
    return float(np.corrcoef(p, t)[0, 1])


def _rank(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank), 1-based."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    xs = x[order]
    # average ties
    bounds = np.flatnonzero(np.diff(xs)) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, len(x)]
    for s, e in zip(starts, ends):
        if e - s > 1:
            ranks[order[s:e]] = (s + 1 + e) / 2.0
    return ranks


def spearman(pred, target) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    p, t = _clean(pred, target)
    if len(p) < 2:
        return float("nan")
    return pearson(_rank(p), _rank(t))


def regression_metrics(pred, target) -> dict[str, float]:
    """``n, mse, mae, pearson, spearman, r2`` of ``pred`` against ``target``."""
    p, t = _clean(pred, target)
    n = len(p)
    if n == 0:
        return {"n": 0, "mse": float("nan"), "mae": float("nan"), "pearson": float("nan"),
                "spearman": float("nan"), "r2": float("nan")}
    err = p - t
    ss_tot = float(((t - t.mean()) ** 2).sum())
    return {
        "n": n,
        "mse": float((err**2).mean()),
        "mae": float(np.abs(err).mean()),
        "pearson": pearson(p, t),
        "spearman": spearman(p, t),
        "r2": float(1 - (err**2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
    }
