"""Predict expression for every gene of a window source (a store or raw files).

``load_predictor`` finds a model (a run folder, a checkpoint folder, or the weights
bundled with seq2exp) and ``predict`` runs it in eval mode (the Beta mean as mask: no
randomness) in batches, returning one row per gene.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ._device import resolve_device
from .errors import Seq2ExpError
from .progress import progress_bar
from .shard import chrom_groups
from .store.windows import WindowSource
from .training.batches import forward_batches

#: Columns of ``seq2exp predict`` output, in order (``target`` added when known).
PREDICT_COLUMNS = ["gene_id", "name", "chrom", "tss", "strand", "prediction"]


def bundled_weights() -> Path:
    """The model bundled with seq2exp: ``weights/`` in the package (wheel) or repository."""
    here = Path(__file__).resolve().parent
    for cand in (here / "weights", here.parent / "weights"):
        if (cand / "config.json").exists():
            return cand
    raise Seq2ExpError(
        "no bundled model found (weights/ is missing from this installation); "
        "pass --model RUN_OR_CHECKPOINT"
    )


def resolve_model_dir(given: str | os.PathLike | None) -> Path:
    """A checkpoint folder (config.json + model.safetensors) from a run or checkpoint path."""
    if given is None:
        from .cli.resolve import find_input

        given = find_input("model", None)
    path = Path(given) if given is not None else bundled_weights()
    if not path.exists():
        raise Seq2ExpError(f"{path}: model not found; pass a run folder or checkpoint folder")
    for cand in (path, path / "best", path / "last"):
        if (cand / "config.json").exists() and (cand / "model.safetensors").exists():
            return cand
    raise Seq2ExpError(
        f"{path}: not a seq2exp model (expected config.json + model.safetensors, or a run "
        "folder with best/); train one with `seq2exp train`"
    )


def load_predictor(model: str | os.PathLike | None = None, device: str | None = "auto"):
    """Load ``(model, cfg, meta, device)``; the weights' sha256 is verified on load."""
    from .models.checkpoint import load_model

    dev = resolve_device(device)
    net, cfg, meta = load_model(resolve_model_dir(model), device=dev)
    net.eval()
    return net, cfg, meta, dev


def predict(
    source: WindowSource,
    net,
    cfg,
    device: torch.device,
    indices: np.ndarray | None = None,
    batch_size: int = 8,
    show_progress: bool = True,
) -> pd.DataFrame:
    """Predicted ``log10(1 + expression)`` per gene.

    Genes run in batches of ``batch_size`` that never mix chromosomes; rows keep the order
    of ``indices``.

    Returns
    -------
    DataFrame with :data:`PREDICT_COLUMNS`, plus ``target`` when any gene of the source
    has one (NA for genes without).
    """
    idx = np.arange(len(source)) if indices is None else np.asarray(indices)
    pred = np.zeros(len(idx), dtype=np.float64)
    chroms = source.genes["chrom"].astype(str).to_numpy()
    with progress_bar(show_progress) as bar:
        task = bar.add_task("predicting", total=len(idx))
        # batches never mix chromosomes: a gene's prediction is bit-identical whichever
        # other chromosomes run (--chroms / --shard; seq2exp_cli.shard)
        for pos in chrom_groups(chroms, idx):
            done = 0
            for chunk, out in forward_batches(source, net, cfg, device, idx[pos], batch_size):
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


def write_tsv(df: pd.DataFrame, output: str | os.PathLike | None, float_format: str = "%.6g") -> None:
    """Write a table to ``output`` atomically, or to stdout when ``output`` is None/'-'."""
    import sys

    from .io.atomic import atomic_path

    if output is None or str(output) == "-":
        df.to_csv(sys.stdout, sep="\t", index=False, float_format=float_format, na_rep="NA")
        sys.stdout.flush()
        return
    with atomic_path(output) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format=float_format, na_rep="NA")
