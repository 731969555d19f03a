"""``seq2exp train --init-from RUN --fit-features``: gene features as a linear term, fitted in closed form.

A trained model predicts ``y0`` for each gene from its window.  The per-gene features ``f``
(standardised inside the model, as for any model that reads them) then enter additively::

    y = y0 + w . f + c

Targets are log10 expression, so a multiplicative effect of the transcript (the mRNA
half-life features) is an additive one here.  ``w, c`` are the least-squares fit of the
training genes' residuals ``y - y0``, with a ridge penalty on ``w`` chosen by validation
MSE.  Nothing else changes: the mask, elements and links stay the source model's, bit for
bit, and the fit costs one forward pass over at most ``fit_genes`` training genes and the
validation genes (no optimiser steps).  On the large simulation it gives what training the
predictor and head again with the features gives (docs/models.md, "Two stages").
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..inference.forward import forward_batches
from ..progress import progress_bar
from . import state as st
from .metrics import regression_metrics

log = logging.getLogger(__name__)

#: ridge penalties on ``w`` tried, chosen by validation MSE
FEATURE_LAMBDAS = (0.0, 0.1, 1.0, 10.0, 100.0, 1000.0)


def _predict(model, store, indices, device, batch_size, bar, task):
    """Eval-mode predictions ``(n,)``, standardised features ``(n, F)`` and mask ratios."""
    preds, ratios = [], []
    for chunk, out in forward_batches(store, model, device, np.asarray(indices), batch_size):
        preds.append(out.pred.float().cpu().numpy())
        ratios.append(float(out.mask_ratio))
        bar.update(task, advance=len(chunk))
    f = store._columns()["features"][np.asarray(indices, dtype=np.int64)].astype(np.float64)
    if model.feature_mean is not None:  # as the model standardises them in forward
        f = (f - model.feature_mean.double().cpu().numpy()) / model.feature_scale.double().cpu().numpy()
    return (np.concatenate(preds) if preds else np.zeros(0)), f, ratios


def solve_ridge(features: np.ndarray, residual: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """``argmin |residual - f w - c|^2 + lam |w|^2`` (no penalty on ``c``); returns ``(w, c)``."""
    A = np.c_[np.ones(len(features)), features].astype(np.float64)
    reg = lam * np.eye(A.shape[1])
    reg[0, 0] = 0.0
    # least squares of the normal equations: the minimum-norm solution when they are singular
    coef = np.linalg.lstsq(A.T @ A + reg, A.T @ residual.astype(np.float64), rcond=None)[0]
    return coef[1:], float(coef[0])


def fit_feature_term(model, store, train_idx: np.ndarray, val_idx: np.ndarray, run: Path,
                     device, train_cfg, show_progress: bool = True) -> dict:
    """Fit ``model.head.feature_linear`` on the model's predictions; save ``run/best``.

    Every parameter is frozen.  The training genes used are at most ``train_cfg.fit_genes``,
    drawn by ``train_cfg.seed``.  Writes one ``val_metrics.tsv`` row per penalty tried
    (``step`` = its index) and returns what was fitted (also in ``best``'s metadata).
    """
    from ..io.atomic import atomic_dir
    from ..models.checkpoint import save_model

    lin = getattr(model.head, "feature_linear", None)
    if lin is None:
        raise ValueError("fit_features needs a model with feature_term='linear' and gene features")
    for p in model.parameters():
        p.requires_grad_(False)
    lin.weight.zero_()
    lin.bias.zero_()
    model.eval()
    n_fit = min(len(train_idx), train_cfg.fit_genes)
    rng = np.random.default_rng([train_cfg.seed, 7])
    fit_idx = np.sort(rng.choice(np.asarray(train_idx), size=n_fit, replace=False))
    y = store.genes["target"].to_numpy(dtype=np.float64)
    with progress_bar(show_progress) as bar:
        task = bar.add_task("feature fit: predictions", total=len(fit_idx) + len(val_idx),
                            unit="genes")
        p_tr, f_tr, _ = _predict(model, store, fit_idx, device, train_cfg.batch_size, bar, task)
        p_va, f_va, ratios = _predict(model, store, val_idx, device, train_cfg.batch_size, bar, task)
    r_tr = y[fit_idx] - p_tr
    (run / "val_metrics.tsv").unlink(missing_ok=True)  # a resumed run fits again from scratch
    best = None
    for i, lam in enumerate(FEATURE_LAMBDAS if len(val_idx) else (1.0,)):
        w, c = solve_ridge(f_tr, r_tr, lam)
        if len(val_idx):
            m = regression_metrics(p_va + f_va @ w + c, y[val_idx])
            m["mask_ratio"] = float(np.mean(ratios))
            st.append_tsv(run / "val_metrics.tsv", {"step": i, "ridge_lambda": lam, **m})
        else:
            m = None
        if best is None or (m is not None and m["mse"] < best[0]["mse"]):
            best = (m, lam, w, c)
    val, lam, w, c = best
    lin.weight.copy_(torch.as_tensor(w, dtype=lin.weight.dtype).view_as(lin.weight))
    lin.bias.fill_(c)
    fitted = {"ridge_lambda": lam, "genes": int(n_fit), "weights": [float(v) for v in w],
              "intercept": c}
    with atomic_dir(run / "best", overwrite=True) as tmp:
        save_model(tmp, model, model.cfg, {"step": 0, "val": val,  # no optimiser steps
                                           "feature_fit": fitted, "store": str(store.path)})
    log.info("feature term fitted on %d training genes (ridge %g chosen by validation MSE)%s",
             n_fit, lam, f"; validation Pearson {val['pearson']:.4f}" if val else "")
    return fitted
