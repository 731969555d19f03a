"""Figures a user would rather see than read: PNG, or SVG / PDF by the file's extension.

Figures are drawn on :class:`matplotlib.figure.Figure` objects, not through ``pyplot``:
nothing here changes the process's matplotlib backend (a notebook keeps its own).  Every
name has one colour in every figure (:data:`COLORS`, :func:`color_of`: DNase is the same
blue in the locus plot and in the PR curves, enhancers the same purple everywhere).

- :func:`plot_locus`: a gene's window: signal tracks, Hi-C contact, the learned mask,
  called elements, peaks / planted truth by class, gene models and the learned links.
- :func:`plot_training_curve`: loss and validation metrics of a run.
- :func:`plot_pred_vs_measured`: predicted against measured expression, by split.
- :func:`plot_pr_curves`: precision-recall curves of element or link rankings.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .colors import COLORS, TRUTH_KINDS, color_of, display_name
from .errors import Seq2ExpError
from .io.atomic import atomic_path

__all__ = ["COLORS", "color_of", "display_name", "plot_locus", "plot_pr_curves",
           "plot_pred_vs_measured", "plot_training_curve"]

#: figure formats by file extension
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

def _figure(**kw):
    """Return a new figure that belongs to no pyplot state and no interactive backend."""
    from matplotlib.figure import Figure

    return Figure(**kw)


def figure_format(out: str | os.PathLike) -> str:
    """Return the format of ``out`` from its extension (png, svg or pdf).

    Raises
    ------
    Seq2ExpError
        Another extension.
    """
    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise Seq2ExpError(f"{out}: unknown figure format '{Path(out).suffix}'; end the name "
                           "with .png, .svg or .pdf")
    return fmt


def _save(fig, out: str | os.PathLike) -> None:
    fmt = figure_format(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight")


def _blacklist_bp(blacklist: pd.DataFrame | None, chrom: str, lo: int, hi: int) -> np.ndarray:
    """Per-bp bool over ``[lo, hi)``: True inside a blacklisted interval."""
    bl = np.zeros(hi - lo, dtype=bool)
    if blacklist is None or not len(blacklist):
        return bl
    sub = blacklist[(blacklist["chrom"] == chrom) & (blacklist["end"] > lo)
                    & (blacklist["start"] < hi)]
    for s, e in zip(sub["start"], sub["end"]):
        bl[max(int(s), lo) - lo: min(int(e), hi) - lo] = True
    return bl


def _dilate(mask: np.ndarray, bp: int) -> np.ndarray:
    """``mask`` grown by ``bp`` on each side (a bigWig run may straddle a blacklist edge)."""
    if not mask.any() or bp <= 0:
        return mask
    c = np.cumsum(np.r_[0, mask.astype(np.int64)])
    i = np.arange(mask.size)
    return (c[np.minimum(i + bp + 1, mask.size)] - c[np.maximum(i - bp, 0)]) > 0


def _ymax(y: np.ndarray, excluded: np.ndarray) -> float:
    """Return the top of a track's y axis: the largest value outside ``excluded``, + 10 %."""
    keep = y[~excluded] if excluded.any() and (~excluded).any() else y
    top = float(np.nanmax(keep)) if keep.size else 1.0
    return top * 1.1 if top > 0 else 1.0


def _pack(starts: np.ndarray, ends: np.ndarray, gap: float) -> list[int]:
    """Rows for intervals so that none overlaps another in its row (greedy, by start)."""
    order = np.argsort(starts, kind="stable")
    row_end: list[float] = []
    rows = [0] * len(starts)
    for i in order:
        for r, last in enumerate(row_end):
            if starts[i] >= last + gap:
                rows[i], row_end[r] = r, ends[i]
                break
        else:
            rows[i] = len(row_end)
            row_end.append(ends[i])
    return rows


def _draw_genes(ax, genes: pd.DataFrame, lo: int, hi: int, focus: str | None) -> int:
    """Gene models (exons as boxes, introns as lines with strand chevrons, names); rows used."""
    from matplotlib.patches import Rectangle

    if genes is None or not len(genes):
        ax.text(0.5, 0.5, "no gene in this window", transform=ax.transAxes, ha="center",
                va="center", fontsize=8, color="0.4")
        return 1
    span = hi - lo
    label_bp = span * 0.09  # room for a name
    s = np.maximum(genes["start"].to_numpy(), lo) / 1e3
    e = np.minimum(genes["end"].to_numpy(), hi) / 1e3
    rows = _pack(s, np.maximum(e, s + label_bp / 1e3), span * 0.01 / 1e3)
    col = COLORS["gene"]
    for r, (_, g) in zip(rows, genes.iterrows()):
        y = -r
        bold = focus is not None and focus in (str(g["gene_id"]), str(g["name"]))
        c = "black" if bold else col
        plus = g["strand"] == "+"
        tss = (g["start"] if plus else g["end"] - 1) / 1e3
        if g["has_body"]:
            a, b = max(g["start"], lo) / 1e3, min(g["end"], hi) / 1e3
            ax.plot([a, b], [y, y], color=c, lw=1.0, solid_capstyle="butt")
            for es, ee in g["exons"]:
                es, ee = max(es, lo), min(ee, hi)
                if ee > es:
                    ax.add_patch(Rectangle((es / 1e3, y - 0.18), (ee - es) / 1e3, 0.36, color=c,
                                           lw=0))
            # strand chevrons along the gene body
            n = int(max(1, (b - a) / (span / 1e3) * 25))
            xs = np.linspace(a, b, n + 2)[1:-1]
            on_exon = np.zeros(xs.size, dtype=bool)
            for es, ee in g["exons"]:
                on_exon |= (xs * 1e3 >= es) & (xs * 1e3 < ee)
            ax.scatter(xs, np.full_like(xs, y), marker=">" if plus else "<", s=9, lw=0,
                       zorder=3, color=np.where(on_exon, "white", c).tolist())
        # the TSS: a bent arrow in the direction of transcription
        if lo <= (g["start"] if plus else g["end"] - 1) < hi:
            d = (span / 1e3) * 0.025 * (1 if plus else -1)
            ax.plot([tss, tss], [y, y + 0.42], color=c, lw=1.2)
            ax.annotate("", xy=(tss + d, y + 0.42), xytext=(tss, y + 0.42),
                        arrowprops=dict(arrowstyle="-|>", color=c, lw=1.2, shrinkA=0, shrinkB=0,
                                        mutation_scale=7))
        name = str(g["name"]) + (" (+)" if plus else " (−)")
        ax.text(max(min(tss, hi / 1e3), lo / 1e3), y - 0.3, name, ha="center", va="top",
                fontsize=7, color=c, fontweight="bold" if bold else "normal", clip_on=True)
    n_rows = max(rows) + 1
    ax.set_ylim(-n_rows + 0.25, 0.75)
    return n_rows


def _draw_links(ax, links: pd.DataFrame, tss: int, lo: int, hi: int) -> None:
    """Arcs from the TSS to each linked element; line width and height by the link's Score."""
    from matplotlib.patches import Arc

    top = float(links["Score"].max()) if len(links) else 1.0
    for _, r in links.iterrows():
        mid = (int(r["start"]) + int(r["end"])) / 2
        if not lo <= mid < hi:
            continue
        x0, x1 = sorted((tss / 1e3, mid / 1e3))
        w = x1 - x0
        f = float(r["Score"]) / top if top > 0 else 0.0
        ax.add_patch(Arc(((x0 + x1) / 2, 0), w, 2 * (0.25 + 0.75 * f), theta1=0, theta2=180,
                         color=color_of("links"), lw=0.6 + 2.4 * f, alpha=0.85))
    ax.set_ylim(0, 1.1)
    ax.set_yticks([])


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
    *,
    truth: pd.DataFrame | None = None,
    blacklist: pd.DataFrame | None = None,
    genes: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    region: tuple[int, int] | None = None,
    units: dict[str, str] | None = None,
    strand: str | None = None,
    gene_id: str | None = None,
    cutoff: float | None = None,
):
    """Draw a locus; return the matplotlib figure (already saved to ``out``).

    Parameters
    ----------
    out:
        Figure path (written atomically): ``.png``, ``.svg`` or ``.pdf``.
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
        Other interval sets to draw as rows of boxes, e.g. ``{"MACS3 peaks": peaks}``.
    truth:
        Known elements (``name`` = enhancer / promoter / decoy / ctcf), coloured by kind.
    blacklist:
        Blacklisted intervals: shaded in every row and left out of each track's y scale.
    genes:
        Gene models (:func:`seq2exp_cli.io.gene_models.read_gene_models`) of the window.
    links:
        ``seq2exp call-links`` rows of the gene (``start, end, Score``), drawn as arcs.
    region:
        ``(lo, hi)`` genome bp to show (default: the whole arrays).
    units:
        Track name -> y-axis unit (default: the bigWig's values).
    strand, gene_id, cutoff:
        For the title, the gene's bold model and the mask's cutoff line.
    """
    from matplotlib.patches import Patch, Rectangle

    L = len(next(iter(signals.values()))) if signals else len(mask)
    lo, hi = (start, start + L) if region is None else (int(region[0]), int(region[1]))
    lo, hi = max(lo, start), min(hi, start + L)
    if hi <= lo:
        raise Seq2ExpError(f"region {chrom}:{lo}-{hi} lies outside the gene's window "
                           f"{chrom}:{start}-{start + L}")
    a, b = lo - start, hi - start
    x = (lo + np.arange(hi - lo)) / 1e3
    bl = _blacklist_bp(blacklist, chrom, lo, hi)
    near_bl = _dilate(bl, max(100, (hi - lo) // 200))  # left out of the y scales
    units = units or {}

    lanes: dict[str, pd.DataFrame] = {}
    if elements is not None:
        lanes["seq2exp elements"] = elements
    lanes.update(intervals or {})
    tracks = [n for n in signals]
    rows = [("track", n) for n in tracks]
    if mask is not None:
        rows.append(("mask", "mask"))
    if lanes or truth is not None:
        rows.append(("lanes", None))
    rows.append(("genes", None))
    if links is not None and len(links):
        rows.append(("links", None))
    n_lanes = len(lanes) + (1 if truth is not None else 0)
    gsub = genes[(genes["end"] > lo) & (genes["start"] < hi)] if genes is not None else None
    gene_rows = 1
    if gsub is not None and len(gsub):
        s = np.maximum(gsub["start"].to_numpy(), lo)
        gene_rows = max(_pack(s, np.maximum(np.minimum(gsub["end"].to_numpy(), hi),
                                            s + (hi - lo) * 0.09), (hi - lo) * 0.01)) + 1
    heights = {"track": 1.0, "mask": 0.9, "lanes": 0.28 * max(n_lanes, 1) + 0.1,
               "genes": 0.42 * gene_rows + 0.25, "links": 0.8}
    hr = [heights[k] for k, _ in rows]
    fig = _figure(figsize=(11, sum(hr) * 0.95 + 1.0))
    axes = fig.subplots(len(rows), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": hr, "hspace": 0.18})[:, 0]
    legend: dict[str, object] = {}

    def shade(ax) -> None:
        if not bl.any():
            return
        d = np.diff(np.r_[0, bl.astype(np.int8), 0])
        for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
            ax.axvspan((lo + s) / 1e3, (lo + e) / 1e3, facecolor=COLORS["blacklist"],
                       alpha=0.6, lw=0, hatch="///", edgecolor="0.35", zorder=4)
        legend["blacklisted (left out of the y scales)"] = Patch(
            facecolor=COLORS["blacklist"], alpha=0.45, hatch="///", lw=0)

    for ax, (kind, name) in zip(axes, rows):
        ax.spines[["top", "right"]].set_visible(False)
        if kind in ("track", "mask"):
            y = np.asarray(mask if kind == "mask" else signals[name], dtype=np.float64)[a:b]
            c = color_of(name)
            if kind == "mask":
                ax.fill_between(x, 0, y, color=c, lw=0, step="mid")
                ax.set_ylim(0, 1.02)
                if cutoff is not None:
                    ax.axhline(cutoff, color="0.3", lw=0.6, ls="--")
                ax.set_ylabel("learned mask\n(0–1)", fontsize=8)
            elif name == "contact":
                ax.step(x, y, where="mid", color=c, lw=1.0)
                ax.set_ylim(0, _ymax(y, near_bl))
                ax.set_ylabel(f"Hi-C contact\n{units.get(name, 'log10(1 + c)')}", fontsize=8)
            else:
                ax.fill_between(x, 0, y, color=c, lw=0, step="mid")
                ax.set_ylim(0, _ymax(y, near_bl))
                ax.set_ylabel(f"{display_name(name)}\n{units.get(name, '(bigWig value)')}",
                              fontsize=8)
            ax.tick_params(axis="y", labelsize=7)
            shade(ax)
        elif kind == "lanes":
            labels = []
            j = 0
            for label, df in lanes.items():
                sub = df[(df["chrom"] == chrom) & (df["end"] > lo) & (df["start"] < hi)]
                c = color_of(label.split()[0])
                for s, e in zip(sub["start"], sub["end"]):
                    ax.add_patch(Rectangle((max(s, lo) / 1e3, -j - 0.35),
                                           (min(e, hi) - max(s, lo)) / 1e3, 0.7, color=c, lw=0))
                labels.append(label)
                legend.setdefault(label, Patch(color=c))
                j += 1
            if truth is not None:
                sub = truth[(truth["chrom"] == chrom) & (truth["end"] > lo)
                            & (truth["start"] < hi)]
                for kind_name in [*TRUTH_KINDS, *sorted(set(sub["name"]) - set(TRUTH_KINDS))]:
                    part = sub[sub["name"] == kind_name]
                    c = color_of(kind_name)
                    for s, e in zip(part["start"], part["end"]):
                        ax.add_patch(Rectangle((max(s, lo) / 1e3, -j - 0.35),
                                               (min(e, hi) - max(s, lo)) / 1e3, 0.7, color=c,
                                               lw=0))
                    if len(part) or kind_name in TRUTH_KINDS[:3]:
                        legend.setdefault(f"truth: {kind_name}", Patch(color=c))
                labels.append("truth")
            ax.set_yticks(-np.arange(len(labels)), labels, fontsize=8)
            ax.set_ylim(-len(labels) + 0.4, 0.6)
            ax.tick_params(axis="y", length=0)
            ax.spines[["left"]].set_visible(False)
            shade(ax)
        elif kind == "genes":
            _draw_genes(ax, gsub, lo, hi, gene_id or gene)
            ax.set_yticks([])
            ax.set_ylabel("genes", fontsize=8, rotation=0, ha="right", va="center")
            ax.spines[["left"]].set_visible(False)
        elif kind == "links":
            _draw_links(ax, links, tss, lo, hi)
            ax.set_ylabel("learned links\n(arc: Score)", fontsize=8)
            legend.setdefault("learned link (call-links; width = Score)",
                              Patch(color=color_of("links")))
        if lo <= tss < hi:
            ax.axvline(tss / 1e3, color="k", lw=0.5, ls=":", zorder=1)
    axes[-1].set_xlabel(f"position on {chrom} (kb)")
    axes[-1].set_xlim(lo / 1e3, hi / 1e3)
    strand_txt = {"+": ", + strand", "-": ", − strand"}.get(strand or "", "")
    ident = f" ({gene_id}{strand_txt})" if gene_id and gene_id != gene else (
        f" ({strand_txt[2:]})" if strand_txt else "")
    height = sum(hr) * 0.95 + 1.0
    fig.suptitle(f"{gene}{ident}   {chrom}:{lo + 1:,}-{hi:,}  ({(hi - lo) / 1e3:,.1f} kb; "
                 "dotted line: TSS)", fontsize=10, y=1 - 0.05 / height)
    if legend:
        fig.legend(list(legend.values()), list(legend), loc="upper center",
                   ncol=min(len(legend), 5), fontsize=7.5, frameon=False,
                   bbox_to_anchor=(0.5, 1 - 0.28 / height))
    fig.subplots_adjust(top=1 - 0.62 / height)
    _save(fig, out)
    return fig


def plot_training_curve(run: str | os.PathLike, out: str | os.PathLike):
    """Training loss and validation MSE / Pearson of a run folder, against step (the figure).

    The loss panel has a log y axis; a run with a single validation point draws it as a
    marker on an axis that spans the whole run (step 0 to its last step).
    """
    run = Path(run)
    tr = pd.read_csv(run / "train_metrics.tsv", sep="\t")
    va = pd.read_csv(run / "val_metrics.tsv", sep="\t") if (run / "val_metrics.tsv").exists() else None
    fig = _figure(figsize=(11, 3.8))
    a1, a2 = fig.subplots(1, 2)
    a1.plot(tr["step"], tr["loss"], lw=0.8, color=COLORS["loss"], label="training loss")
    if va is not None and len(va):
        a1.plot(va["step"], va["mse"], "o-", ms=4, color=COLORS["val mse"],
                label="validation MSE")
        a2.plot(va["step"], va["pearson"], "o-", ms=4, color=COLORS["val pearson"],
                label="validation Pearson r")
        best = va.loc[va["mse"].idxmin()]
        a1.axvline(best["step"], color="0.5", lw=0.6, ls="--",
                   label=f"selected (step {int(best['step']):,})")
        a2.axvline(best["step"], color="0.5", lw=0.6, ls="--")
        a2.legend(fontsize=8)
    else:
        a2.text(0.5, 0.5, "no validation genes", transform=a2.transAxes, ha="center")
    last = int(max(tr["step"].max() if len(tr) else 1, va["step"].max() if va is not None
                   and len(va) else 1))
    for ax in (a1, a2):
        ax.set_xlabel("optimiser step")
        ax.set_xlim(0, max(last, 1) * 1.02)
        ax.spines[["top", "right"]].set_visible(False)
    a1.set_ylabel("loss / MSE of log10(1 + expression)")
    a1.set_yscale("log")
    a1.legend(fontsize=8)
    a2.set_ylabel("Pearson r (validation genes)")
    fig.suptitle(f"training run {run}", fontsize=10)
    _save(fig, out)
    return fig


def plot_pred_vs_measured(df: pd.DataFrame, out: str | os.PathLike, title: str = ""):
    """Scatter of ``prediction`` against ``target`` (log10(1 + x)), by ``split`` (the figure).

    The title gives n, Pearson r and MSE per split; the dashed line is y = x.
    """
    from .training.metrics import regression_metrics

    d = df.dropna(subset=["prediction", "target"])
    fig = _figure(figsize=(5.0, 4.8))
    ax = fig.subplots()
    splits = [s for s in ("train", "val", "test") if "split" in d and (d["split"] == s).any()]
    groups = [(s, d[d["split"] == s]) for s in splits] or [("all", d)]
    if "split" in d:
        rest = d[~d["split"].isin(("train", "val", "test"))]
        if len(rest) and splits:
            groups.append(("other", rest))
    notes = []
    for name, g in groups:
        m = regression_metrics(g["prediction"], g["target"])
        label = f"{name}: n={m['n']}, r={m['pearson']:.3f}, MSE={m['mse']:.3f}"
        ax.scatter(g["target"], g["prediction"], s=10, alpha=0.7, lw=0,
                   color=color_of(name) if name != "all" else COLORS["dnase"], label=label)
        notes.append(label)
    lo = float(min(d["target"].min(), d["prediction"].min())) if len(d) else 0.0
    hi = float(max(d["target"].max(), d["prediction"].max())) if len(d) else 1.0
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.7, label="y = x")
    ax.set_xlabel("measured expression, log10(1 + CAGE)")
    ax.set_ylabel("predicted expression, log10(1 + CAGE)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    ax.set_title(title, fontsize=9)
    _save(fig, out)
    return fig


def plot_pr_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], out: str | os.PathLike,
                   title: str = "", baseline: float | None = None,
                   xlabel: str = "recall", ylabel: str = "precision"):
    """Step-wise precision–recall curves, one per method, each in its own colour (the figure).

    Parameters
    ----------
    curves:
        Method -> ``(precision, recall)`` arrays at decreasing thresholds.
    baseline:
        Positive fraction, drawn as a dashed line (a random ranking).
    xlabel, ylabel:
        Axis labels (what is recalled, what is precise).
    """
    fig = _figure(figsize=(5.4, 4.4))
    ax = fig.subplots()
    for label, (precision, recall) in curves.items():
        if len(precision) == 0 or not np.isfinite(recall).all():
            continue
        ap = float(np.sum(np.diff(recall, prepend=0.0) * precision))
        ls = ":" if "oracle" in label.lower() else "-"
        ax.step(np.r_[0.0, recall], np.r_[precision[0], precision], where="pre", ls=ls,
                color=color_of(label), label=f"{label} (AUPRC {ap:.3f})")
    if baseline is not None and np.isfinite(baseline):
        ax.axhline(baseline, color=COLORS["random"], ls="--", lw=0.8,
                   label=f"random ({baseline:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7.5, loc="upper right", frameon=False)
    _save(fig, out)
    return fig
