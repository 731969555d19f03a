"""Training batches in a deterministic order.

The batch drawn at optimiser step ``s`` depends only on ``(seed, s)``; a run resumed at
step ``s`` therefore sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import numpy as np


def batch_indices(pool: np.ndarray, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Return the indices of the batch for ``step``: epoch-wise shuffles of ``pool`` keyed by seed.

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
