"""What every baseline model shares: its configuration fields, its output and its loss.

A baseline is an ``nn.Module`` called like :class:`~seq2exp_cli.models.seq2exp.Seq2Exp`::

    out = model(seq, signals, features, blacklist, contact_matrix=None)

with ``seq`` (B, L) long codes (A C G T N = 0..4, transcript orientation, TSS at L // 2),
``signals`` (B, L, k) float32 in ``cfg.signal_names`` order (the last one is the per-bp
TSS contact ``log10(1 + contact)``), ``features`` (B, F) or None, ``blacklist`` (B, L) bool,
and ``contact_matrix`` (B, nb, nb) ``log10(1 + contact)`` between the window's Hi-C bins
(only the models whose ``needs_contact_matrix`` is True read it).  It returns a
:class:`BaselineOutput`; :meth:`BaselineModel.loss` gives ``(total, parts)`` as Seq2Exp's does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...errors import Seq2ExpError


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


@dataclass
class BaselineConfig:
    """Fields every baseline has (subclasses add their own, all flat and JSON-safe).

    ``window_bp`` and ``bin_size`` are bp; ``signal_names`` the tracks read, in order;
    ``n_gene_features`` per-gene features concatenated before the head, standardised by
    ``feature_mean``/``feature_scale`` (set by ``seq2exp train``); ``loss`` "smooth_l1",
    "huber" or "mse"; ``track_scales`` the divisor of each of ``signal_names`` on the
    training data (recorded by ``seq2exp train``; 1 for the contact).
    """

    model_type: ClassVar[str] = "baseline"
    #: baselines never take a mask from outside
    mask_source: ClassVar[str] = "none"

    window_bp: int = 200_000
    bin_size: int = 100
    signal_names: tuple[str, ...] = ("h3k27ac", "dnase", "contact")
    n_gene_features: int = 0
    feature_mean: tuple[float, ...] = ()
    feature_scale: tuple[float, ...] = ()
    track_scales: tuple[float, ...] = ()
    head_hidden: int = 64
    dropout: float = 0.1
    loss: str = "smooth_l1"

    def __post_init__(self) -> None:
        """Normalise the field types, then :meth:`validate`."""
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, list):
                setattr(self, f.name, tuple(v))
        self.feature_mean = tuple(float(v) for v in self.feature_mean)
        self.feature_scale = tuple(float(v) for v in self.feature_scale)
        self.track_scales = tuple(float(v) for v in self.track_scales)
        self.validate()

    @property
    def n_signals(self) -> int:
        """Return the number of signal tracks."""
        return len(self.signal_names)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        for name in ("window_bp", "bin_size", "head_hidden"):
            v = getattr(self, name)
            _check(isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                   f"{name} must be a positive integer, got {v!r}")
        _check(self.window_bp % self.bin_size == 0,
               f"window_bp ({self.window_bp}) must be divisible by bin_size ({self.bin_size})")
        _check(self.n_gene_features >= 0, f"n_gene_features must be >= 0, got {self.n_gene_features}")
        _check(len(set(self.signal_names)) == len(self.signal_names),
               f"signal_names repeat a name: {self.signal_names}")
        _check(0.0 <= self.dropout < 1.0, f"dropout must lie in [0, 1), got {self.dropout}")
        _check(self.loss in ("smooth_l1", "huber", "mse"),
               f"loss must be smooth_l1, huber or mse, got {self.loss!r}")

    def mark_indices(self, use_contact_track: bool = False) -> list[int]:
        """Channels of the signals other than the per-bp "contact" (all with ``use_contact_track``).

        The tracks the sequence-free models read.
        """
        return [i for i, n in enumerate(self.signal_names) if use_contact_track or n != "contact"]

    def signal_index(self, name: str) -> int | None:
        """Channel of track ``name`` in the model's signals, or None."""
        return self.signal_names.index(name) if name in self.signal_names else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (tuples become lists), as :class:`ModelConfig`'s."""
        from ..config import _to_dict

        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        from ..config import _from_dict

        return _from_dict(cls, d)


@dataclass
class BaselineOutput:
    """``pred`` (B,) expression.

    ``aux`` an extra differentiable loss term (a VAE's KL, say) with weight ``aux_weight``;
    ``mask_ratio`` NaN (baselines select nothing).
    """

    pred: torch.Tensor
    aux: torch.Tensor | None = None
    aux_weight: float = 0.0
    mask_ratio: float = math.nan


@dataclass
class ElementScores:
    """Candidate elements a model scores per gene, in window coordinates (transcript orientation, bp from the window's first base).

    ``start``/``end`` (B, E) long, ``score`` (B, E) float, ``valid`` (B, E) bool (padding is
    False).
    """

    start: torch.Tensor
    end: torch.Tensor
    score: torch.Tensor
    valid: torch.Tensor


class BaselineModel(nn.Module):
    """Base class: feature standardisation, the expression head's bias and the loss."""

    needs_contact_matrix: ClassVar[bool] = False
    #: True for models that score candidate elements (:meth:`element_scores`)
    scores_elements: ClassVar[bool] = False
    #: True for models fitted in closed form (``fit``) rather than by gradient steps
    closed_form: ClassVar[bool] = False
    #: no baseline has a mask of its own or takes one from outside (Seq2Exp's properties)
    has_learned_mask: ClassVar[bool] = False
    takes_mask: ClassVar[bool] = False

    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        self.cfg = cfg
        F_ = cfg.n_gene_features
        mean = torch.tensor(cfg.feature_mean or [0.0] * F_, dtype=torch.float32)
        scale = torch.tensor(cfg.feature_scale or [1.0] * F_, dtype=torch.float32)
        self.register_buffer("feature_mean", mean, persistent=False)
        self.register_buffer("feature_scale", scale, persistent=False)

    def scaled_features(self, features: torch.Tensor | None, batch: int, device) -> torch.Tensor:
        """``(B, F)`` standardised features (``(B, 0)`` when the model uses none)."""
        if not self.cfg.n_gene_features:
            return torch.zeros(batch, 0, device=device)
        if features is None:
            raise ValueError(f"{type(self).__name__} needs {self.cfg.n_gene_features} gene features")
        f = features.float()
        return (f - self.feature_mean.to(f.device)) / self.feature_scale.to(f.device)

    def output_bias(self) -> torch.Tensor:
        """Return the bias of the last layer of the expression head (set to the training mean before training).

        Subclasses whose head is not ``self.head.out`` override this.
        """
        return self.head.out.bias

    def loss(self, out: BaselineOutput, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(loss, parts)``: the task loss (plus the weighted auxiliary term) and its parts."""
        y = y.to(out.pred.dtype).reshape(out.pred.shape)
        if self.cfg.loss == "mse":
            task = F.mse_loss(out.pred, y)
        elif self.cfg.loss == "huber":
            task = F.huber_loss(out.pred, y)
        else:
            task = F.smooth_l1_loss(out.pred, y)
        total = task
        parts = {"task": float(task.detach())}
        if out.aux is not None and out.aux_weight:
            total = task + out.aux_weight * out.aux
            parts["aux"] = float(out.aux.detach())
        parts["loss"] = float(total.detach())
        parts["mse"] = float(F.mse_loss(out.pred.detach(), y))
        return total, parts

    def element_scores(self, seq, signals, features, blacklist, contact_matrix=None) -> ElementScores:
        """Scores of candidate elements.

        Only models with ``scores_elements`` have them (they override this), the others
        raise :class:`~seq2exp_cli.errors.Seq2ExpError`.
        """
        raise no_elements_error(self.cfg.model_type)


def no_elements_error(model_type: str) -> Seq2ExpError:
    """Return the one-line error for asking a model that scores no elements for them."""
    return Seq2ExpError(f"{model_type} predicts expression only and scores no elements; "
                        "call elements with a Seq2Exp, epinformer or abc model")


class Head(nn.Module):
    """MLP ``in -> hidden -> hidden -> 1`` with GELU and dropout; last layer ``self.out``."""

    def __init__(self, d_in: int, hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(d_in, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout),
        )
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(B,)`` expression from ``(B, d_in)`` features."""
        return self.out(self.body(x)).squeeze(-1)


def one_hot(seq: torch.Tensor) -> torch.Tensor:
    """(B, L) codes -> (B, 4, L) float one-hot; N (code 4) is all zeros."""
    oh = F.one_hot(seq.long().clamp(0, 4), 5)[..., :4]
    return oh.permute(0, 2, 1).float()


def bin_tracks(signals: torch.Tensor, bin_size: int) -> torch.Tensor:
    """(B, L, k) per-bp -> (B, k, L // bin_size) means per bin."""
    B, L, k = signals.shape
    return signals[:, : L - L % bin_size].reshape(B, L // bin_size, bin_size, k).mean(2).permute(0, 2, 1)
