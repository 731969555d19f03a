"""Training checkpoints.

Weights (safetensors) + config (JSON) + optimiser, scheduler position and RNG states,
written atomically so a run killed at any moment resumes from its last complete checkpoint.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..io.atomic import atomic_dir, atomic_path

STATE_FILE = "train_state.pt"


def rng_state() -> dict:
    """Return the states of torch's, numpy's and Python's random generators (and CUDA's)."""
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore the random generators from :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, model, cfg, optimizer, step: int, extra: dict) -> None:
    """Write a complete checkpoint directory at ``path`` atomically."""
    from ..models.checkpoint import save_model

    with atomic_dir(path, overwrite=True) as tmp:
        save_model(tmp, model, cfg, {"step": step, **extra})
        torch.save(
            {"step": step, "optimizer": optimizer.state_dict(), "rng": rng_state(), "extra": extra},
            tmp / STATE_FILE,
        )


def find_checkpoint(path: Path) -> Path | None:
    """``path`` if complete, else the previous copy left by an interrupted replace."""
    if (path / STATE_FILE).exists():
        return path
    old = path.with_name(f".{path.name}.old")
    if (old / STATE_FILE).exists():
        return old
    return None


def load_train_state(path: Path) -> dict:
    """Load a checkpoint's optimiser, step and RNG state (``train_state.pt``)."""
    return torch.load(path / STATE_FILE, map_location="cpu", weights_only=False)


def append_tsv(path: Path, row: dict) -> None:
    """Append one row to a TSV, writing the header first if the file is new."""
    new = not path.exists()
    with open(path, "a") as fh:
        if new:
            fh.write("\t".join(row) + "\n")
        fh.write("\t".join(_fmt(v) for v in row.values()) + "\n")


def truncate_tsv(path: Path, max_step: int) -> None:
    """Drop rows whose ``step`` exceeds ``max_step`` (written after the last checkpoint)."""
    if not path.exists():
        return
    lines = path.read_text().splitlines()
    if not lines:
        return
    head, rows = lines[0], lines[1:]
    col = head.split("\t").index("step")
    keep = [r for r in rows if int(r.split("\t")[col]) <= max_step]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join([head, *keep]) + "\n")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
