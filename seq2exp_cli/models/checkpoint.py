"""Save and load a trained Seq2Exp model: ``model.safetensors`` + ``config.json``.

Layout (``path`` a directory)::

    path/model.safetensors   weights (tied/shared tensors stored once)
    path/config.json         {"format": "seq2exp-model", "format_version": 1,
                              "model_config": {...ModelConfig...},
                              "weights_file": "model.safetensors",
                              "weights_sha256": "<hex>", "meta": {...}, versions}

``path`` may instead end in ``.safetensors``: the config then sits beside it with the same
stem and ``.json`` (``run/best.safetensors`` + ``run/best.json``).  Both files are written
atomically (temporary sibling, then rename); the weights first, so a config never names
weights that are not complete.  Loading verifies the weights' sha256 against the config
and raises :class:`~seq2exp_cli.errors.Seq2ExpError` on any mismatch.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from .. import __version__
from .._device import resolve_device
from ..errors import Seq2ExpError
from ..io.atomic import atomic_path
from .config import ModelConfig
from .registry import build_model, config_from_dict, model_type_of
from .seq2exp import Seq2Exp

__all__ = ["checkpoint_paths", "load_model", "save_model", "sha256_file"]

FORMAT = "seq2exp-model"
FORMAT_VERSION = 1
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(weights_path, config_path)`` for a checkpoint directory or ``.safetensors``/``.json`` path."""
    p = Path(path)
    if p.suffix == ".safetensors":
        return p, p.with_suffix(".json")
    if p.suffix == ".json" and p.name != CONFIG_NAME:
        return p.with_suffix(".safetensors"), p
    if p.name == CONFIG_NAME:
        return p.parent / WEIGHTS_NAME, p
    return p / WEIGHTS_NAME, p / CONFIG_NAME


def save_model(
    path: str | os.PathLike,
    model: Seq2Exp,
    cfg: ModelConfig | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> Path:
    """Write a model's weights and configuration.

    Parameters
    ----------
    path : str or PathLike
        Checkpoint directory (created) or a ``*.safetensors`` file path.
    model : Seq2Exp
        The model (any device, any dtype).
    cfg : ModelConfig, optional
        Defaults to ``model.cfg``.
    extra_meta : dict, optional
        JSON-serialisable extras stored under ``"meta"`` (training step, metrics, data).

    Returns
    -------
    Path
        The config JSON path.
    """
    cfg = cfg if cfg is not None else model.cfg
    weights, config = checkpoint_paths(path)
    meta = dict(extra_meta or {})
    try:
        json.dumps(meta)
    except TypeError as exc:
        raise Seq2ExpError(f"checkpoint metadata is not JSON-serialisable: {exc}") from exc
    with atomic_path(weights) as tmp:
        safetensors.torch.save_model(model, str(tmp), metadata={"format": FORMAT})
        digest = sha256_file(tmp)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_type": model_type_of(cfg),
        "model_config": cfg.to_dict(),
        "weights_file": weights.name,
        "weights_sha256": digest,
        "meta": meta,
        "seq2exp_version": __version__,
        "torch_version": torch.__version__,
    }
    with atomic_path(config) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return config


def load_model(
    path: str | os.PathLike,
    device: str | torch.device | None = None,
    backend: str = "auto",
) -> tuple[Seq2Exp, ModelConfig, dict[str, Any]]:
    """Rebuild a saved model, verify its weights, and move it to ``device``.

    Parameters
    ----------
    path : str or PathLike
        Checkpoint directory, its ``config.json``, or a ``*.safetensors`` path.
    device : str or torch.device, optional
        ``None``/"auto" = CUDA when available, else CPU.
    backend : str
        Selective-scan backend of the rebuilt model.

    Returns
    -------
    model : Seq2Exp
        In eval mode, on ``device``.
    cfg : ModelConfig
    meta : dict
        The ``extra_meta`` given to :func:`save_model`.

    Raises
    ------
    Seq2ExpError
        Missing or malformed files, a sha256 mismatch, or weights that do not fit the config.
    """
    weights, config = checkpoint_paths(path)
    if not config.is_file():
        raise Seq2ExpError(f"{config}: model config not found (is {path} a seq2exp checkpoint?)")
    try:
        doc = json.loads(config.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise Seq2ExpError(f"{config}: cannot read model config: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise Seq2ExpError(f"{config}: not a seq2exp model config (missing format {FORMAT!r})")
    if doc.get("format_version", 0) > FORMAT_VERSION:
        raise Seq2ExpError(
            f"{config}: format_version {doc['format_version']} is newer than this seq2exp "
            f"({__version__}) reads; upgrade seq2exp"
        )
    weights = config.parent / doc.get("weights_file", weights.name)
    if not weights.is_file():
        raise Seq2ExpError(f"{weights}: weights file not found (named by {config})")
    digest = sha256_file(weights)
    if digest != doc.get("weights_sha256"):
        raise Seq2ExpError(
            f"{weights}: sha256 {digest} does not match {doc.get('weights_sha256')} recorded in "
            f"{config}; the weights were modified or are corrupt -- re-copy or retrain the model"
        )
    kind = doc.get("model_type", "seq2exp")  # checkpoints before baselines were Seq2Exp
    try:
        cfg = config_from_dict(kind, doc["model_config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Seq2ExpError(f"{config}: invalid model_config ({kind}): {exc}") from exc
    dev = resolve_device(device)
    model = build_model(cfg, backend=backend)
    try:
        safetensors.torch.load_model(model, str(weights), strict=True, device="cpu")
    except (RuntimeError, ValueError, KeyError) as exc:
        raise Seq2ExpError(f"{weights}: weights do not fit the model in {config}: {exc}") from exc
    model.to(dev).eval()
    return model, cfg, dict(doc.get("meta") or {})
