"""Activity-by-contact (Fulco et al., Nat.

Genet. 2019) as an element scorer, with a ridge expression baseline on the same quantities.

Per window (transcript orientation, TSS at ``L // 2``)::

    blacklisted bp: tracks other than "contact" -> 0
    candidates: DNase summits within reach_bp of the TSS, outside the promoter, up to
      n_elements of element_bp bp (:func:`.candidates.call_candidates`)
    A_e = sum over the element's bp of sqrt(DNase x H3K27ac)   (one track alone if only one)
    C_e = 10 ** contact[summit] - 1                             ("contact" channel, linear)
        | exp(5.96 - 1.024 ln(d + 1)), d = |summit - TSS| clipped at >= 5 kb   (no channel)
    ABC_e = A_e C_e / sum over the window's candidates of A C

Expression baseline (closed form): ridge regression on
``x = [log1p(promoter activity), log1p(sum A C) (use_abc_sum), scaled gene features
(use_features)]``, promoter activity being ``sum sqrt(DNase x H3K27ac)`` over the
``promoter_bp`` bp centred on the TSS.  A caller streams batches through :meth:`ABCModel.design`,
stacks the rows and calls :meth:`ABCModel.fit`; :meth:`ABCModel.forward` then applies the
fitted linear map (``self.head.out``) to the standardised design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ...contacts import abc_powerlaw
from .base import BaselineConfig, BaselineModel, BaselineOutput, ElementScores, _check
from .candidates import (
    CandidateElements,
    activity_track,
    blank_blacklisted,
    call_candidates,
    peak_track_index,
)

__all__ = ["ABCConfig", "ABCModel"]


@dataclass
class ABCConfig(BaselineConfig):
    """ABC's fields (on top of :class:`~.base.BaselineConfig`).

    ``n_elements`` candidates of ``element_bp`` bp (summit +- element_bp / 2) within
    ``reach_bp`` of the TSS, outside the ``promoter_bp`` promoter; DNase smoothed over
    ``smooth_bp`` bp, summits above ``rel_height`` times the window's maximum.  Ridge
    penalty ``ridge_lambda`` (on standardised inputs, intercept unpenalised); the design
    holds log1p(promoter activity), log1p(sum A C) if ``use_abc_sum`` and the gene features
    if ``use_features``.  ``powerlaw_min_bp`` clips the distance of the contact fallback.
    """

    model_type: ClassVar[str] = "abc"

    n_elements: int = 150
    element_bp: int = 500
    reach_bp: int = 100_000
    promoter_bp: int = 1000
    smooth_bp: int = 500
    rel_height: float = 0.05
    ridge_lambda: float = 1.0
    use_abc_sum: bool = True
    use_features: bool = True
    powerlaw_min_bp: int = 5000

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        super().validate()
        for name in ("element_bp", "promoter_bp", "reach_bp", "smooth_bp"):
            v = getattr(self, name)
            _check(isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                   f"{name} must be a positive integer, got {v!r}")
        for name in ("n_elements", "powerlaw_min_bp"):
            v = getattr(self, name)
            _check(isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                   f"{name} must be a non-negative integer, got {v!r}")
        _check(self.promoter_bp <= self.window_bp,
               f"promoter_bp ({self.promoter_bp}) exceeds window_bp ({self.window_bp})")
        _check(0.0 <= self.rel_height < 1.0,
               f"rel_height must lie in [0, 1), got {self.rel_height}")
        _check(self.ridge_lambda >= 0.0, f"ridge_lambda must be >= 0, got {self.ridge_lambda}")

    @property
    def n_design(self) -> int:
        """Columns of the ridge design matrix."""
        n_feat = self.n_gene_features if self.use_features else 0
        return 1 + int(self.use_abc_sum) + n_feat


class _LinearHead(nn.Module):
    """``self.out``: the ridge map (p -> 1)."""

    def __init__(self, p: int) -> None:
        super().__init__()
        self.out = nn.Linear(p, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(z).squeeze(-1)


@dataclass
class _Elements:
    cand: CandidateElements
    ct: dict[str, torch.Tensor]      # cand.tensors() on the signals' device
    activity: torch.Tensor           # (B, E) A, 0 for padding
    contact: torch.Tensor            # (B, E) C (linear), 0 for padding
    valid: torch.Tensor              # (B, E) bool
    promoter_activity: torch.Tensor  # (B,)


class ABCModel(BaselineModel):
    """ABC scores for candidate elements and a ridge expression baseline.

    Parameters
    ----------
    cfg : ABCConfig

    Attributes
    ----------
    head : module whose ``out`` is ``nn.Linear(p, 1)``, the ridge coefficients and intercept
        (zero until :meth:`fit`)
    x_mean, x_scale : buffers (p,), the standardisation of the design fitted on the training rows
    """

    scores_elements: ClassVar[bool] = True
    closed_form: ClassVar[bool] = True

    def __init__(self, cfg: ABCConfig) -> None:
        super().__init__(cfg)
        p = cfg.n_design
        self.head = _LinearHead(p)
        self.register_buffer("x_mean", torch.zeros(p))
        self.register_buffer("x_scale", torch.ones(p))
        self._peak = peak_track_index(cfg.signal_names)
        self._contact = cfg.signal_index("contact")

    # ------------------------------------------------------------------ elements
    def _elements(self, signals: torch.Tensor, blacklist: torch.Tensor | None) -> _Elements:
        cfg = self.cfg
        B, L = signals.shape[:2]
        dev = signals.device
        tss = L // 2
        signals = blank_blacklisted(signals, blacklist, self._contact)
        track = signals[..., self._peak] if self._peak is not None else torch.zeros(B, L, device=dev)
        cand = call_candidates(track, cfg.n_elements, cfg.element_bp, cfg.reach_bp, cfg.promoter_bp,
                               smooth_bp=cfg.smooth_bp, rel_height=cfg.rel_height)
        ct = cand.tensors(dev)
        valid = ct["valid"]
        act = activity_track(signals, cfg.signal_names)
        cs = F.pad(torch.cumsum(act.double(), dim=1), (1, 0))
        A = (cs.gather(1, ct["end"]) - cs.gather(1, ct["start"])).float() * valid
        if self._contact is not None:
            c = signals[..., self._contact].gather(1, ct["summit"].clamp(0, L - 1))
            C = torch.pow(10.0, c) - 1.0
        else:
            C = abc_powerlaw(ct["summit"] - tss, cfg.powerlaw_min_bp)
        p_lo = max(0, tss - cfg.promoter_bp // 2)
        p_hi = min(L, p_lo + cfg.promoter_bp)
        prom = (cs[:, p_hi] - cs[:, p_lo]).float()
        return _Elements(cand=cand, ct=ct, activity=A, contact=C * valid, valid=valid,
                         promoter_activity=prom)

    # ------------------------------------------------------------------ ridge
    def design(self, seq: torch.Tensor | None, signals: torch.Tensor,
               features: torch.Tensor | None, blacklist: torch.Tensor | None) -> torch.Tensor:
        """Return the (B, p) ridge design ``[log1p(promoter A), log1p(sum A C), scaled features]`` (columns as configured.

        ``seq`` is not read).
        """
        cfg = self.cfg
        el = self._elements(signals, blacklist)
        cols = [torch.log1p(el.promoter_activity.clamp_min(0))]
        if cfg.use_abc_sum:
            cols.append(torch.log1p((el.activity * el.contact).sum(1).clamp_min(0)))
        x = torch.stack(cols, dim=1)
        if cfg.use_features and cfg.n_gene_features:
            f = self.scaled_features(features, x.shape[0], x.device).to(x.dtype)
            x = torch.cat([x, f], dim=1)
        return x

    @torch.no_grad()
    def fit(self, X: torch.Tensor, y: torch.Tensor, lam: float | None = None) -> "ABCModel":
        """Ridge regression in closed form; sets ``x_mean``/``x_scale`` and ``head.out``.

        Minimises ``||y - b - Z w||^2 + lam ||w||^2`` with ``Z`` the columns of ``X``
        standardised on these rows (a constant column gets scale 1), the intercept ``b``
        unpenalised.

        Parameters
        ----------
        X : torch.Tensor, shape=(n, p)
            Stacked :meth:`design` rows.
        y : torch.Tensor, shape=(n,)
        lam : float, optional
            Penalty; ``cfg.ridge_lambda`` when None.

        Returns
        -------
        ABCModel
            ``self``.
        """
        lam = float(self.cfg.ridge_lambda if lam is None else lam)
        if lam < 0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        X = X.detach().to("cpu", torch.float64)
        y = y.detach().to("cpu", torch.float64).reshape(-1)
        n, p = X.shape
        if p != self.cfg.n_design:
            raise ValueError(f"X has {p} columns, the design has {self.cfg.n_design}")
        if n != y.shape[0] or n == 0:
            raise ValueError(f"X has {n} rows and y {y.shape[0]}; need the same, > 0")
        mean = X.mean(0)
        scale = X.std(0, correction=0)
        scale = torch.where(scale > 1e-12 * (1 + mean.abs()), scale, torch.ones_like(scale))
        Z = (X - mean) / scale
        y_bar = y.mean()
        G = Z.T @ Z + lam * torch.eye(p, dtype=torch.float64)
        w = torch.linalg.lstsq(G, Z.T @ (y - y_bar)).solution if lam == 0 else \
            torch.linalg.solve(G, Z.T @ (y - y_bar))
        dev = self.x_mean.device
        self.x_mean.copy_(mean.float().to(dev))
        self.x_scale.copy_(scale.float().to(dev))
        self.head.out.weight.copy_(w.float().reshape(1, p).to(dev))
        self.head.out.bias.fill_(float(y_bar))
        return self

    # ------------------------------------------------------------------ API
    def forward(self, seq: torch.Tensor, signals: torch.Tensor, features: torch.Tensor | None,
                blacklist: torch.Tensor | None, contact_matrix: torch.Tensor | None = None
                ) -> BaselineOutput:
        """Ridge prediction ``(B,)`` from :meth:`design`; ``contact_matrix`` is ignored."""
        return BaselineOutput(pred=self.predict_design(self.design(seq, signals, features, blacklist)))

    def predict_design(self, X: torch.Tensor) -> torch.Tensor:
        """Ridge prediction ``(B,)`` from a design matrix ``X`` (B, p) of :meth:`design`."""
        return self.head((X.to(self.x_mean.dtype) - self.x_mean) / self.x_scale)

    @torch.no_grad()
    def element_scores(self, seq, signals, features, blacklist,
                       contact_matrix=None) -> ElementScores:
        """ABC score ``A C / sum A C`` of each candidate (0 where the sum is 0 and for padding).

        Returns
        -------
        ElementScores
            ``(B, n_elements)`` each, window coordinates.
        """
        el = self._elements(signals, blacklist)
        num = el.activity * el.contact
        tot = num.sum(1, keepdim=True)
        score = torch.where(tot > 0, num / tot.clamp_min(1e-30), torch.zeros_like(num))
        return ElementScores(start=el.ct["start"], end=el.ct["end"], score=score, valid=el.valid)
