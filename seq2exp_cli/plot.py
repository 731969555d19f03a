"""Figures a user would rather see than read, written as PNG (matplotlib).

Figures are drawn on :class:`matplotlib.figure.Figure` objects, not through ``pyplot``:
nothing here changes the process's matplotlib backend (a notebook keeps its own).

- :func:`plot_locus`: a gene's window: signal tracks, Hi-C contact, the learned mask,
  called elements, and peaks / planted truth when given.
- :func:`plot_training_curve`: loss and validation metrics of a run.
- :func:`plot_pred_vs_measured`: predicted against measured expression.
- :func:`plot_pr_curves`: precision-recall curves of element or link rankings.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .io.atomic import atomic_path


def _figure(**kw):
    """Return a new figure that belongs to no pyplot state and no interactive backend."""
    from matplotlib.figure import Figure

    return Figure(**kw)


def _save(fig, out: str | os.PathLike) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=130, bbox_inches="tight")


def plot_locus(
    out: str | os.PathLike,
    chrom: str,
    start: int,
    tss: int,
    gene: str,
    signals: dict[str, np.ndarray],
    mask: np.ndarray | None = None,
    elements: pd.DataFrame | None = None,
    intervals: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Draw a locus.

    Parameters
    ----------
    out:
        PNG path (written atomically).
    chrom, start:
        Genome coordinates of the first bp of every per-bp array (genome orientation).
    tss, gene:
        The gene's TSS (bp) and label.
    signals:
        Track name -> per-bp values, shape=(L,); ``contact`` is drawn as a step line.
    mask:
        Learned mask per bp, shape=(L,), in [0, 1].
    elements:
        Called elements (chrom, start, end) drawn as boxes.
    intervals:
        Other interval sets to draw as rows of boxes, e.g. ``{"MACS3": peaks, "truth": t}``.
    """
    import matplotlib
    from matplotlib.patches import Rectangle

    rows = list(signals) + (["mask"] if mask is not None else [])
    boxes = {}
    if elements is not None:
        boxes["elements"] = elements
    boxes.update(intervals or {})
    n = len(rows) + (1 if boxes else 0)
    fig = _figure(figsize=(12, 1.3 * n + 0.6))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)
    axes = axes[:, 0]
    L = len(next(iter(signals.values()))) if signals else len(mask)
    x = (start + np.arange(L)) / 1e3
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(rows):
        ax = axes[i]
        y = mask if name == "mask" else signals[name]
        if name == "mask":
            ax.fill_between(x, 0, y, color="crimson", lw=0, step="mid")
            ax.set_ylim(0, 1)
        else:
            ax.fill_between(x, 0, y, color=colors[i % len(colors)], lw=0, step="mid")
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.axvline(tss / 1e3, color="k", lw=0.6, ls=":")
        ax.spines[["top", "right"]].set_visible(False)
    if boxes:
        ax = axes[-1]
        for j, (label, df) in enumerate(boxes.items()):
            sub = df[(df["chrom"] == chrom) & (df["end"] > start) & (df["start"] < start + L)]
            for s, e in zip(sub["start"], sub["end"]):
                ax.add_patch(Rectangle((s / 1e3, j - 0.35), (e - s) / 1e3, 0.7,
                                           color=colors[(j + 3) % len(colors)]))
        ax.set_yticks(range(len(boxes)), list(boxes))
        ax.set_ylim(-0.6, len(boxes) - 0.4)
        ax.axvline(tss / 1e3, color="k", lw=0.6, ls=":")
    axes[-1].set_xlabel(f"{chrom} position (kb)")
    axes[-1].set_xlim(x[0], x[-1])
    fig.suptitle(f"{gene}  {chrom}:{start + 1:,}-{start + L:,}", fontsize=11)
    _save(fig, out)


def plot_training_curve(run: str | os.PathLike, out: str | os.PathLike) -> None:
    """Training loss and validation MSE / Pearson of a run folder, against step."""
    run = Path(run)
    tr = pd.read_csv(run / "train_metrics.tsv", sep="\t")
    va = pd.read_csv(run / "val_metrics.tsv", sep="\t") if (run / "val_metrics.tsv").exists() else None
    fig = _figure(figsize=(11, 3.6))
    a1, a2 = fig.subplots(1, 2)
    a1.plot(tr["step"], tr["loss"], lw=0.8, label="train loss")
    if va is not None:
        a1.plot(va["step"], va["mse"], "o-", ms=3, label="val MSE")
        a2.plot(va["step"], va["pearson"], "o-", ms=3, color="C2", label="val Pearson")
        a2.set_ylabel("Pearson")
        a2.legend()
    a1.set_xlabel("step")
    a1.set_yscale("log")
    a1.legend()
    a2.set_xlabel("step")
    fig.suptitle(str(run))
    _save(fig, out)


def plot_pred_vs_measured(df: pd.DataFrame, out: str | os.PathLike, title: str = "") -> None:
    """Scatter of ``prediction`` against ``target`` (log10(1+x)), with the identity line."""
    from .training.metrics import regression_metrics

    d = df.dropna(subset=["prediction", "target"])
    m = regression_metrics(d["prediction"], d["target"])
    fig = _figure(figsize=(4.6, 4.4))
    ax = fig.subplots()
    ax.scatter(d["target"], d["prediction"], s=8, alpha=0.6)
    lo = float(min(d["target"].min(), d["prediction"].min())) if len(d) else 0.0
    hi = float(max(d["target"].max(), d["prediction"].max())) if len(d) else 1.0
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.7)
    ax.set_xlabel("measured log10(1 + CAGE)")
    ax.set_ylabel("predicted")
    ax.set_title(f"{title} n={m['n']}  r={m['pearson']:.3f}  MSE={m['mse']:.3f}", fontsize=9)
    _save(fig, out)


def plot_pr_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], out: str | os.PathLike,
                   title: str = "", baseline: float | None = None) -> None:
    """Step-wise precision–recall curves, one per method, as a PNG (atomic).

    Parameters
    ----------
    curves:
        Method -> ``(precision, recall)`` arrays at decreasing thresholds.
    baseline:
        Positive fraction, drawn as a dashed line (a random ranking).
    """
    fig = _figure(figsize=(5.0, 4.2))
    ax = fig.subplots()
    for label, (precision, recall) in curves.items():
        if len(precision) == 0 or not np.isfinite(recall).all():
            continue
        ap = float(np.sum(np.diff(recall, prepend=0.0) * precision))
        ax.step(np.r_[0.0, recall], np.r_[precision[0], precision], where="pre",
                label=f"{label} (AP {ap:.3f})")
    if baseline is not None and np.isfinite(baseline):
        ax.axhline(baseline, color="grey", ls="--", lw=0.8, label=f"random ({baseline:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    _save(fig, out)
