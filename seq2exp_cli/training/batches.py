"""From store windows to model tensors, in a deterministic order.

The batch drawn at optimiser step ``s`` depends only on ``(seed, s)``; a run resumed at
step ``s`` therefore sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def batch_indices(pool: np.ndarray, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Indices of the batch for ``step``: epoch-wise shuffles of ``pool`` keyed by seed.

    Each epoch is a permutation of ``pool`` drawn from ``(seed, epoch)``; step ``s`` takes
    the ``s``-th slice of the concatenated epochs.
    """
    n = len(pool)
    if n == 0:
        raise ValueError("no training genes")
    out = []
    pos = step * batch_size
    while len(out) < batch_size:
        epoch, off = divmod(pos, n)
        perm = np.random.default_rng([seed, epoch]).permutation(n)
        take = min(batch_size - len(out), n - off)
        out.extend(pool[perm[off: off + take]].tolist())
        pos += take
    return np.asarray(out, dtype=np.int64)


def to_tensors(batch: dict[str, np.ndarray], device: torch.device, signal_idx: Sequence[int] | None = None) -> dict:
    """Numpy batch from :meth:`Store.batch` -> tensors on ``device``.

    Returns ``seq`` (B, L) long, ``signals`` (B, L, k) float32 (channels ``signal_idx``
    when given), ``blacklist`` (B, L) bool, ``target`` (B,), ``features`` (B, F) or None.
    """
    sig = batch["signals"]
    if signal_idx is not None:
        sig = sig[..., list(signal_idx)]
    feats = batch["features"]
    return {
        "seq": torch.from_numpy(np.ascontiguousarray(batch["seq"])).long().to(device),
        "signals": torch.from_numpy(np.ascontiguousarray(sig, dtype=np.float32)).to(device),
        "blacklist": torch.from_numpy(np.ascontiguousarray(batch["blacklist"])).to(device),
        "target": torch.from_numpy(batch["target"]).to(device),
        "features": torch.from_numpy(feats).to(device) if feats.shape[-1] else None,
    }
