"""Fixed masks for Table 2's retrained predictors (``seq2exp train --mask-from``).

A model with ``mask_source="fixed"`` gets its mask from one of these providers instead of
a generator of its own:

- :class:`GeneratorTopK`: the top fraction of tokens of a frozen, trained Seq2Exp
  generator's Beta-mean mask ("Seq2Exp-retrain").
- :class:`PeakTopK`: tokens covered by peaks (MACS3 narrowPeak or any BED), ranked by peak
  score and cut at the same top fraction: the peak-calling baseline at matched sparsity.

Both return a ``(B, T)`` float tensor of 0/1 per token (the promoter span and the
blacklist are forced by the model itself).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch

from ..errors import Seq2ExpError


def top_fraction_mask(scores: torch.Tensor, top: float) -> torch.Tensor:
    """1 for the ``ceil(top * T)`` highest-scoring tokens of each row with score > 0.

    ``scores: (B, T)`` -> ``(B, T)`` float32 of 0/1.  Ties are broken by position (stable).
    """
    B, T = scores.shape
    k = max(1, int(np.ceil(top * T)))
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]
    out = torch.zeros(B, T, dtype=torch.float32, device=scores.device)
    out.scatter_(1, order, 1.0)
    return out * (scores > 0).float()


class GeneratorTopK:
    """Top ``top`` fraction of a trained model's generator mask, per window.

    Parameters
    ----------
    model_dir:
        Run or checkpoint folder of a Seq2Exp model with a learned mask.
    top:
        Fraction of tokens kept (the paper: 0.10).
    store_signals:
        The store's signal names (to pick the generator's channels).
    """

    def __init__(self, model_dir: str | os.PathLike, top: float, store_signals: list[str], device):
        from ..inference.forward import signal_indices
        from ..models.checkpoint import load_model

        self.net, self.cfg, _ = load_model(model_dir, device=device)
        if self.cfg.mask_source != "learned":
            raise Seq2ExpError(f"--mask-from {model_dir}: that model has no learned mask")
        self.top = float(top)
        self.idx = signal_indices(store_signals, list(self.cfg.signal_names), str(model_dir))
        self.source = {"kind": "generator", "model": str(model_dir), "top": self.top}

    def __call__(self, batch: dict, tensors: dict, bin_size: int) -> torch.Tensor:
        """Return the ``(B, T)`` 0/1 token mask of a batch (``tensors`` on the model's device)."""
        if bin_size != self.cfg.bin_size:
            raise Seq2ExpError(
                f"--mask-from model uses bin_size {self.cfg.bin_size}, the new model "
                f"{bin_size}; use the same --preset"
            )
        sig = torch.from_numpy(np.ascontiguousarray(batch["signals"][..., self.idx]))
        sig = sig.to(tensors["seq"].device)
        with torch.no_grad():
            m = self.net.generate_mask(tensors["seq"], sig, tensors["blacklist"])
        return top_fraction_mask(m, self.top)


class PeakTopK:
    """Peaks as a token mask at matched sparsity.

    Parameters
    ----------
    peaks:
        DataFrame with chrom, start, end and a score column (``signalValue`` when present,
        else ``score``, else 1).
    top:
        Fraction of tokens kept at most; peak tokens are ranked by peak score.
    """

    def __init__(self, peaks: pd.DataFrame, top: float):
        col = next((c for c in ("signalValue", "score") if c in peaks.columns
                    and (pd.to_numeric(peaks[c], errors="coerce") > 0).any()), None)
        sc = pd.to_numeric(peaks[col], errors="coerce").to_numpy(float) if col else np.ones(len(peaks))
        sc = np.where(np.isfinite(sc) & (sc > 0), sc, 1.0)
        self.top = float(top)
        self.by_chrom: dict[str, np.ndarray] = {}
        for chrom, sub in peaks.assign(_s=sc).groupby("chrom"):
            self.by_chrom[str(chrom)] = sub[["start", "end", "_s"]].to_numpy(dtype=np.float64)
        self.source = {"kind": "peaks", "n_peaks": int(len(peaks)), "top": self.top}

    def token_scores(self, chrom: str, start: int, length: int, bin_size: int, flipped: bool) -> np.ndarray:
        """Per-token maximum peak score over a window, shape=(length // bin_size,)."""
        bp = np.zeros(length, dtype=np.float32)
        iv = self.by_chrom.get(chrom)
        if iv is not None:
            hit = (iv[:, 1] > start) & (iv[:, 0] < start + length)
            for s, e, v in iv[hit]:
                a, b = int(max(s, start)) - start, int(min(e, start + length)) - start
                np.maximum(bp[a:b], v, out=bp[a:b])
        if flipped:
            bp = bp[::-1]
        return bp.reshape(-1, bin_size).max(1)

    def __call__(self, batch: dict, tensors: dict, bin_size: int) -> torch.Tensor:
        """Return the ``(B, T)`` 0/1 token mask of a batch (``tensors`` on the model's device)."""
        L = tensors["seq"].shape[1]
        # the model's window may be shorter than the store's: centred on the TSS like it
        rows = [self.token_scores(c, int(s), L, bin_size, bool(f))
                for c, s, f in zip(batch["chrom"], batch["start"], batch["flipped"])]
        scores = torch.from_numpy(np.stack(rows)).to(tensors["seq"].device)
        return top_fraction_mask(scores, self.top)
