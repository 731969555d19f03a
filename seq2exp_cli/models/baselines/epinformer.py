"""EPInformer (Lin et al., Nat. Commun. 2025): a promoter token attending to candidate enhancers.

Data flow for one batch (``E = n_elements``, ``W = element_bp``, ``d = d_model``)::

    seq (B, L), signals (B, L, k), blacklist (B, L)
      blacklisted bp: sequence -> N, tracks other than "contact" -> 0
      candidates: DNase summits within reach_bp of the TSS, outside the promoter
        (:func:`.candidates.call_candidates`) -> up to E elements of W bp per window
      promoter: promoter_bp bp centred on the TSS
    each stretch, one-hot -> shared CNN (conv, max-pool, conv, global max + mean), batch
      norm over all the batch's tokens, linear -> (d,) per token
    per-token features (4): log10(1 + |distance to TSS|), sign(distance),
      log1p(mean activity sqrt(DNase x H3K27ac)), mean of the "contact" channel
      (a missing track makes its feature 0)
    token = MLP([cnn, features]) + type embedding (promoter / element)
    n_attention_layers pre-norm transformer layers over [promoter, elements]: the promoter
      attends to itself and every valid element, each element to the promoter and itself
      (padding is never a key); the promoter row of the last layer's attention (averaged
      over heads) is kept
    head: LayerNorm(promoter token) ++ scaled gene features -> Head -> pred (B,)

:meth:`EPInformer.element_scores` ranks elements by ``attention x activity x contact``,
activity in linear units (mean ``sqrt(DNase x H3K27ac)`` over the element) and contact
``10 ** c - 1`` from the mean contact channel ``c`` (ABC's power law in the distance when the
model has no "contact" track).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ...contacts import abc_powerlaw
from .base import (
    BaselineConfig,
    BaselineModel,
    BaselineOutput,
    ElementScores,
    Head,
    _check,
    one_hot,
)
from .candidates import (
    CandidateElements,
    activity_track,
    blank_blacklisted,
    call_candidates,
    gather_windows,
    peak_track_index,
)

__all__ = ["EPInformerConfig", "EPInformer", "ElementEncoder", "PromoterAttentionLayer"]

#: per-token features appended to the sequence embedding
N_TOKEN_FEATURES = 4


@dataclass
class EPInformerConfig(BaselineConfig):
    """EPInformer's fields (on top of :class:`~.base.BaselineConfig`).

    ``n_elements`` candidate elements of ``element_bp`` bp per gene, summits within
    ``reach_bp`` of the TSS and outside the ``promoter_bp`` promoter; peak calling smooths the
    DNase track over ``smooth_bp`` and keeps summits above ``rel_height`` times the window's
    maximum.  CNN: ``n_conv_filters`` filters of width ``conv_kernel``, max-pooling by
    ``first_pool`` then a second conv and a global max + mean pool.  ``n_attention_layers``
    transformer layers of width ``d_model`` with ``n_heads`` heads and a feed-forward of
    ``ff_mult * d_model``.
    """

    model_type: ClassVar[str] = "epinformer"

    n_elements: int = 60
    element_bp: int = 2000
    reach_bp: int = 100_000
    promoter_bp: int = 2000
    smooth_bp: int = 500
    rel_height: float = 0.05
    d_model: int = 64
    n_conv_filters: int = 32
    conv_kernel: int = 9
    first_pool: int = 10
    n_attention_layers: int = 3
    n_heads: int = 4
    ff_mult: int = 2

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        super().validate()
        for name in ("element_bp", "promoter_bp", "reach_bp", "smooth_bp", "d_model",
                     "n_conv_filters", "conv_kernel", "first_pool", "n_heads", "ff_mult"):
            v = getattr(self, name)
            _check(isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                   f"{name} must be a positive integer, got {v!r}")
        for name in ("n_elements", "n_attention_layers"):
            v = getattr(self, name)
            _check(isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                   f"{name} must be a non-negative integer, got {v!r}")
        _check(self.d_model % self.n_heads == 0,
               f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        _check(self.promoter_bp <= self.window_bp,
               f"promoter_bp ({self.promoter_bp}) exceeds window_bp ({self.window_bp})")
        _check(0.0 <= self.rel_height < 1.0,
               f"rel_height must lie in [0, 1), got {self.rel_height}")


class ElementEncoder(nn.Module):
    """Shared CNN for the promoter and element stretches.

    ``pool(x)``: one-hot (N, 4, W) -> conv, max-pool, GELU, conv, GELU, global max and mean
    -> (N, 2 * n_filters); the width W may differ between calls.  ``project(h)``: batch norm
    over all the tokens of a batch (promoters and elements together), then linear -> (N, d).
    The batch norm matters: on DNA, pooled filter responses vary little between stretches,
    and without it the sequence part of a token starts drowned by the token features.
    """

    def __init__(self, d_model: int, n_filters: int, kernel: int, first_pool: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(4, n_filters, kernel, padding=kernel // 2)
        self.pool1 = nn.MaxPool1d(first_pool, ceil_mode=True)
        self.conv2 = nn.Conv1d(n_filters, n_filters, 5, padding=2)
        self.norm = nn.BatchNorm1d(2 * n_filters)
        self.proj = nn.Linear(2 * n_filters, d_model)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve the element windows and pool them to ``[max, mean]`` over positions, (N, 2 * n_filters)."""
        # max-pool before the activation keeps the per-bp work to the convolution
        h = F.gelu(self.pool1(self.conv1(x)))
        h = F.gelu(self.conv2(h))
        return torch.cat([h.amax(-1), h.mean(-1)], dim=-1)

    def project(self, h: torch.Tensor) -> torch.Tensor:
        """Project the pooled element features to ``d_model``."""
        n = self.norm
        # a single token has no batch statistics: use the running ones
        batch_stats = self.training and h.shape[0] > 1
        h = F.batch_norm(h, n.running_mean, n.running_var, n.weight, n.bias,
                         training=batch_stats, momentum=n.momentum, eps=n.eps)
        return self.proj(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode element windows into ``(N, d_model)`` embeddings."""
        return self.project(self.pool(x))


class PromoterAttentionLayer(nn.Module):
    """Pre-norm transformer layer over ``[promoter, elements]`` that returns its attention.

    Parameters
    ----------
    d_model, n_heads, ff_mult : int
    dropout : float
    """

    def __init__(self, d_model: int, n_heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.o = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff_mult * d_model), nn.GELU(),
                                nn.Linear(ff_mult * d_model, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (B, T, d), ``allowed`` (B, T, T) bool (query, key) -> (x', attention (B, H, T, T)).

        Every query row of ``allowed`` must allow at least one key.
        """
        B, T, d = x.shape
        H = self.n_heads
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, H, d // H).permute(2, 0, 3, 1, 4)
        logits = q @ k.transpose(-1, -2) / math.sqrt(d // H)
        logits = logits.masked_fill(~allowed[:, None], float("-inf"))
        attn = torch.softmax(logits, dim=-1)
        h = (self.drop(attn) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.drop(self.o(h))
        x = x + self.drop(self.ff(self.norm2(x)))
        return x, attn


@dataclass
class _Pass:
    pred: torch.Tensor            # (B,)
    attention: torch.Tensor       # (B, E) promoter -> element, last layer, mean over heads
    cand: CandidateElements
    ct: dict[str, torch.Tensor]   # cand.tensors() on the input's device
    activity: torch.Tensor        # (B, E) mean sqrt(DNase x H3K27ac), linear
    contact: torch.Tensor         # (B, E) linear contact
    valid: torch.Tensor           # (B, E) bool


class EPInformer(BaselineModel):
    """EPInformer: CNN-encoded promoter and candidate elements, promoter-to-element attention.

    Parameters
    ----------
    cfg : EPInformerConfig

    Attributes
    ----------
    encoder : ElementEncoder (shared by the promoter and the elements)
    token_mlp : Linear(d + 4, d), GELU, Linear(d, d) on [CNN embedding, token features]
    type_emb : nn.Embedding(2, d)  (0 promoter, 1 element)
    layers : nn.ModuleList of PromoterAttentionLayer
    norm : nn.LayerNorm(d)
    head : Head(d + n_gene_features)
    """

    scores_elements: ClassVar[bool] = True

    def __init__(self, cfg: EPInformerConfig) -> None:
        super().__init__(cfg)
        d = cfg.d_model
        self.encoder = ElementEncoder(d, cfg.n_conv_filters, cfg.conv_kernel, cfg.first_pool)
        self.token_mlp = nn.Sequential(nn.Linear(d + N_TOKEN_FEATURES, d), nn.GELU(),
                                       nn.Linear(d, d))
        self.type_emb = nn.Embedding(2, d)
        self.layers = nn.ModuleList(
            PromoterAttentionLayer(d, cfg.n_heads, cfg.ff_mult, cfg.dropout)
            for _ in range(cfg.n_attention_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.head = Head(d + cfg.n_gene_features, cfg.head_hidden, cfg.dropout)
        self._peak = peak_track_index(cfg.signal_names)
        self._contact = cfg.signal_index("contact")

    # ------------------------------------------------------------------ pieces
    def candidates(self, signals: torch.Tensor,
                   blacklist: torch.Tensor | None) -> CandidateElements:
        """Return the candidate elements of each window (see :func:`.candidates.call_candidates`)."""
        cfg = self.cfg
        B, L = signals.shape[:2]
        if self._peak is None:
            track = torch.zeros(B, L)
        else:
            track = signals[..., self._peak]
        return call_candidates(track, cfg.n_elements, cfg.element_bp, cfg.reach_bp, cfg.promoter_bp,
                               smooth_bp=cfg.smooth_bp, rel_height=cfg.rel_height,
                               blacklist=blacklist)

    @staticmethod
    def attention_mask(valid: torch.Tensor) -> torch.Tensor:
        """(B, 1 + E, 1 + E) allowed (query, key) pairs: the promoter (token 0) attends to itself and every valid element.

        An element attends to the promoter and itself only (as in the reference
        implementation).
        """
        B, E = valid.shape
        key_ok = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=valid.device), valid], 1)
        allowed = torch.eye(E + 1, dtype=torch.bool, device=valid.device).expand(B, -1, -1).clone()
        allowed[:, :, 0] = True
        allowed[:, 0, :] = key_ok
        return allowed

    @staticmethod
    def _span_means(cs: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
        """Means over ``[start, end)`` (B, E) of the tracks whose cumulative sums (with a leading 0) are ``cs`` (B, L + 1, k) -> (B, E, k).

        0 for empty spans.
        """
        k = cs.shape[-1]
        tot = (cs.gather(1, end[..., None].expand(-1, -1, k))
               - cs.gather(1, start[..., None].expand(-1, -1, k)))
        n = (end - start).clamp_min(1)[..., None]
        return (tot / n).float()

    @staticmethod
    def _token_features(means: torch.Tensor, centre: torch.Tensor, tss: int) -> torch.Tensor:
        """(B, E, 4) token features from span means (B, E, 2) of activity and contact."""
        dist = (centre - tss).float()
        return torch.stack([torch.log10(1 + dist.abs()), torch.sign(dist),
                            torch.log1p(means[..., 0]), means[..., 1]], -1)

    def _run(self, seq, signals, features, blacklist) -> _Pass:
        cfg = self.cfg
        B, L = seq.shape
        dev = seq.device
        tss = L // 2
        if blacklist is not None:  # blacklisted bp: sequence N, tracks 0 (not the TSS contact)
            seq = seq.masked_fill(blacklist.bool(), 4)
        signals = blank_blacklisted(signals, blacklist, self._contact)
        cand = self.candidates(signals, None)
        ct = cand.tensors(dev)
        valid = ct["valid"]
        act = activity_track(signals, cfg.signal_names)
        con = signals[..., self._contact] if self._contact is not None else torch.zeros_like(act)
        cs = F.pad(torch.cumsum(torch.stack([act, con], -1).double(), dim=1), (0, 0, 1, 0))

        # promoter token
        p_lo = max(0, tss - cfg.promoter_bp // 2)
        p_hi = min(L, p_lo + cfg.promoter_bp)
        p_start = torch.full((B, 1), p_lo, dtype=torch.long, device=dev)
        p_end = torch.full((B, 1), p_hi, dtype=torch.long, device=dev)
        p_feat = self._token_features(self._span_means(cs, p_start, p_end),
                                      torch.full((B, 1), tss, device=dev), tss)
        pooled = [self.encoder.pool(one_hot(seq[:, p_lo:p_hi]))]

        # element tokens (only the valid ones go through the CNN)
        E = cfg.n_elements
        e_means = self._span_means(cs, ct["start"], ct["end"])
        e_feat = self._token_features(e_means, ct["summit"], tss)
        n_valid = int(valid.sum())
        if n_valid:
            e_seq = gather_windows(seq, ct["summit"], cfg.element_bp, pad_value=4)[valid]
            pooled.append(self.encoder.pool(one_hot(e_seq)))
        enc = self.encoder.project(torch.cat(pooled, dim=0))
        p_tok = self.token_mlp(torch.cat([enc[:B], p_feat[:, 0]], -1)) + self.type_emb.weight[0]
        e_tok = torch.zeros(B, E, cfg.d_model, device=dev, dtype=enc.dtype)
        if n_valid:
            e_tok = e_tok.index_put((valid,), enc[B:])
        e_tok = self.token_mlp(torch.cat([e_tok, e_feat], -1)) + self.type_emb.weight[1]

        x = torch.cat([p_tok[:, None], e_tok], dim=1)
        allowed = self.attention_mask(valid)
        attn = torch.zeros(B, 1, E + 1, E + 1, device=dev)
        for layer in self.layers:
            x, attn = layer(x, allowed)
        prom = self.norm(x[:, 0])
        f = self.scaled_features(features, B, dev)
        pred = self.head(torch.cat([prom, f.to(prom.dtype)], dim=-1))

        if self._contact is not None:
            contact = torch.pow(10.0, e_means[..., 1]) - 1.0
        else:
            contact = abc_powerlaw(ct["summit"] - tss)
        return _Pass(pred=pred, attention=attn.mean(1)[:, 0, 1:], cand=cand, ct=ct,
                     activity=e_means[..., 0], contact=contact * valid, valid=valid)

    # ------------------------------------------------------------------ API
    def forward(self, seq: torch.Tensor, signals: torch.Tensor, features: torch.Tensor | None,
                blacklist: torch.Tensor | None, contact_matrix: torch.Tensor | None = None
                ) -> BaselineOutput:
        """Predict expression ``(B,)``; ``contact_matrix`` is ignored."""
        return BaselineOutput(pred=self._run(seq, signals, features, blacklist).pred)

    @torch.no_grad()
    def element_scores(self, seq, signals, features, blacklist,
                       contact_matrix=None) -> ElementScores:
        """Score = promoter attention (last layer, mean over heads) x activity x contact.

        Uses the module's current mode: call ``model.eval()`` first for running batch-norm
        statistics and no dropout.

        Returns
        -------
        ElementScores
            ``(B, n_elements)`` each; padding has score 0 and ``valid`` False.
        """
        r = self._run(seq, signals, features, blacklist)
        score = (r.attention * r.activity * r.contact).masked_fill(~r.valid, 0.0)
        return ElementScores(start=r.ct["start"], end=r.ct["end"], score=score.float(),
                             valid=r.valid)
