"""EpiExpr-1D and EpiExpr-3D (Bhattacharyya & Ay).

Expression from epigenomic tracks, and from tracks plus Hi-C, without the DNA sequence.

EpiExpr-1D::

    signals (B, L, k) -> blacklisted bp set to 0 -> 100 bp bin means of the chosen tracks
      -> log1p -> linear projection to ``channels`` (1x1 conv)        (B, C, L / bin_size)
      -> ``n_res_blocks`` residual blocks (norm, GELU, dilated conv, norm, GELU, conv)
      -> pooling (mean or max) to window-aligned ``hic_bin_bp`` bins  (B, C, L / hic_bin_bp)
      -> the ``n_center_bins`` bins around the TSS (position L // 2), flattened,
         + standardised gene features -> Head -> expression (B,)

EpiExpr-3D: the same encoder; its 100 bp bins are pooled into the contact matrix's
genome-aligned Hi-C bins (nodes), ``graph_layers`` GATv2 layers run over the nodes with
the Hi-C contact as an edge feature and an attention bias, and the node holding the TSS
goes to the head.

How window positions map to the matrix's bins
---------------------------------------------
``contact_matrix`` (B, nb, nb) is :func:`seq2exp_cli.store.windows.batch_contact_matrices`:
``log10(1 + contact)`` between *genome-aligned* bins (bin 0 holds the first base of the
store's window), so a bin boundary lies at no fixed window offset.  The 3-D model is
therefore also given ``contact_shift`` (B,) from
:func:`seq2exp_cli.store.windows.batch_contact_shifts` (same ``orient`` and window width):
window position ``q`` lies in matrix bin ``(q + shift) // hic_bin_bp``.  Each 100 bp bin
``[i * bin_size, (i + 1) * bin_size)`` contributes to every node it overlaps in proportion
to the overlap (a bin straddling a boundary is split by bp), a node's features are the
overlap-weighted mean, and nodes that no window position reaches (outside a narrower
window, or padding) are left out of the graph.  The TSS node is the one holding window
position ``L // 2``.  (In transcript orientation a minus-strand window holds genome
``[tss - W/2, tss + W/2)`` reversed, so ``L // 2`` is the genome base ``tss - 1``: for the
one in ``hic_bin_bp`` minus-strand genes whose TSS is the first base of a Hi-C bin, the TSS
node is the neighbouring bin.)

Departures from the paper: the expression target is the gene's value (not CAGE at every
5 kb bin of a large region); the graph covers the window's bins with all in-chromosome
pairs as edges (optionally only pairs above ``contact_threshold``), not called loops;
``graph_heads`` defaults to 4 (paper 8) to stay cheap on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import BaselineConfig, BaselineModel, BaselineOutput, Head, _check, bin_tracks

__all__ = ["EpiExprConfig", "EpiExpr3DConfig", "EpiExpr1D", "EpiExpr3D", "GATv2Layer"]


@dataclass
class EpiExprConfig(BaselineConfig):
    """EpiExpr-1D.

    ``channels`` width of the encoder; ``n_res_blocks`` residual blocks of two convolutions
    of ``kernel_size`` (odd), the first dilated by ``dilation_growth ** i`` (capped at
    ``max_dilation``; ``dilation_growth = 1`` gives an undilated CNN); ``hic_bin_bp`` the
    down-sampled (Hi-C) bin size (bp, a multiple of ``bin_size``); ``n_center_bins`` bins
    around the TSS read by the head; ``pool`` "mean" or "max"; ``use_contact_track`` also
    feeds the per-bp Hi-C ``contact`` channel as a track (off: the tracks are the
    epigenomic ones, as in the paper).
    """

    model_type: ClassVar[str] = "epiexpr-1d"

    channels: int = 32
    n_res_blocks: int = 4
    kernel_size: int = 5
    dilation_growth: int = 2
    max_dilation: int = 16
    hic_bin_bp: int = 5000
    n_center_bins: int = 2
    pool: str = "mean"
    use_contact_track: bool = False
    loss: str = "huber"

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        super().validate()
        for name in ("channels", "kernel_size", "dilation_growth", "max_dilation",
                     "hic_bin_bp", "n_center_bins"):
            v = getattr(self, name)
            _check(isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                   f"{name} must be a positive integer, got {v!r}")
        _check(isinstance(self.n_res_blocks, int) and self.n_res_blocks >= 0,
               f"n_res_blocks must be an integer >= 0, got {self.n_res_blocks!r}")
        _check(self.kernel_size % 2 == 1, f"kernel_size must be odd, got {self.kernel_size}")
        _check(self.hic_bin_bp % self.bin_size == 0,
               f"hic_bin_bp ({self.hic_bin_bp}) must be a multiple of bin_size ({self.bin_size})")
        _check(self.window_bp % self.hic_bin_bp == 0,
               f"window_bp ({self.window_bp}) must be a multiple of hic_bin_bp ({self.hic_bin_bp})")
        _check(self.n_center_bins <= self.window_bp // self.hic_bin_bp,
               f"n_center_bins ({self.n_center_bins}) exceeds the window's "
               f"{self.window_bp // self.hic_bin_bp} bins of {self.hic_bin_bp} bp")
        _check(self.pool in ("mean", "max"), f"pool must be mean or max, got {self.pool!r}")
        _check(len(self.track_indices()) > 0,
               f"no tracks to read among signal_names {self.signal_names} "
               "(the contact channel is used only with use_contact_track)")

    def track_indices(self) -> list[int]:
        """Channels of ``signals`` the encoder reads."""
        return self.mark_indices(self.use_contact_track)


@dataclass
class EpiExpr3DConfig(EpiExprConfig):
    """EpiExpr-3D.

    :class:`EpiExprConfig` plus ``graph_layers`` GATv2 layers of ``graph_heads`` heads
    (``channels`` divisible by it) over the Hi-C bins.  Edges join every pair of in-window,
    in-chromosome bins whose contact, relative to the matrix's largest, exceeds
    ``contact_threshold`` (0: every pair with any contact), plus self loops.
    """

    model_type: ClassVar[str] = "epiexpr-3d"

    graph_layers: int = 2
    graph_heads: int = 4
    contact_threshold: float = 0.0

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        super().validate()
        _check(isinstance(self.graph_layers, int) and self.graph_layers >= 0,
               f"graph_layers must be an integer >= 0, got {self.graph_layers!r}")
        _check(isinstance(self.graph_heads, int) and self.graph_heads >= 1,
               f"graph_heads must be a positive integer, got {self.graph_heads!r}")
        _check(self.channels % self.graph_heads == 0,
               f"channels ({self.channels}) must be divisible by graph_heads ({self.graph_heads})")
        _check(0.0 <= self.contact_threshold < 1.0,
               f"contact_threshold must lie in [0, 1), got {self.contact_threshold}")


class ResBlock(nn.Module):
    """``x + conv(GELU(norm(dilated_conv(GELU(norm(x))))))`` on (B, C, T)."""

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float) -> None:
        super().__init__()
        pad = dilation * (kernel_size - 1) // 2
        self.norm1 = nn.GroupNorm(1, channels)
        self.conv1 = nn.Conv1d(channels, channels, kernel_size, padding=pad, dilation=dilation)
        self.norm2 = nn.GroupNorm(1, channels)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.gelu(self.norm1(x)))
        h = self.conv2(self.drop(F.gelu(self.norm2(h))))
        return x + h


def _track_input(signals: torch.Tensor, blacklist: torch.Tensor | None, idx: list[int],
                 bin_size: int) -> torch.Tensor:
    """(B, L, k) per-bp signals -> (B, len(idx), L // bin_size) log1p of bin means, with blacklisted bp counted as 0 (negative means, impossible for valid tracks, clipped)."""
    x = signals.float()
    if blacklist is not None:
        bl = blacklist.to(torch.bool)
        if bool(bl.any()):
            x = x.masked_fill(bl[..., None], 0.0)
    return torch.log1p(bin_tracks(x, bin_size)[:, idx].clamp_min(0.0))


class EpiExpr1D(BaselineModel):
    """EpiExpr-1D: residual CNN over binned tracks, pooled to Hi-C bins, TSS bins -> head."""

    def __init__(self, cfg: EpiExprConfig) -> None:
        super().__init__(cfg)
        self.track_idx = cfg.track_indices()
        C = cfg.channels
        self.proj = nn.Conv1d(len(self.track_idx), C, 1)
        self.blocks = nn.ModuleList(
            ResBlock(C, cfg.kernel_size, min(cfg.dilation_growth ** i, cfg.max_dilation),
                     cfg.dropout)
            for i in range(cfg.n_res_blocks)
        )
        self.out_norm = nn.GroupNorm(1, C)
        self.head = Head(self._readout_dim() + cfg.n_gene_features, cfg.head_hidden, cfg.dropout)

    def _readout_dim(self) -> int:
        return self.cfg.channels * self.cfg.n_center_bins

    def _check_signals(self, signals: torch.Tensor) -> None:
        cfg = self.cfg
        if signals.ndim != 3 or signals.shape[-1] != cfg.n_signals:
            raise ValueError(f"{type(self).__name__}: signals must be (B, L, {cfg.n_signals}) "
                             f"for {cfg.signal_names}, got {tuple(signals.shape)}")
        if signals.shape[1] % cfg.hic_bin_bp:
            raise ValueError(f"{type(self).__name__}: window length {signals.shape[1]} bp is not "
                             f"a multiple of hic_bin_bp ({cfg.hic_bin_bp})")

    def encode(self, signals: torch.Tensor, blacklist: torch.Tensor | None) -> torch.Tensor:
        """(B, L, k) signals -> (B, C, L // bin_size) encoder features."""
        h = self.proj(_track_input(signals, blacklist, self.track_idx, self.cfg.bin_size))
        for blk in self.blocks:
            h = blk(h)
        return F.gelu(self.out_norm(h))

    def forward(self, seq, signals: torch.Tensor, features: torch.Tensor | None = None,
                blacklist: torch.Tensor | None = None, contact_matrix=None,
                **_: object) -> BaselineOutput:
        """Predict expression for a batch of windows: ``seq`` (B, L), ``signals`` (B, L, k)."""
        self._check_signals(signals)
        cfg = self.cfg
        B, L, _ = signals.shape
        h = self.encode(signals, blacklist)
        k = cfg.hic_bin_bp // cfg.bin_size
        pooled = F.avg_pool1d(h, k) if cfg.pool == "mean" else F.max_pool1d(h, k)
        c = (L // 2) // cfg.hic_bin_bp  # the bin holding the TSS
        lo = min(max(c - cfg.n_center_bins // 2, 0), pooled.shape[-1] - cfg.n_center_bins)
        z = pooled[:, :, lo:lo + cfg.n_center_bins].reshape(B, -1)
        z = torch.cat([z, self.scaled_features(features, B, signals.device)], dim=1)
        return BaselineOutput(pred=self.head(z))


class GATv2Layer(nn.Module):
    """One pre-norm residual GATv2 layer (Brody et al. 2022) on dense graphs, then an MLP.

    For target node ``i`` and source node ``j``, head ``h``::

        e_ij = a_h . LeakyReLU_0.2(W_dst x_i + W_src x_j + W_edge f_ij) + b_h * r_ij
        alpha_ij = softmax_j over the edges of i;  out_i = sum_j alpha_ij W_src x_j

    with edge features ``f_ij = (r_ij, 1 + log10(r_ij + 1e-3) / 3)``, ``r`` the contact
    relative to the matrix's largest entry: the contact enters both inside the GATv2
    nonlinearity (as in PyG's ``GATv2Conv(edge_dim=...)``) and as a learned per-head
    attention bias ``b_h``, initialised to ``contact_bias`` (a prior that strongly
    contacted bins matter more; training moves it).
    """

    def __init__(self, channels: int, heads: int, dropout: float = 0.0,
                 contact_bias: float = 3.0) -> None:
        super().__init__()
        self.heads, self.dim = heads, channels // heads
        self.norm = nn.LayerNorm(channels)
        self.w_src = nn.Linear(channels, channels)
        self.w_dst = nn.Linear(channels, channels, bias=False)
        self.w_edge = nn.Linear(2, channels, bias=False)
        self.att = nn.Parameter(torch.randn(heads, self.dim) / self.dim ** 0.5)
        self.edge_bias = nn.Parameter(torch.full((heads,), float(contact_bias)))
        self.out = nn.Linear(channels, channels)
        self.drop = nn.Dropout(dropout)
        self.ffn = nn.Sequential(nn.LayerNorm(channels), nn.Linear(channels, 2 * channels),
                                 nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * channels, channels))

    def forward(self, x: torch.Tensor, rel: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        """``x`` (B, N, C) nodes, ``rel`` (B, N, N) relative contact in [0, 1], ``edges`` (B, N, N) bool (row i attends to column j.

        Every row has at least its self loop).
        """
        B, N, C = x.shape
        H, D = self.heads, self.dim
        y = self.norm(x)
        src = self.w_src(y).view(B, 1, N, H, D)
        dst = self.w_dst(y).view(B, N, 1, H, D)
        feats = torch.stack([rel, 1.0 + torch.log10(rel + 1e-3) / 3.0], dim=-1)
        z = F.leaky_relu(dst + src + self.w_edge(feats).view(B, N, N, H, D), 0.2)
        e = (z * self.att).sum(-1) + self.edge_bias * rel[..., None]  # (B, N, N, H)
        e = e.masked_fill(~edges[..., None], float("-inf"))
        alpha = self.drop(torch.softmax(e, dim=2))
        msg = torch.einsum("bijh,bjhd->bihd", alpha, src.view(B, N, H, D)).reshape(B, N, C)
        x = x + self.drop(self.out(msg))
        return x + self.ffn(x)


class EpiExpr3D(EpiExpr1D):
    """EpiExpr-3D.

    The EpiExpr-1D encoder, GATv2 layers over the genome-aligned Hi-C bins of
    ``contact_matrix`` (placed with ``contact_shift``, see the module docstring), the TSS
    node -> head.
    """

    needs_contact_matrix: ClassVar[bool] = True

    def __init__(self, cfg: EpiExpr3DConfig) -> None:
        super().__init__(cfg)
        self.graph = nn.ModuleList(GATv2Layer(cfg.channels, cfg.graph_heads, cfg.dropout)
                                   for _ in range(cfg.graph_layers))
        self.node_norm = nn.LayerNorm(cfg.channels)

    def _readout_dim(self) -> int:
        return self.cfg.channels

    def node_weights(self, n_bins: int, n_nodes: int, shift: torch.Tensor) -> torch.Tensor:
        """(B, n_bins, n_nodes) fraction of each ``bin_size`` bin lying in each Hi-C bin."""
        b, h = self.cfg.bin_size, self.cfg.hic_bin_bp
        dev = shift.device
        start = torch.arange(n_bins, device=dev)[None, :, None] * b + shift[:, None, None]
        edge = torch.arange(n_nodes, device=dev)[None, None, :] * h
        over = (torch.minimum(start + b, edge + h) - torch.maximum(start, edge)).clamp_min(0)
        return over.float() / b

    def forward(self, seq, signals: torch.Tensor, features: torch.Tensor | None = None,
                blacklist: torch.Tensor | None = None,
                contact_matrix: torch.Tensor | None = None,
                contact_shift: torch.Tensor | None = None, **_: object) -> BaselineOutput:
        """As :meth:`EpiExpr1D.forward`, plus ``contact_matrix`` (B, nb, nb) and ``contact_shift`` (B,) bp (both required.

        See the module docstring).
        """
        name = type(self).__name__
        if contact_matrix is None:
            raise ValueError(f"{name} needs contact_matrix (B, nb, nb), log10(1 + contact) "
                             "between the window's Hi-C bins "
                             "(seq2exp_cli.store.windows.batch_contact_matrices)")
        if contact_shift is None:
            raise ValueError(f"{name} needs contact_shift (B,), where each window starts in "
                             "its contact matrix (seq2exp_cli.store.windows.batch_contact_shifts)")
        self._check_signals(signals)
        cfg = self.cfg
        B, L, _ = signals.shape
        dev = signals.device
        cm = torch.as_tensor(contact_matrix, device=dev).float()
        if cm.ndim != 3 or cm.shape[0] != B or cm.shape[1] != cm.shape[2]:
            raise ValueError(f"{name}: contact_matrix must be ({B}, nb, nb), got {tuple(cm.shape)}")
        shift = torch.as_tensor(contact_shift, device=dev).long().reshape(-1)
        if shift.shape != (B,):
            raise ValueError(f"{name}: contact_shift must have shape ({B},), "
                             f"got {tuple(shift.shape)}")
        nb = cm.shape[1]
        tss = (L // 2 + shift) // cfg.hic_bin_bp
        if bool((shift < 0).any()) or bool((tss >= nb).any()):
            raise ValueError(f"{name}: contact_shift {shift.tolist()} puts the window's TSS "
                             f"outside its {nb} Hi-C bins of {cfg.hic_bin_bp} bp")

        h = self.encode(signals, blacklist)  # (B, C, T)
        w = self.node_weights(h.shape[-1], nb, shift)  # (B, T, nb)
        cover = w.sum(1)  # (B, nb)
        nodes = torch.einsum("bct,btn->bnc", h, w) / cover.clamp_min(1e-6)[..., None]
        valid = cover > 0
        nodes = self.node_norm(nodes) * valid[..., None]

        pair = valid[:, :, None] & valid[:, None, :] & (cm > 0)
        top = torch.where(pair, cm, torch.zeros_like(cm)).amax(dim=(1, 2), keepdim=True)
        rel = torch.where(pair, cm / top.clamp_min(1e-12), torch.zeros_like(cm))
        eye = torch.eye(nb, dtype=torch.bool, device=dev)[None]
        edges = (pair & (rel > cfg.contact_threshold)) | eye
        for layer in self.graph:
            nodes = layer(nodes, rel, edges)
        z = nodes[torch.arange(B, device=dev), tss]
        z = torch.cat([z, self.scaled_features(features, B, dev)], dim=1)
        return BaselineOutput(pred=self.head(z))
