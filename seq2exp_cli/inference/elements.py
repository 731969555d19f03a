"""Regulatory elements from the learned mask: ``seq2exp call-elements``.

For each gene the generator's Beta-mean mask (deterministic, per token) is expanded to
base pairs, mapped to genome orientation and clipped to the chromosome.  Elements are
runs of positions whose mask is at least ``cutoff`` (and, with ``top_fraction``, among the
gene's top fraction of positions), joined across gaps shorter than ``merge_gap`` bp and
kept when at least ``min_length`` bp long.

Output columns (BED6+4, 0-based half-open, described by :data:`BED_HEADER`):
chrom, start, end, name (gene name or id), score (0-1000 = 1000 x mean mask), strand
(the gene's), mean_mask, max_mask, gene_id, tss_distance (element midpoint - TSS, bp).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import numpy as np
import pandas as pd
import torch

from ..io.bed import sort_intervals
from ..progress import progress_bar
from ..shard import chrom_batches
from ..store.windows import Window, WindowSource
from .forward import to_tensors
from .workers import run_parts, split_by_chromosome

ELEMENT_COLUMNS = ["chrom", "start", "end", "name", "score", "strand", "mean_mask", "max_mask",
                   "gene_id", "tss_distance"]
BED_HEADER = "#" + "\t".join(ELEMENT_COLUMNS)


#: default ``cutoff`` of :func:`gene_elements`: on Seq2Exp's mask, and on the element scores
#: of the models that score candidates (EPInformer, ABC: ABC's usual threshold)
MASK_CUTOFF, SCORE_CUTOFF = 0.5, 0.02


def default_cutoff(model) -> float:
    """Return the default element cutoff of a model.

    ``model`` a :class:`~seq2exp_cli.models.checkpoint.TrainedModel` (or a bare network):
    the cutoff calibrated at the end of training when its metadata holds one
    (``element_cutoff``, :mod:`.calibrate`), else :data:`MASK_CUTOFF` on a mask and
    :data:`SCORE_CUTOFF` on the element scores of EPInformer and ABC.
    """
    meta = getattr(model, "meta", None)
    if isinstance(meta, dict) and meta.get("element_cutoff") is not None:
        return float(meta["element_cutoff"])
    net = getattr(model, "net", model)
    return SCORE_CUTOFF if net.scores_elements else MASK_CUTOFF


def cutoff_note(model, cutoff: float | None) -> str:
    """Which cutoff elements are called at, and where it came from (for a command's summary)."""
    if cutoff is not None:
        return f"mask >= {cutoff:g}, from --cutoff"
    meta = getattr(model, "meta", None) or {}
    value = default_cutoff(model)
    if meta.get("element_cutoff") is not None:
        return f"mask >= {value:.4g}, the model's calibrated cutoff; --cutoff to change"
    return f"mask >= {value:g}, the default; --cutoff to change"


@torch.no_grad()
def gene_masks(
    source: WindowSource, model, indices=None, batch_size: int = 8, progress: bool = True,
) -> Iterator[tuple[Window, int, np.ndarray]]:
    """Yield ``(window, genome_start, mask)`` per gene.

    ``mask`` is float32 per bp in genome orientation over ``[genome_start, genome_start +
    len(mask))``, clipped to the chromosome.  For Seq2Exp it is the generator's Beta-mean
    mask; for models that score candidate elements (EPInformer, ABC) it is each candidate's
    score over its bases (:func:`element_score_track`), 0 elsewhere.  Genes come in
    batches that never mix chromosomes (:func:`~seq2exp_cli.shard.chrom_batches`), grouped
    by chromosome, so a gene's mask does not depend on which other chromosomes run.

    Parameters
    ----------
    source : WindowSource
        The inputs.
    model : TrainedModel
        From :func:`seq2exp_cli.models.checkpoint.load_model`.
    indices : array_like of int, optional
        Gene rows (default: every gene).
    batch_size : int
        Genes per forward pass.
    progress : bool
        Show a progress bar on stderr (when it is a terminal).
    """
    idx = np.arange(len(source)) if indices is None else np.asarray(indices)
    with progress_bar(progress) as bar:
        task = bar.add_task("calling elements", total=len(idx), unit="genes")
        yield from _gene_masks(source, model, idx, batch_size, lambda n: bar.advance(task, n))


def _in_genome(source: WindowSource, wins, per_bp) -> Iterator[tuple[Window, int, np.ndarray]]:
    """Yield ``(window, genome_start, mask)``: each per-bp mask in genome orientation, clipped."""
    for w, m in zip(wins, per_bp):
        m = w.to_genome(m)
        lo, hi = max(w.start, 0), min(w.end, source.chrom_sizes[w.chrom])
        yield w, lo, np.ascontiguousarray(m[lo - w.start: hi - w.start])


def _check_has_elements(model) -> None:
    net = model.net
    if not (net.scores_elements or hasattr(net, "generate_mask")):
        # a baseline that predicts expression only: fail before reading any window
        from ..models.baselines.base import no_elements_error

        raise no_elements_error(model.config.model_type)


def _gene_masks(source: WindowSource, model, idx: np.ndarray, batch_size: int,
                advance) -> Iterator[tuple[Window, int, np.ndarray]]:
    """:func:`gene_masks` without its bar: ``advance(n)`` after each batch of ``n`` genes."""
    from ..store.windows import stack_windows
    from .forward import check_compatible, load_batch

    net, cfg, _ = model
    device = model.device
    where = str(getattr(source, "path", "inputs"))
    _check_has_elements(model)
    sig_idx = check_compatible(source, cfg, where, net.needs_contact_matrix)
    chroms = source.genes["chrom"].astype(str).to_numpy()
    net.eval()
    for chunk in chrom_batches(chroms, idx, batch_size):
        wins = [source.window(int(i), cfg.window_bp) for i in chunk]
        if net.scores_elements:
            b = to_tensors(load_batch(source, chunk, net), device, sig_idx)
            es = net.element_scores(b["seq"], b["signals"],
                                    b["features"] if cfg.n_gene_features else None,
                                    b["blacklist"])
            per_bp = element_score_track(es, cfg.window_bp)
        else:
            b = to_tensors(stack_windows(wins), device, sig_idx)
            tok = net.generate_mask(b["seq"], b["signals"], b["blacklist"]).float().cpu().numpy()
            per_bp = np.repeat(tok, cfg.bin_size, axis=1)
        yield from _in_genome(source, wins, per_bp)
        advance(len(chunk))


def element_score_track(es, width: int) -> np.ndarray:
    """(B, width) float32: each valid element's score over its bases (max where candidates overlap), 0 elsewhere.

    ``es`` an :class:`~seq2exp_cli.models.baselines.base.ElementScores`.
    """
    start = es.start.cpu().numpy()
    end = es.end.cpu().numpy()
    score = es.score.float().cpu().numpy()
    valid = es.valid.cpu().numpy()
    out = np.zeros((start.shape[0], width), dtype=np.float32)
    for i, j in zip(*np.nonzero(valid)):
        s, e = max(int(start[i, j]), 0), min(int(end[i, j]), width)
        if e > s:
            np.maximum(out[i, s:e], score[i, j], out=out[i, s:e])
    return out


def true_runs(on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(starts, ends)`` of the runs of True in a boolean array ([start, end))."""
    edges = np.diff(np.concatenate([[0], np.asarray(on, dtype=bool).view(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def mask_intervals(mask: np.ndarray, cutoff: float, min_length: int = 1, merge_gap: int = 0) -> np.ndarray:
    """Return the runs of ``mask >= cutoff`` as an (n, 2) int64 array of [start, end) offsets.

    Runs separated by fewer than ``merge_gap`` bp are joined; runs shorter than
    ``min_length`` bp (after joining) are dropped.
    """
    on = np.asarray(mask) >= cutoff
    if not on.any():
        return np.zeros((0, 2), dtype=np.int64)
    starts, ends = true_runs(on)
    if merge_gap > 0 and len(starts) > 1:
        keep = np.concatenate([[True], starts[1:] - ends[:-1] >= merge_gap])
        starts = starts[keep]
        ends = ends[np.concatenate([keep[1:], [True]])]
    ok = ends - starts >= min_length
    return np.stack([starts[ok], ends[ok]], axis=1).astype(np.int64)


def gene_elements(
    source: WindowSource, model, indices=None, cutoff: float | None = None,
    min_length: int = 50, merge_gap: int = 100, top_fraction: float | None = None,
    merged: bool = False, bigwig: str | os.PathLike | None = None, batch_size: int = 8,
    progress: bool = True, workers: int = 1,
) -> pd.DataFrame:
    """Elements of every gene (or of ``indices``) as a sorted DataFrame of :data:`ELEMENT_COLUMNS`.

    Parameters
    ----------
    source : WindowSource
        The inputs.
    model : TrainedModel
        A model with a mask or element scores (Seq2Exp, EPInformer, ABC).
    indices : array_like of int, optional
        Gene rows (default: every gene).
    cutoff : float, optional
        Least mask value of an element's bases (default :func:`default_cutoff`).
    min_length, merge_gap : int
        Shortest element kept and the longest gap joined (bp).
    top_fraction : float, optional
        Keep only each gene's top fraction of bases.
    merged : bool
        Join overlapping elements of different genes (names and ids comma-separated,
        scores and masks their maximum, strand '.').
    bigwig : str or PathLike, optional
        Also write the per-bp mask (maximum over the genes covering a base) there; its
        header lists every chromosome of the source.
    batch_size : int
        Genes per forward pass.
    progress : bool
        Show a progress bar on stderr (when it is a terminal).
    workers : int
        Split the genes over this many one-thread processes, by whole chromosomes
        (:mod:`.workers`); the elements and the bigWig equal one process's.
    """
    if cutoff is None:
        cutoff = default_cutoff(model)
    idx = np.arange(len(source)) if indices is None else np.asarray(indices, dtype=np.int64)
    opts = dict(cutoff=cutoff, min_length=min_length, merge_gap=merge_gap,
                top_fraction=top_fraction, batch_size=batch_size)
    parts = split_by_chromosome(source.genes["chrom"].astype(str).to_numpy(), idx, workers)
    if len(parts) > 1:
        _check_has_elements(model)  # before any worker starts
        with contextlib.ExitStack() as stack:
            tmp: list = [None] * len(parts)
            if bigwig is not None:  # each worker writes its chromosomes' mask, joined below
                from ..io.atomic import scratch_dir

                where = stack.enter_context(scratch_dir(bigwig))
                tmp = [where / f"part{k}.bw" for k in range(len(parts))]
            frames = run_parts(_element_rows, source, model, parts, label="calling elements",
                               progress=progress, per_part=[{"bigwig": t} for t in tmp],
                               **opts)
            if bigwig is not None:
                from ..shard import gather_bigwig

                gather_bigwig(tmp, bigwig)
        df = pd.concat(frames, ignore_index=True)
    else:
        with progress_bar(progress) as bar:
            task = bar.add_task("calling elements", total=len(idx), unit="genes")
            df = _element_rows(source, model, idx, lambda n: bar.advance(task, n),
                               bigwig=bigwig, **opts)
    if merged:
        df = merge_across_genes(df)
    return sort_intervals(df)


def _element_rows(source: WindowSource, model, idx: np.ndarray, advance, *, cutoff: float,
                  min_length: int, merge_gap: int, top_fraction: float | None,
                  batch_size: int, bigwig=None) -> pd.DataFrame:
    """Return the element rows of gene rows ``idx`` (unsorted); write the mask to ``bigwig`` when set."""
    return rows_from_masks(source, _gene_masks(source, model, idx, batch_size, advance),
                           cutoff=cutoff, min_length=min_length, merge_gap=merge_gap,
                           top_fraction=top_fraction, bigwig=bigwig)


def forward_masks(source: WindowSource, model, idx: np.ndarray, batch_size: int, advance,
                  preds: dict) -> Iterator[tuple[Window, int, np.ndarray]]:
    """Yield :func:`gene_masks`' triples from the whole model's forward pass.

    ``preds[row]`` gets each gene's prediction (``predict --elements``: one pass for both
    outputs).  The batches are :func:`predict_expression`'s, so predictions and masks are bit-identical
    to ``predict``'s and ``call-elements``' (a Seq2Exp model with a learned mask only).
    """
    from ..store.windows import stack_windows
    from .forward import check_compatible, run_model

    net, cfg, _ = model
    sig_idx = check_compatible(source, cfg, str(getattr(source, "path", "inputs")),
                               net.needs_contact_matrix)
    chroms = source.genes["chrom"].astype(str).to_numpy()
    net.eval()
    with torch.no_grad():
        for chunk in chrom_batches(chroms, idx, batch_size):
            wins = [source.window(int(i), cfg.window_bp) for i in chunk]
            batch = stack_windows(wins)
            b = to_tensors(batch, model.device, sig_idx)
            out = run_model(net, batch, b)
            tok = net.element_mask(out, b["blacklist"]).cpu().numpy()
            for i, p in zip(chunk, out.pred.float().cpu().numpy()):
                preds[int(i)] = float(p)
            yield from _in_genome(source, wins, np.repeat(tok, cfg.bin_size, axis=1))
            advance(len(chunk))


def rows_from_masks(source: WindowSource, masks, *, cutoff: float, min_length: int,
                    merge_gap: int, top_fraction: float | None = None,
                    bigwig=None) -> pd.DataFrame:
    """Element rows (unsorted, per gene) of the ``(window, start, mask)`` of :func:`gene_masks`.

    Writes the per-bp mask (maximum over genes) to ``bigwig`` when set.
    """
    rows = []
    cover: dict[str, np.ndarray] = {}
    for w, lo, m in masks:
        if bigwig is not None:
            arr = cover.setdefault(w.chrom, np.zeros(source.chrom_sizes[w.chrom], dtype=np.float32))
            np.maximum(arr[lo: lo + len(m)], m, out=arr[lo: lo + len(m)])
        thr = cutoff
        if top_fraction is not None and len(m):
            thr = max(cutoff, float(np.quantile(m, 1.0 - top_fraction)))
        iv = mask_intervals(m, thr, min_length, merge_gap)
        g = source.genes.iloc[w.index]
        tss = int(g["tss"])
        for s, e in iv:
            seg = m[s:e]
            mean = float(seg.mean())
            rows.append((w.chrom, lo + int(s), lo + int(e), str(g["name"] or g["gene_id"]),
                         int(round(1000 * mean)), w.strand, mean, float(seg.max()),
                         w.gene_id, int((2 * lo + s + e) // 2 - tss)))
    if bigwig is not None:
        from ..io.bigwig import write_bigwig

        # every chromosome of the genome in the header, so that shards' bigWigs (and one
        # without genes) share it and join exactly (seq2exp_cli.shard.gather_bigwig)
        write_bigwig(bigwig, dict(source.chrom_sizes), cover)
    return pd.DataFrame(rows, columns=ELEMENT_COLUMNS)


def locus_view(source: WindowSource, model, gene: str, cutoff: float | None = None,
               min_length: int = 50, merge_gap: int = 100) -> dict:
    """Everything :func:`seq2exp_cli.plot.plot_locus` draws for one gene, in genome orientation.

    Parameters
    ----------
    source : WindowSource
        The inputs.
    model : TrainedModel
        A model with a mask or element scores.
    gene : str
        Gene id or name.
    cutoff, min_length, merge_gap
        As :func:`gene_elements`, for the drawn elements (``cutoff`` None: the model's
        :func:`default_cutoff`).

    Returns
    -------
    dict
        ``chrom``, ``start`` (bp of the first value), ``tss``, ``gene`` (label),
        ``signals`` (name -> per-bp array), ``mask`` (per bp) and ``elements`` (a DataFrame
        of chrom, start, end): the keyword arguments of ``plot_locus``.
    """
    if cutoff is None:
        cutoff = default_cutoff(model)
    i = source.gene_index(gene)
    (w, lo, mask), = list(gene_masks(source, model, [i], progress=False))
    sig = w.to_genome(w.signals)[lo - w.start: lo + len(mask) - w.start]
    iv = mask_intervals(mask, cutoff, min_length, merge_gap)
    g = source.genes.iloc[i]
    return {
        "chrom": w.chrom, "start": lo, "tss": int(g["tss"]),
        "gene": str(g["name"] or g["gene_id"]),
        "signals": {name: np.asarray(sig[:, j]) for j, name in enumerate(source.signal_names)},
        "mask": mask,
        "elements": pd.DataFrame({"chrom": w.chrom, "start": lo + iv[:, 0], "end": lo + iv[:, 1]}),
    }


def merge_across_genes(df: pd.DataFrame) -> pd.DataFrame:
    """Join overlapping or touching elements of different genes into one row each."""
    if df.empty:
        return df
    out = []
    for chrom, sub in sort_intervals(df).groupby("chrom", sort=False):
        s, e = sub["start"].to_numpy(), sub["end"].to_numpy()
        reach = np.maximum.accumulate(e)
        group = np.concatenate([[0], np.cumsum(s[1:] > reach[:-1])])
        for _, part in sub.groupby(group):
            names = list(dict.fromkeys(part["name"]))
            ids = list(dict.fromkeys(part["gene_id"]))
            out.append((chrom, int(part["start"].min()), int(part["end"].max()), ",".join(names),
                        int(part["score"].max()), ".", float(part["mean_mask"].max()),
                        float(part["max_mask"].max()), ",".join(ids),
                        int(part.loc[part["tss_distance"].abs().idxmin(), "tss_distance"])))
    return pd.DataFrame(out, columns=ELEMENT_COLUMNS)


def write_elements(df: pd.DataFrame, output: str | os.PathLike | None, header: bool = True) -> None:
    """BED6+4 to ``output`` (atomic) or stdout, sorted as ``bedtools sort`` sorts.

    A ``#`` header line names the columns.
    """
    from ..io.bed import write_bed

    out = df.assign(mean_mask=df["mean_mask"].round(4), max_mask=df["max_mask"].round(4))
    write_bed(output, out, columns=ELEMENT_COLUMNS, header_lines=[BED_HEADER] if header else ())
