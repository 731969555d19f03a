"""The reference learning-rate schedule.

Linear warm-up from ``warmup_start_lr`` to ``lr`` over ``warmup`` steps, then a cosine decay
to ``min_lr`` at ``steps`` (method.md).
"""

from __future__ import annotations

import math


def lr_at(step: int, lr: float, steps: int, warmup: int, warmup_start_lr: float, min_lr: float) -> float:
    """Learning rate for optimiser step ``step`` (0-based)."""
    if warmup > 0 and step < warmup:
        return warmup_start_lr + (lr - warmup_start_lr) * step / warmup
    span = max(steps - warmup, 1)
    frac = min(max(step - warmup, 0) / span, 1.0)
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * frac))
