"""Caduceus: a bidirectional Mamba stack for DNA (Schiff et al. 2024).

- :class:`BiMamba`: the sequence and its reversal each go through a Mamba; the reverse
  branch's output is flipped back and the two are summed (Caduceus's "add" strategy).  With
  ``tie_projections`` the two Mambas share ``in_proj`` and ``out_proj`` (Caduceus's
  ``bidirectional_weight_tie``), the SSM parameters stay separate.
- :class:`CaduceusBlock`: pre-norm residual ``x + BiMamba(RMSNorm(x))``.
- :class:`Caduceus`: ``n_layers`` blocks and a final RMSNorm, ``(B, L, d) -> (B, L, d)``.

Reverse-complement equivariance (``rc_equivariant=True``, Caduceus's RCPS): the channel axis
is split in halves ``[a, b]``; every layer computes ``[f(a), rc(f(rc(b)))]`` with one set of
parameters ``f`` of width ``d/2`` (:class:`~.layers.RCPS`), where ``rc`` flips the sequence
and the channel axes.  The whole stack then satisfies
``Caduceus(rc(x)) == rc(Caduceus(x))``.

Variable lengths: every forward takes optional ``lengths: (B,)``.  Samples are then valid on
positions ``0 .. lengths[b]-1`` with padding on the right; the reverse branch reverses only
the valid prefix, so outputs at valid positions do not depend on how much padding follows
(both Mamba directions are causal over the valid tokens).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import RCPS, RMSNorm, reverse_sequence
from .mamba import Mamba

__all__ = ["BiMamba", "Caduceus", "CaduceusBlock"]


class BiMamba(nn.Module):
    """Bidirectional Mamba: ``mamba_fwd(x) + flip(mamba_rev(flip(x)))``.

    Parameters
    ----------
    d_model : int
        Input/output channels.
    d_state, d_conv, expand : int
        Passed to each :class:`~.mamba.Mamba`.
    tie_projections : bool
        Share ``in_proj`` and ``out_proj`` (weights and biases) between the directions.
    backend : str
        Selective-scan backend of the Mambas ("auto", "numba", "torch", "ref", "mamba_ssm").
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        tie_projections: bool = True,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        kw = dict(d_state=d_state, d_conv=d_conv, expand=expand, backend=backend)
        self.mamba_fwd = Mamba(d_model, **kw)
        self.mamba_rev = Mamba(d_model, **kw)
        self.tie_projections = tie_projections
        if tie_projections:
            for name in ("in_proj", "out_proj"):
                fwd, rev = getattr(self.mamba_fwd, name), getattr(self.mamba_rev, name)
                rev.weight = fwd.weight
                if fwd.bias is not None:
                    rev.bias = fwd.bias

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x: (B, L, d_model)`` -> ``(B, L, d_model)``; ``lengths: (B,)`` optional."""
        out = self.mamba_fwd(x)
        rev = self.mamba_rev(reverse_sequence(x, lengths))
        return out + reverse_sequence(rev, lengths)


class _BiMambaHalf(nn.Module):
    """Adapter so :class:`RCPS` passes ``lengths`` to a :class:`BiMamba`."""

    def __init__(self, inner: BiMamba) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.inner(x, lengths)


class CaduceusBlock(nn.Module):
    """Pre-norm residual block: ``x + mixer(norm(x))``.

    Parameters
    ----------
    d_model : int
        Channels ``d`` (RCPS: two halves of ``d/2`` sharing parameters).
    d_state, d_conv, expand, tie_projections, backend
        See :class:`BiMamba`.
    rc_equivariant : bool
        Wrap norm and mixer in :class:`~.layers.RCPS`.
    norm_eps : float
        RMSNorm epsilon.
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        tie_projections: bool = True,
        rc_equivariant: bool = False,
        backend: str = "auto",
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.rc_equivariant = rc_equivariant
        width = d_model // 2 if rc_equivariant else d_model
        if rc_equivariant and d_model % 2:
            raise ValueError(f"rc_equivariant needs an even d_model, got {d_model}")
        mixer = BiMamba(
            width,
            d_state=d_state,
            d_conv=d_conv,
            expand=expand,
            tie_projections=tie_projections,
            backend=backend,
        )
        norm = RMSNorm(width, eps=norm_eps)
        if rc_equivariant:
            self.norm = RCPS(norm)
            self.mixer = RCPS(_BiMambaHalf(mixer), pass_lengths=True)
        else:
            self.norm = norm
            self.mixer = mixer

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x: (B, L, d_model)`` -> ``(B, L, d_model)``."""
        return x + self.mixer(self.norm(x), lengths=lengths)


class Caduceus(nn.Module):
    """Stack of :class:`CaduceusBlock` with a final RMSNorm.

    Parameters
    ----------
    d_model : int
        Channels.
    n_layers : int
        Number of blocks.
    d_state, d_conv, expand : int
        Mamba sizes (reference: 16, 4, 2).
    rc_equivariant : bool
        Reverse-complement parameter sharing (needs an even ``d_model``).
    tie_projections : bool
        Share in/out projections between the two directions of each BiMamba.
    backend : str
        Selective-scan backend.
    norm_eps : float
        RMSNorm epsilon.

    Notes
    -----
    As in mamba-ssm's initialisation with ``rescale_prenorm_residual``, every ``out_proj``
    weight is divided by ``sqrt(n_layers)`` so the residual stream's variance does not grow
    with depth.
    """

    def __init__(
        self,
        d_model: int,
        n_layers: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        rc_equivariant: bool = False,
        tie_projections: bool = True,
        backend: str = "auto",
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.d_model = d_model
        self.rc_equivariant = rc_equivariant
        self.layers = nn.ModuleList(
            CaduceusBlock(
                d_model,
                d_state=d_state,
                d_conv=d_conv,
                expand=expand,
                tie_projections=tie_projections,
                rc_equivariant=rc_equivariant,
                backend=backend,
                norm_eps=norm_eps,
            )
            for _ in range(n_layers)
        )
        width = d_model // 2 if rc_equivariant else d_model
        norm_f = RMSNorm(width, eps=norm_eps)
        self.norm_f = RCPS(norm_f) if rc_equivariant else norm_f
        with torch.no_grad():
            for name, p in self.named_parameters():  # shared (tied) tensors appear once
                if name.endswith("out_proj.weight"):
                    p.div_(math.sqrt(n_layers))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Run the stack.

        Parameters
        ----------
        x : torch.Tensor, shape=(B, L, d_model)
            Token embeddings (L in tokens).
        lengths : torch.LongTensor, shape=(B,), optional
            Valid prefix length per sample (right padding); ``None`` = all valid.

        Returns
        -------
        torch.Tensor, shape=(B, L, d_model)
        """
        for layer in self.layers:
            x = layer(x, lengths=lengths)
        return self.norm_f(x)
