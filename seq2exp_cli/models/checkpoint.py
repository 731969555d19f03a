"""Save and load a trained Seq2Exp model: ``model.safetensors`` + ``config.json``.

Layout (``path`` a directory)::

    path/model.safetensors   weights (tied/shared tensors stored once)
    path/config.json         {"format": "seq2exp-model", "format_version": 1,
                              "model_config": {...ModelConfig...},
                              "weights_file": "model.safetensors",
                              "weights_sha256": "<hex>", "meta": {...}, versions}

``path`` may instead end in ``.safetensors``: the config then sits beside it with the same
stem and ``.json`` (``run/best.safetensors`` + ``run/best.json``).  :func:`load_model` also
takes a run folder of ``seq2exp train`` (its ``best/``, else ``last/``) and, with no path,
the model bundled with seq2exp (:func:`bundled_weights`).  Both files are written
atomically (temporary sibling, then rename); the weights first, so a config never names
weights that are not complete.  Loading verifies the weights' sha256 against the config
and raises :class:`~seq2exp_cli.errors.Seq2ExpError` on any mismatch.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import safetensors.torch
import torch

from .. import __version__
from .._device import resolve_device
from ..errors import Seq2ExpError
from ..io.atomic import atomic_path
from .config import ModelConfig
from .registry import build_model, config_from_dict, model_type_of
from .seq2exp import Seq2Exp

__all__ = ["TrainedModel", "bundled_weights", "checkpoint_paths", "find_model_dir",
           "load_model", "save_model", "sha256_file", "update_meta"]

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


class TrainedModel(NamedTuple):
    """A loaded model: the network (eval mode, on its device), its config and metadata.

    Unpacks as ``net, cfg, meta = load_model(...)``.

    Attributes
    ----------
    net : torch.nn.Module
        Seq2Exp or a baseline; it declares what it needs (``needs_contact_matrix``,
        ``scores_elements``, ``has_learned_mask``, ``takes_mask``).
    config : ModelConfig or a baseline config
        What the network was built from (``window_bp``, ``signal_names``, ...).
    meta : dict
        The metadata saved with the weights (training step, validation metrics, store).
    """

    net: torch.nn.Module
    config: Any
    meta: dict

    @property
    def device(self) -> torch.device:
        """The device the network's parameters are on."""
        for t in self.net.parameters():
            return t.device
        return torch.device("cpu")

    @property
    def model_type(self) -> str:
        """``"seq2exp"`` or the baseline's name (``"epinformer"``, ``"abc"``, ...)."""
        return model_type_of(self.config)


def bundled_weights() -> Path:
    """Find the model bundled with seq2exp: ``weights/`` in the package (wheel) or repository."""
    pkg = Path(__file__).resolve().parents[1]
    for cand in (pkg / "weights", pkg.parent / "weights"):
        if (cand / CONFIG_NAME).exists():
            return cand
    raise Seq2ExpError(
        "no bundled model found (weights/ is missing from this installation); "
        "pass --model RUN_OR_CHECKPOINT"
    )


def find_model_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the checkpoint folder of a run folder, a checkpoint folder, or (None) the bundled model.

    Raises
    ------
    Seq2ExpError
        The path does not exist or holds no ``config.json`` + ``model.safetensors`` (nor a
        run folder's ``best/`` or ``last/``).
    """
    p = Path(path) if path is not None else bundled_weights()
    if not p.exists():
        raise Seq2ExpError(f"{p}: model not found; pass a run folder or checkpoint folder")
    for cand in (p, p / "best", p / "last"):
        if (cand / CONFIG_NAME).exists() and (cand / WEIGHTS_NAME).exists():
            return cand
    raise Seq2ExpError(
        f"{p}: not a seq2exp model (expected config.json + model.safetensors, or a run "
        "folder with best/); train one with `seq2exp train`"
    )


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
    meta = _checked_meta(dict(extra_meta or {}))
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
    _write_config(config, doc)
    return config


def update_meta(path: str | os.PathLike, **items: Any) -> Path:
    """Add or replace entries of a saved checkpoint's ``meta`` (the weights are untouched).

    ``path`` as for :func:`load_model` (a run folder means its ``best/``).  The config is
    rewritten atomically.  Returns the config path.
    """
    p = Path(path)
    _, config = checkpoint_paths(p if p.suffix in (".safetensors", ".json") else find_model_dir(p))
    doc = json.loads(config.read_text())
    doc["meta"] = _checked_meta({**(doc.get("meta") or {}), **items})
    _write_config(config, doc)
    return config


def _checked_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` itself, or a Seq2ExpError when it is not JSON-serialisable."""
    try:
        json.dumps(meta)
    except TypeError as exc:
        raise Seq2ExpError(f"checkpoint metadata is not JSON-serialisable: {exc}") from exc
    return meta


def _write_config(config: Path, doc: dict[str, Any]) -> None:
    """Write a checkpoint's config JSON atomically."""
    with atomic_path(config) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def load_model(
    path: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    backend: str = "auto",
) -> TrainedModel:
    """Rebuild a saved model, verify its weights, and move it to ``device``.

    Parameters
    ----------
    path : str or PathLike, optional
        A run folder of ``seq2exp train`` (its ``best/`` is used), a checkpoint directory,
        its ``config.json``, or a ``*.safetensors`` path; None = the bundled model.
    device : str or torch.device, optional
        ``None``/"auto" = CUDA when available, else CPU.
    backend : str
        Selective-scan backend of the rebuilt model.

    Returns
    -------
    TrainedModel
        ``(net, config, meta)``; ``net`` in eval mode, on ``device``; ``meta`` is the
        ``extra_meta`` given to :func:`save_model`.

    Raises
    ------
    Seq2ExpError
        Missing or malformed files, a sha256 mismatch, or weights that do not fit the config.
    """
    p = Path(path) if path is not None else None
    if p is None or (p.is_dir() and not (p / CONFIG_NAME).exists()):
        path = find_model_dir(p)
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
    return TrainedModel(model, cfg, dict(doc.get("meta") or {}))
