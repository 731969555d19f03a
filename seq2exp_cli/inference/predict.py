"""Predict expression for every gene of a window source (a store or raw files).

:func:`predict_expression` runs a trained model (:func:`seq2exp_cli.models.checkpoint.load_model`)
in eval mode (the Beta mean as mask: no randomness) in batches and returns one row per gene.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..progress import progress_bar
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
        Gene rows to predict (default: every gene).
    batch_size : int
        Genes per forward pass.
    progress : bool
        Show a progress bar on stderr (when it is a terminal).

    Returns
    -------
    pd.DataFrame
        :data:`PREDICT_COLUMNS`, plus ``target`` when any gene has one.
    """
    net = model.net
    idx = np.arange(len(source)) if indices is None else np.asarray(indices)
    preds = []
    with progress_bar(progress) as bar:
        task = bar.add_task("predicting", total=len(idx), unit="genes")
        for chunk, out in forward_batches(source, net, model.device, idx, batch_size):
            preds.append(out.pred.float().cpu().numpy())
            bar.advance(task, len(chunk))
    g = source.genes.iloc[idx]
    df = g[["gene_id", "name", "chrom", "tss", "strand"]].copy()
    df["prediction"] = np.concatenate(preds).astype(np.float64) if preds else np.zeros(0)
    if "has_target" in g and g["has_target"].any():
        df["target"] = g["target"].to_numpy()
    return df.reset_index(drop=True)
