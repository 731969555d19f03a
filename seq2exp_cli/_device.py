"""Device handling in one place.

``device=None`` or ``"auto"`` means CUDA when available, else CPU.  Nothing in the package
defaults to ``"cuda"``.
"""

from __future__ import annotations

import torch

from .errors import Seq2ExpError


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Return a ``torch.device`` for ``device`` ("auto", "cpu", "cuda", "cuda:1", None)."""
    if isinstance(device, torch.device):
        return device
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise Seq2ExpError(
            f"--device {device}: no CUDA device is visible; use --device cpu or --device auto"
        )
    return dev
