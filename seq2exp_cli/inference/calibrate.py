"""The element cutoff of a gate-form model, calibrated on its own validation windows.

The gate form's mask is ``mu = mu_x * g``: accessibility ``g`` opens a token, the sequence
(``mu_x``) decides how much.  The information term anchors open tokens near the prior
fraction, and the readout's weight and baseline can absorb any rescaling of the mask, so
*how far* enhancers rise above the prior and decoys fall below it differs between training
seeds while their order does not (docs/models.md: at the fixed cutoff 0.5 one seed recalled
70 % of enhancers, another 40 %, with the same bp AUPRC).

So the cutoff is read off the model's own output, without any truth: over the validation
windows, the accessible regions are the runs of tokens with ``g >= open_gate`` (outside
the gene's promoter and the blacklist); each region scores its largest mask value; the
cutoff is the ``quantile`` of those scores.  Elements are then the regions whose mask
rises into the top ``1 - quantile`` of what the model gives an accessible region.  The
rule and its inputs are recorded beside the cutoff in the checkpoint's metadata
(``element_cutoff``, ``element_cutoff_rule``) and :func:`~.elements.default_cutoff` uses it.
"""

from __future__ import annotations

import numpy as np
import torch

from ..progress import progress_bar
from ..shard import chrom_batches
from ..store.windows import WindowSource
from .elements import true_runs

__all__ = ["ELEMENT_QUANTILE", "OPEN_GATE", "accessible_region_scores", "calibrate_cutoff",
           "region_maxima"]

#: share of accessible regions whose score lies below the cutoff (docs/models.md: chosen on
#: the validation chromosomes of the large simulation, two seeds)
ELEMENT_QUANTILE = 0.59
#: a token is accessible when the gate ``g = 1 - exp(-gain * signal)`` reaches this
OPEN_GATE = 0.5


def region_maxima(mask: np.ndarray, gate: np.ndarray, open_gate: float = OPEN_GATE,
                  skip: np.ndarray | None = None) -> np.ndarray:
    """Largest ``mask`` value of every run of tokens with ``gate >= open_gate``.

    Parameters
    ----------
    mask, gate : np.ndarray, shape=(T,)
    skip : np.ndarray of bool, shape=(T,), optional
        Tokens that belong to no region (the promoter, the blacklist).

    Returns
    -------
    np.ndarray, float64, one value per run, in order.
    """
    on = np.asarray(gate) >= open_gate
    if skip is not None:
        on &= ~np.asarray(skip, dtype=bool)
    if not on.any():
        return np.zeros(0)
    starts, ends = true_runs(on)
    padded = np.concatenate([np.asarray(mask, dtype=np.float64), [0.0]])
    bounds = np.stack([starts, ends], axis=1).ravel()  # [s0, e0, s1, e1, ...]
    return np.maximum.reduceat(padded, bounds)[::2]


def _is_gate_model(model) -> bool:
    from ..models.seq2exp import Seq2Exp

    net, cfg = model[0], model[1]
    return (isinstance(net, Seq2Exp) and getattr(cfg, "beta_product", None) == "gate"
            and getattr(cfg, "mask_source", "learned") == "learned"
            and net.generator is not None)


@torch.no_grad()
def accessible_region_scores(source: WindowSource, model, indices, open_gate: float = OPEN_GATE,
                             batch_size: int = 8, progress: bool = True) -> np.ndarray:
    """Largest mask value of every accessible region in the windows of ``indices``.

    Parameters
    ----------
    source : WindowSource
    model : TrainedModel or (net, cfg, meta), a gate-form Seq2Exp
    indices : array_like of int
        Gene rows of ``source``.
    open_gate : float
        Gate level from which a token counts as accessible.

    Returns
    -------
    np.ndarray, float64, one score per region (windows in ``indices`` order).
    """
    from ..models.beta_mask import promoter_token_span
    from ..store.windows import stack_windows
    from .forward import check_compatible, to_tensors

    if not _is_gate_model(model):
        raise ValueError("accessible regions need a gate-form Seq2Exp model (beta_product='gate')")
    net, cfg = model[0], model[1]
    idx = np.asarray(indices)
    device = next(net.parameters()).device
    sig_idx = check_compatible(source, cfg, str(getattr(source, "path", "inputs")))
    chroms = source.genes["chrom"].astype(str).to_numpy()
    t0, t1 = promoter_token_span(cfg.window_bp, cfg.bin_size, cfg.promoter_bp)
    was = net.training
    net.eval()
    scores = []
    try:
        with progress_bar(progress) as bar:
            task = bar.add_task("calibrating the element cutoff", total=len(idx), unit="genes")
            for chunk in chrom_batches(chroms, idx, batch_size):
                wins = [source.window(int(i), cfg.window_bp) for i in chunk]
                b = to_tensors(stack_windows(wins), device, sig_idx)
                mean, g = net.mask_and_gate(b["seq"], b["signals"], b["blacklist"])
                mean, g = mean.cpu().numpy(), g.cpu().numpy()
                skip = np.zeros(mean.shape[1], dtype=bool)
                skip[t0:t1] = True
                for j in range(len(chunk)):
                    scores.append(region_maxima(mean[j], g[j], open_gate, skip | (mean[j] <= 0)))
                bar.advance(task, len(chunk))
    finally:
        net.train(was)
    return np.concatenate(scores) if scores else np.zeros(0)


def calibrate_cutoff(source: WindowSource, model, indices, quantile: float = ELEMENT_QUANTILE,
                     open_gate: float = OPEN_GATE, batch_size: int = 8,
                     progress: bool = True) -> dict | None:
    """Return the calibrated element cutoff of a gate-form Seq2Exp model.

    None for any other model, and when the windows hold no accessible region.

    Parameters
    ----------
    source : WindowSource
        Windows to calibrate on (the validation genes of the training store).
    model : TrainedModel or (net, cfg, meta)
    indices : array_like of int
        Gene rows of ``source``.
    quantile, open_gate : float
        See the module docstring.

    Returns
    -------
    dict with ``element_cutoff`` (float) and ``element_cutoff_rule`` (the rule, the
    quantile, the gate level, the number of genes and of regions it was read from).
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    if not _is_gate_model(model) or len(np.asarray(indices)) == 0:
        return None
    s = accessible_region_scores(source, model, indices, open_gate, batch_size, progress)
    if len(s) == 0:
        return None
    return {
        "element_cutoff": round(float(np.quantile(s, quantile)), 6),
        "element_cutoff_rule": {
            "rule": "quantile of the largest mask value of each accessible region "
                    "(a run of tokens with gate >= open_gate, outside promoter and blacklist) "
                    "over the calibration genes' windows",
            "quantile": quantile, "open_gate": open_gate, "n_genes": int(len(np.asarray(indices))),
            "n_regions": int(len(s)),
        },
    }
