"""The forward pass over a window source: windows -> tensors -> model outputs.

Shared by prediction, element calling, training and evaluation: :func:`check_compatible`
(one-line errors when the inputs do not fit a model), :func:`load_batch` and
:func:`to_tensors` (numpy windows to tensors on a device), :func:`run_model` (one batch
through any model) and :func:`forward_batches` (eval mode, in batches).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import torch

from ..errors import Seq2ExpError


def to_tensors(batch: dict[str, np.ndarray], device: torch.device, signal_idx: Sequence[int] | None = None) -> dict:
    """Numpy batch from :meth:`Store.batch` -> tensors on ``device``.

    Returns ``seq`` (B, L) long, ``signals`` (B, L, k) float32 (channels ``signal_idx``
    when given), ``blacklist`` (B, L) bool, ``target`` (B,), ``features`` (B, F) or None.
    """
    sig = batch["signals"]
    if signal_idx is not None:
        sig = sig[..., list(signal_idx)]
    feats = batch["features"]
    out = {
        "seq": torch.from_numpy(np.ascontiguousarray(batch["seq"])).long().to(device),
        "signals": torch.from_numpy(np.ascontiguousarray(sig, dtype=np.float32)).to(device),
        "blacklist": torch.from_numpy(np.ascontiguousarray(batch["blacklist"])).to(device),
        "target": torch.from_numpy(batch["target"]).to(device),
        "features": torch.from_numpy(feats).to(device) if feats.shape[-1] else None,
    }
    if "contact_matrix" in batch:
        cm = np.ascontiguousarray(batch["contact_matrix"], dtype=np.float32)
        out["contact_matrix"] = torch.from_numpy(cm).to(device)
        out["contact_shift"] = torch.from_numpy(np.asarray(batch["contact_shift"])).to(device)
    return out


def signal_indices(store_signals: list[str], model_signals: list[str], source: str) -> list[int]:
    """Positions of the model's signal channels in the inputs'; error naming what is missing."""
    missing = [s for s in model_signals if s not in store_signals]
    if missing:
        raise Seq2ExpError(
            f"{source}: the model needs signal(s) {', '.join(missing)} but the inputs have "
            f"{', '.join(store_signals)}; provide them (e.g. --{missing[0]} FILE.bw)"
        )
    return [store_signals.index(s) for s in model_signals]


def check_compatible(source, cfg, where: str, needs_contact_matrix: bool = False) -> list[int]:
    """Check that a window source fits a model; return the model's signal channels in it.

    Parameters
    ----------
    source : WindowSource
        The inputs.
    cfg : ModelConfig or a baseline config
        The model's configuration.
    where : str
        What the inputs are called in the error messages (a store path, "inputs").
    needs_contact_matrix : bool
        The model's ``needs_contact_matrix`` (its Hi-C bins must then match the inputs').

    Returns
    -------
    list of int
        Positions of the model's ``signal_names`` in the source's signals.

    Raises
    ------
    Seq2ExpError
        One line naming what does not fit (window, Hi-C bins, gene features, signals).
    """
    if cfg.window_bp > source.window_bp:
        raise Seq2ExpError(
            f"{where}: the model needs {cfg.window_bp} bp windows but the inputs give "
            f"{source.window_bp} bp; preprocess with --window {cfg.window_bp}"
        )
    res = getattr(cfg, "hic_bin_bp", None)
    if needs_contact_matrix and res != source.resolution:
        raise Seq2ExpError(
            f"{where}: this model was built for {res} bp Hi-C bins but the inputs have "
            f"{source.resolution} bp; train it with --set hic_bin_bp={source.resolution} or "
            f"preprocess with --resolution {res}"
        )
    if cfg.n_gene_features and len(source.feature_names) != cfg.n_gene_features:
        raise Seq2ExpError(
            f"{where}: the model needs {cfg.n_gene_features} per-gene features "
            f"(--targets with feature columns) but the inputs have {len(source.feature_names)}"
        )
    return signal_indices(source.signal_names, list(cfg.signal_names), where)


def load_batch(source, indices, net) -> dict:
    """Stack the windows of genes ``indices`` at the model's width.

    Returns :meth:`WindowSource.batch` of ``net.cfg.window_bp``, plus ``contact_matrix``
    (B, nb, nb) and ``contact_shift`` (B,) when the model reads the Hi-C bin-by-bin matrix
    (``net.needs_contact_matrix``).
    """
    width = net.cfg.window_bp
    batch = source.batch(indices, width)
    if net.needs_contact_matrix:
        from ..store.windows import batch_contact_matrices, batch_contact_shifts

        batch["contact_matrix"] = batch_contact_matrices(source, indices)
        batch["contact_shift"] = batch_contact_shifts(source, indices, width)
    return batch


def run_model(net, batch: dict, b: dict, mask_provider=None):
    """Forward one batch through any model.

    Parameters
    ----------
    net : torch.nn.Module
        Seq2Exp or a baseline, possibly wrapped in ``DistributedDataParallel``.
    batch : dict
        The numpy batch of :func:`load_batch`.
    b : dict
        Its tensors (:func:`to_tensors`).
    mask_provider : callable, optional
        For a model that takes its mask from outside (``takes_mask``): ``(batch, b,
        bin_size) -> (B, T)`` mask (see :mod:`seq2exp_cli.training.fixed_mask`).
    """
    m = getattr(net, "module", net)  # the model inside DistributedDataParallel
    cfg = m.cfg
    extra = {}
    if m.needs_contact_matrix:
        extra = {k: b[k] for k in ("contact_matrix", "contact_shift")}
    elif m.takes_mask:
        if mask_provider is None:
            raise Seq2ExpError(
                "this model takes its mask from outside (mask_source='fixed'); give the mask "
                "source it was trained with (--mask-from RUN or --mask-from-peaks FILE)"
            )
        extra = {"mask": mask_provider(batch, b, cfg.bin_size)}
    return net(b["seq"], b["signals"], b["features"] if cfg.n_gene_features else None,
               b["blacklist"], **extra)


@torch.no_grad()
def forward_batches(source, net, device, indices: np.ndarray, batch_size: int,
                    mask_provider=None) -> Iterator[tuple[np.ndarray, object]]:
    """Run the model in eval mode over genes ``indices`` in batches; yield ``(chunk, output)``."""
    sig_idx = check_compatible(source, net.cfg, str(getattr(source, "path", "inputs")),
                               net.needs_contact_matrix)
    net.eval()
    for s in range(0, len(indices), batch_size):
        chunk = np.asarray(indices[s: s + batch_size])
        batch = load_batch(source, chunk, net)
        yield chunk, run_model(net, batch, to_tensors(batch, device, sig_idx), mask_provider)
