"""Small building blocks shared by the Caduceus stack and the Seq2Exp model.

- :class:`RMSNorm`: root-mean-square normalisation over channels.
- :func:`reverse_sequence`: flip the sequence axis, optionally per sample over only the
  first ``lengths[b]`` positions (so right padding stays at the right).
- :func:`reverse_complement`: the reverse complement of a channel-split hidden state
  (flip sequence and channel axes), the symmetry used by RC parameter sharing (RCPS).
- :class:`RCPS`: wraps a module ``f: (B, L, D/2) -> (B, L, D/2)`` into a reverse-complement
  equivariant module on ``(B, L, D)``.
- :class:`ExpressionHead`: the MLP ``(d + F) -> hidden -> hidden -> 1`` (or ``d -> ... -> 1``
  plus a linear term in the ``F`` gene features).

All tensors are ``(batch, length, channels)``; length is in tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["RCPS", "ExpressionHead", "RMSNorm", "reverse_complement", "reverse_sequence"]


class RMSNorm(nn.Module):
    """``y = x / sqrt(mean(x^2) + eps) * weight`` over the last axis.

    Parameters
    ----------
    d_model : int
        Channels.
    eps : float
        Added to the mean square.

    Attributes
    ----------
    weight : nn.Parameter, shape=(d_model,), initialised to ones.
    """

    def __init__(self, d_model: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x: (..., d_model)``; returns the same shape and dtype."""
        dtype = x.dtype
        xf = x.float() if dtype in (torch.float16, torch.bfloat16) else x
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.to(y.dtype)).to(dtype)

    def extra_repr(self) -> str:
        """Return the width and epsilon, shown by ``repr``."""
        return f"{self.weight.shape[0]}, eps={self.eps}"


def reverse_sequence(x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Reverse the sequence axis (dim 1) of ``x: (B, L, ...)``.

    Parameters
    ----------
    x : torch.Tensor, shape=(B, L, ...)
    lengths : torch.LongTensor, shape=(B,), optional
        Valid prefix length per sample.  When given, positions ``0 .. lengths[b]-1`` are
        reversed among themselves and the padding after them stays in place, so a causal
        scan over the result never sees padding before valid positions.  The map is its own
        inverse.

    Returns
    -------
    torch.Tensor, same shape as ``x``.
    """
    if lengths is None:
        return x.flip(1)
    L = x.shape[1]
    t = torch.arange(L, device=x.device)[None, :]
    n = lengths.to(x.device)[:, None]
    idx = torch.where(t < n, n - 1 - t, t)  # (B, L)
    idx = idx.view(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, idx)


def reverse_complement(x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Reverse-complement a hidden state ``x: (B, L, D)``: flip sequence and channels.

    With RCPS the channel axis holds a "forward" half and a "reverse-complement" half laid
    out so that complementing is a channel flip (as for one-hot ACGT).
    """
    return reverse_sequence(x, lengths).flip(-1)


class RCPS(nn.Module):
    """Reverse-complement parameter sharing around a sequence module.

    For ``x = [a, b]`` (channel halves of width ``D/2``) the output is
    ``[f(a), rc(f(rc(b)))]`` with ``rc = reverse_complement``.  Then
    ``RCPS(rc(x)) == rc(RCPS(x))`` for any ``f`` that maps ``(B, L, D/2)`` to the same
    shape, because ``rc([a, b]) = [rc(b), rc(a)]``.

    Parameters
    ----------
    module : nn.Module
        ``f``, called as ``module(x_half)`` or ``module(x_half, lengths=lengths)`` when
        ``pass_lengths`` is true.
    pass_lengths : bool
        Forward the ``lengths`` keyword to ``module``.
    """

    def __init__(self, module: nn.Module, pass_lengths: bool = False) -> None:
        super().__init__()
        self.module = module
        self.pass_lengths = pass_lengths

    def _f(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        return self.module(x, lengths=lengths) if self.pass_lengths else self.module(x)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x: (B, L, D)`` -> ``(B, L, D)``; ``lengths: (B,)`` optional valid lengths."""
        half = x.shape[-1] // 2
        fwd = self._f(x[..., :half], lengths)
        rc = self._f(reverse_complement(x[..., half:], lengths), lengths)
        return torch.cat([fwd, reverse_complement(rc, lengths)], dim=-1)


class ExpressionHead(nn.Module):
    """MLP from the pooled promoter embedding (plus gene features) to one expression value.

    Parameters
    ----------
    d_model : int
        Width of the pooled embedding.
    n_gene_features : int
        Extra per-gene features ``F`` concatenated before the MLP (0 for none).
    hidden : int
        Width of the two hidden layers (reference: 128).
    feature_term : {"mlp", "linear"}
        Where the gene features enter: ``"mlp"`` (the reference) concatenates them to the
        pooled embedding before the MLP; ``"linear"`` leaves the MLP to the embedding and adds
        ``w . f + c`` (``feature_linear``, starting at zero), the form ``train --fit-features``
        fits in closed form on a trained model.
    """

    def __init__(self, d_model: int, n_gene_features: int = 0, hidden: int = 128,
                 feature_term: str = "mlp") -> None:
        super().__init__()
        if feature_term not in ("mlp", "linear"):
            raise ValueError(f"feature_term must be 'mlp' or 'linear', got {feature_term!r}")
        self.n_gene_features = n_gene_features
        linear = feature_term == "linear" and n_gene_features > 0
        self.fc1 = nn.Linear(d_model + (0 if linear else n_gene_features), hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.feature_linear = nn.Linear(n_gene_features, 1) if linear else None
        if linear:
            nn.init.zeros_(self.feature_linear.weight)
            nn.init.zeros_(self.feature_linear.bias)

    def forward(
        self, pooled: torch.Tensor, gene_features: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``pooled: (B, d_model)``, ``gene_features: (B, F)`` -> prediction ``(B,)``."""
        if self.n_gene_features:
            if gene_features is None:
                raise ValueError(
                    f"the model was built with n_gene_features={self.n_gene_features}; "
                    "pass gene_features of shape (batch, n_gene_features)"
                )
            if gene_features.shape != (pooled.shape[0], self.n_gene_features):
                raise ValueError(
                    f"gene_features must have shape ({pooled.shape[0]}, {self.n_gene_features}), "
                    f"got {tuple(gene_features.shape)}"
                )
            if self.feature_linear is None:
                pooled = torch.cat([pooled, gene_features.to(pooled.dtype)], dim=-1)
        elif gene_features is not None and gene_features.numel():
            raise ValueError(
                "the model was built with n_gene_features=0; do not pass gene_features"
            )
        h = F.relu(self.fc1(pooled))
        h = F.relu(self.fc2(h))
        y = self.out(h).squeeze(-1)
        if self.feature_linear is not None:
            y = y + self.feature_linear(gene_features.to(y.dtype)).squeeze(-1)
        return y
