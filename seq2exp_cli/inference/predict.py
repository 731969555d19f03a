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

#: Columns of ``seq2exp predict`` output, in order (``target`` added when known).
PREDICT_COLUMNS = ["gene_id", "name", "chrom", "tss", "strand", "prediction"]

__all__ = ["PREDICT_COLUMNS", "predict_expression"]


def predict_expression(
    source: WindowSource,
    model,
    indices: np.ndarray | None = None,
    batch_size: int = 8,
    progress: bool = True,
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

    Returns
    -------
    pd.DataFrame
        :data:`PREDICT_COLUMNS`, plus ``target`` when any gene of the source has one (NA
        for genes without).
    """
    net = model.net
    idx = np.arange(len(source)) if indices is None else np.asarray(indices)
    pred = np.zeros(len(idx), dtype=np.float64)
    chroms = source.genes["chrom"].astype(str).to_numpy()
    with progress_bar(progress) as bar:
        task = bar.add_task("predicting", total=len(idx), unit="genes")
        # batches never mix chromosomes: a gene's prediction is bit-identical whichever
        # other chromosomes run (--chroms / --shard; seq2exp_cli.shard)
        for pos in chrom_groups(chroms, idx):
            done = 0
            for chunk, out in forward_batches(source, net, model.device, idx[pos], batch_size):
                pred[pos[done: done + len(chunk)]] = out.pred.float().cpu().numpy()
                done += len(chunk)
                bar.advance(task, len(chunk))
    g = source.genes.iloc[idx]
    df = g[["gene_id", "name", "chrom", "tss", "strand"]].copy()
    df["prediction"] = pred
    # the column depends on the source, not on the genes chosen, so that every shard
    # writes the same columns
    if "has_target" in source.genes and source.genes["has_target"].any():
        df["target"] = g["target"].to_numpy()
    return df.reset_index(drop=True)
