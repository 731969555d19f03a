"""Predict expression for every gene of a window source (a store or raw files).

:func:`predict_expression` runs a trained model (:func:`seq2exp_cli.models.checkpoint.load_model`)
in eval mode (the Beta mean as mask: no randomness) in batches and returns one row per gene.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..progress import progress_bar
from ..shard import chrom_groups
from ..store.windows import WindowSource
from .forward import forward_batches
from .workers import run_parts, split_by_chromosome

#: Columns of ``seq2exp predict`` output, in order (``target`` added when known).
PREDICT_COLUMNS = ["gene_id", "name", "chrom", "tss", "strand", "prediction"]

__all__ = ["PREDICT_COLUMNS", "predict_expression", "predict_with_elements"]


def predict_expression(
    source: WindowSource,
    model,
    indices: np.ndarray | None = None,
    batch_size: int = 8,
    progress: bool = True,
    workers: int = 1,
) -> pd.DataFrame:
    """Predict ``log10(1 + expression)`` per gene.

    Parameters
    ----------
    source : WindowSource
        A :class:`~seq2exp_cli.store.Store` or :class:`~seq2exp_cli.store.live.FileWindows`.
    model : TrainedModel
        From :func:`seq2exp_cli.models.checkpoint.load_model`.
    indices : array_like of int, optional
        Gene rows to predict (default: every gene), in the order of the rows returned.
    batch_size : int
        Genes per forward pass; batches never mix chromosomes.
    progress : bool
        Show a progress bar on stderr (when it is a terminal).
    workers : int
        Split the genes over this many one-thread processes, by whole chromosomes
        (:mod:`.workers`); the predictions are bit-identical to one process's.

    Returns
    -------
    pd.DataFrame
        :data:`PREDICT_COLUMNS`, plus ``target`` when any gene of the source has one (NA
        for genes without).
    """
    idx = np.arange(len(source)) if indices is None else np.asarray(indices, dtype=np.int64)
    chroms = source.genes["chrom"].astype(str).to_numpy()
    parts = split_by_chromosome(chroms, idx, workers)
    if len(parts) > 1:
        values = run_parts(_predict_rows, source, model, parts, label="predicting",
                           progress=progress, batch_size=batch_size)
        by_row = dict(zip(np.concatenate(parts).tolist(), np.concatenate(values).tolist()))
        pred = np.array([by_row[int(i)] for i in idx], dtype=np.float64)
    else:
        with progress_bar(progress) as bar:
            task = bar.add_task("predicting", total=len(idx), unit="genes")
            pred = _predict_rows(source, model, idx, lambda n: bar.advance(task, n), batch_size)
    return _prediction_frame(source, idx, pred)


def _prediction_frame(source: WindowSource, idx: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    g = source.genes.iloc[idx]
    df = g[["gene_id", "name", "chrom", "tss", "strand"]].copy()
    df["prediction"] = pred
    # the column depends on the source, not on the genes chosen, so that every shard
    # writes the same columns
    if "has_target" in source.genes and source.genes["has_target"].any():
        df["target"] = g["target"].to_numpy()
    return df.reset_index(drop=True)


def _predict_rows(source: WindowSource, model, idx: np.ndarray, advance, batch_size: int) -> np.ndarray:
    """Predictions of gene rows ``idx``, in their order; ``advance(n)`` after each batch."""
    pred = np.zeros(len(idx), dtype=np.float64)
    chroms = source.genes["chrom"].astype(str).to_numpy()
    # batches never mix chromosomes: a gene's prediction is bit-identical whichever
    # other chromosomes run (--chroms / --shard / --workers; seq2exp_cli.shard)
    for pos in chrom_groups(chroms, idx):
        done = 0
        for chunk, out in forward_batches(source, model.net, model.device, idx[pos], batch_size):
            pred[pos[done: done + len(chunk)]] = out.pred.float().cpu().numpy()
            done += len(chunk)
            advance(len(chunk))
    return pred


def predict_with_elements(
    source: WindowSource,
    model,
    indices: np.ndarray | None = None,
    batch_size: int = 8,
    progress: bool = True,
    workers: int = 1,
    cutoff: float | None = None,
    min_length: int = 50,
    merge_gap: int = 100,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions and elements in one pass (``seq2exp predict --elements``).

    For a Seq2Exp model with a learned mask the generator runs once per window for both
    (about a third less work than ``predict`` then ``call-elements``); for other models the
    two are run one after the other.  Either way the outputs equal those of
    :func:`predict_expression` and :func:`~seq2exp_cli.inference.elements.gene_elements`
    (per gene, same cutoff, ``min_length`` and ``merge_gap``).

    Returns
    -------
    (pd.DataFrame, pd.DataFrame)
        The predictions (as :func:`predict_expression`) and the elements (sorted, as
        ``call-elements`` writes them).
    """
    from ..io.bed import sort_intervals
    from .elements import default_cutoff, gene_elements

    idx = np.arange(len(source)) if indices is None else np.asarray(indices, dtype=np.int64)
    if cutoff is None:
        cutoff = default_cutoff(model)
    opts = dict(cutoff=cutoff, min_length=min_length, merge_gap=merge_gap)
    if getattr(model.config, "mask_source", None) != "learned":
        pred = predict_expression(source, model, idx, batch_size, progress, workers)
        return pred, gene_elements(source, model, idx, batch_size=batch_size, progress=progress,
                                   workers=workers, **opts)
    chroms = source.genes["chrom"].astype(str).to_numpy()
    parts = split_by_chromosome(chroms, idx, workers)
    if len(parts) > 1:
        got = run_parts(_predict_and_elements, source, model, parts,
                        label="predicting and calling elements", progress=progress,
                        batch_size=batch_size, **opts)
    else:
        with progress_bar(progress) as bar:
            task = bar.add_task("predicting and calling elements", total=len(idx), unit="genes")
            got = [_predict_and_elements(source, model, idx, lambda n: bar.advance(task, n),
                                         batch_size, **opts)]
    by_row = {k: v for preds, _ in got for k, v in preds.items()}
    pred = np.array([by_row[int(i)] for i in idx], dtype=np.float64)
    elements = pd.concat([rows for _, rows in got], ignore_index=True)
    return _prediction_frame(source, idx, pred), sort_intervals(elements)


def _predict_and_elements(source: WindowSource, model, idx: np.ndarray, advance, batch_size: int,
                          **opts) -> tuple[dict, pd.DataFrame]:
    """``({row: prediction}, element rows)`` of gene rows ``idx`` from one forward pass."""
    from .elements import forward_masks, rows_from_masks

    preds: dict = {}
    rows = rows_from_masks(source, forward_masks(source, model, idx, batch_size, advance, preds),
                           **opts)
    return preds, rows
