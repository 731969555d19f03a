"""The Mamba block (Gu & Dao 2023), state-dict compatible with mamba-ssm.

Parameter names, shapes and initialisation follow
``mamba_ssm.modules.mamba_simple.Mamba``, so a state dict trained with the CUDA kernels loads
here and gives the same outputs on CPU.  The block, for ``hidden_states: (B, L, d_model)``::

    x, z  = split(in_proj(hidden_states))          # (B, L, d_inner) each
    x     = silu(causal depthwise conv1d(x))        # kernel d_conv, left padding d_conv - 1
    dt, Bs, Cs = split(x_proj(x))                   # (B, L, dt_rank), (B, L, N), (B, L, N)
    dt    = dt_proj.weight @ dt                     # bias added inside the scan, then softplus
    y     = selective_scan(x, dt, -exp(A_log), Bs, Cs, D, z, dt_proj.bias, softplus)
    out   = out_proj(y)                             # (B, L, d_model)

The scan backend is chosen at run time (see :mod:`.scan`).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .scan import BACKENDS, _resolve_backend, selective_scan

__all__ = ["Mamba"]


class Mamba(nn.Module):
    """Mamba mixer block.

    Parameters
    ----------
    d_model : int
        Width of the input and output.
    d_state : int
        SSM state size N per channel.
    d_conv : int
        Width of the causal depthwise convolution.
    expand : int
        ``d_inner = expand * d_model``.
    dt_rank : int or "auto"
        Rank of the delta projection; "auto" = ``ceil(d_model / 16)``.
    dt_min, dt_max : float
        Range of the initial step sizes (log-uniform).
    dt_init : {"random", "constant"}
        Initialisation of ``dt_proj.weight``.
    dt_scale : float
        Scale of ``dt_proj.weight``'s initial range.
    dt_init_floor : float
        Lower clamp of the initial step sizes.
    conv_bias : bool
        Bias in ``conv1d``.
    bias : bool
        Bias in ``in_proj`` and ``out_proj``.
    backend : {"auto", "mamba_ssm", "numba", "torch", "ref"}
        Selective-scan backend (resolved at each forward from the tensors' device).
    device, dtype : optional
        Passed to the parameters' factories.

    Attributes
    ----------
    in_proj : nn.Linear, weight shape=(2 * d_inner, d_model)
    conv1d : nn.Conv1d, weight shape=(d_inner, 1, d_conv)
    x_proj : nn.Linear, weight shape=(dt_rank + 2 * d_state, d_inner), no bias
    dt_proj : nn.Linear, weight shape=(d_inner, dt_rank), bias shape=(d_inner,)
    A_log : nn.Parameter, shape=(d_inner, d_state)
    D : nn.Parameter, shape=(d_inner,)
    out_proj : nn.Linear, weight shape=(d_model, d_inner)
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | str = "auto",
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init: str = "random",
        dt_scale: float = 1.0,
        dt_init_floor: float = 1e-4,
        conv_bias: bool = True,
        bias: bool = False,
        backend: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        fk = {"device": device, "dtype": dtype}
        self.d_model = d_model
        self.d_state = d_state
        self.d_conv = d_conv
        self.expand = expand
        self.d_inner = int(expand * d_model)
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.backend = backend

        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=bias, **fk)
        self.conv1d = nn.Conv1d(
            self.d_inner, self.d_inner, kernel_size=d_conv, groups=self.d_inner,
            padding=d_conv - 1, bias=conv_bias, **fk,
        )
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False, **fk)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True, **fk)

        # dt_proj: weight uniform (or constant) at dt_rank**-0.5 * dt_scale; bias = inverse
        # softplus of a step drawn log-uniformly in [dt_min, dt_max], clamped at the floor.
        std = self.dt_rank ** -0.5 * dt_scale
        if dt_init == "constant":
            nn.init.constant_(self.dt_proj.weight, std)
        elif dt_init == "random":
            nn.init.uniform_(self.dt_proj.weight, -std, std)
        else:
            raise ValueError(f"dt_init must be 'random' or 'constant', got {dt_init!r}")
        dt = torch.exp(
            torch.rand(self.d_inner, **fk) * (math.log(dt_max) - math.log(dt_min))
            + math.log(dt_min)
        ).clamp(min=dt_init_floor)
        inv_dt = dt + torch.log(-torch.expm1(-dt))
        with torch.no_grad():
            self.dt_proj.bias.copy_(inv_dt)
        self.dt_proj.bias._no_reinit = True

        # S4D-real initialisation: A[d, n] = n + 1, stored as log; D = 1.
        A = torch.arange(1, d_state + 1, dtype=torch.float32, device=device)
        A = A[None, :].expand(self.d_inner, d_state).contiguous()
        self.A_log = nn.Parameter(torch.log(A))
        self.A_log._no_weight_decay = True
        self.D = nn.Parameter(torch.ones(self.d_inner, device=device))
        self.D._no_weight_decay = True

        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias, **fk)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Parameters
        ----------
        hidden_states : torch.Tensor, shape=(batch, length, d_model)

        Returns
        -------
        torch.Tensor, shape=(batch, length, d_model)
        """
        batch, length, _ = hidden_states.shape
        xz = self.in_proj(hidden_states).transpose(1, 2)  # (B, 2*d_inner, L)
        x, z = xz.chunk(2, dim=1)
        x = F.silu(self.conv1d(x)[..., :length])  # (B, d_inner, L)
        x_dbl = self.x_proj(x.transpose(1, 2))  # (B, L, dt_rank + 2N)
        dt, Bs, Cs = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = F.linear(dt, self.dt_proj.weight).transpose(1, 2)  # (B, d_inner, L)
        # A, D and the dt bias in float32 (float64 when the activations are), as mamba-ssm does
        ct = torch.float64 if x.dtype == torch.float64 else torch.float32
        A = -torch.exp(self.A_log.to(ct))
        y = selective_scan(
            x, dt, A, Bs.transpose(1, 2), Cs.transpose(1, 2), self.D.to(ct), z=z,
            delta_bias=self.dt_proj.bias.to(ct), delta_softplus=True,
            backend=_resolve_backend(self.backend, x),
        )
        return self.out_proj(y.transpose(1, 2))

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, d_inner={self.d_inner}, d_state={self.d_state}, "
            f"d_conv={self.d_conv}, dt_rank={self.dt_rank}, backend={self.backend!r}"
        )
