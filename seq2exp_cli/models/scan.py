"""The selective scan of Mamba (S6), with backends chosen at run time.

For every batch element ``b``, channel ``d`` and state ``n`` (real-valued A)::

    delta_t = softplus(delta_t + delta_bias)            # optional bias and softplus
    h_t[n]  = exp(delta_t A[d, n]) h_{t-1}[n] + delta_t B_t[n] u_t,   h_{-1} = 0
    y_t     = sum_n C_t[n] h_t[n] + D[d] u_t
    y_t     = y_t * silu(z_t)                           # optional gate

Shapes follow ``mamba_ssm.ops.selective_scan_interface.selective_scan_fn``:
``u, delta, z: (batch, d_inner, length)``, ``A: (d_inner, d_state)``,
``B, C: (batch, d_state, length)`` (input-dependent, the Mamba case),
``D, delta_bias: (d_inner,)``; the result ``y`` has shape ``(batch, d_inner, length)``.

Backends (``backend=``):

- ``"mamba_ssm"``: the CUDA kernel of mamba-ssm (``pip install seq2exp[cuda]``), CUDA tensors only.
- ``"numba"``: a CPU kernel (:mod:`._scan_numba`), parallel over (batch, block of
  channels), vectorised over the block's channels, sequential over length, with a
  hand-written backward that recomputes states from checkpoints stored every ``CKPT`` steps.
  Memory O(B·D·L) plus O(B·D·N·L/CKPT); never O(B·D·N·L).
- ``"torch"``: chunked pure PyTorch on any device: a log-depth scan inside chunks of
  ``chunk`` steps, each chunk checkpointed (recomputed in backward), so memory is
  O(B·D·L) plus O(B·D·N·chunk) workspace and O(B·D·N·L/chunk) saved chunk states.
- ``"ref"``: :func:`selective_scan_ref`, the explicit sequential loop (tests, tiny inputs).
- ``"auto"``: mamba_ssm for CUDA tensors when importable, numba for CPU tensors when
  importable, else torch.

bf16/fp16 inputs are computed in float32 and returned in the input dtype of ``u``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import MissingDependencyError

try:  # optional CUDA kernel
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn as _mamba_ssm_scan
except Exception:  # ImportError, or a broken CUDA build raising at import
    _mamba_ssm_scan = None

try:  # numba is a core dependency, but keep the package importable without it
    import numba as _numba  # noqa: F401

    HAS_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAS_NUMBA = False

__all__ = ["selective_scan", "selective_scan_ref", "selective_scan_torch", "BACKENDS"]

BACKENDS = ("auto", "mamba_ssm", "numba", "torch", "ref")
_CUDA_HINT = "pip install seq2exp[cuda]"


def _compute_dtype(*tensors: torch.Tensor | None) -> torch.dtype:
    """float64 if any tensor is float64, else float32 (bf16/fp16 are upcast)."""
    return (
        torch.float64
        if any(t is not None and t.dtype == torch.float64 for t in tensors)
        else torch.float32
    )


def selective_scan_ref(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
) -> torch.Tensor:
    """Selective scan as an explicit loop over time (the reference).

    Parameters
    ----------
    u, delta : torch.Tensor, shape=(batch, d_inner, length)
    A : torch.Tensor, shape=(d_inner, d_state)
    B, C : torch.Tensor, shape=(batch, d_state, length)
    D : torch.Tensor, shape=(d_inner,), optional
    z : torch.Tensor, shape=(batch, d_inner, length), optional
        Gate: the output is multiplied by ``silu(z)``.
    delta_bias : torch.Tensor, shape=(d_inner,), optional
    delta_softplus : bool
        Apply softplus to ``delta + delta_bias``.

    Returns
    -------
    torch.Tensor, shape=(batch, d_inner, length)
        In the dtype of ``u``; computed in float32 or float64.
    """
    dtype_in = u.dtype
    ct = _compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    u, delta, A, B, C = (t.to(ct) for t in (u, delta, A, B, C))
    if delta_bias is not None:
        delta = delta + delta_bias.to(ct)[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    batch, d_inner, length = u.shape
    h = u.new_zeros(batch, d_inner, A.shape[1])
    ys = []
    for t in range(length):
        dt = delta[:, :, t, None]  # (b, d, 1)
        h = torch.exp(dt * A) * h + dt * B[:, None, :, t] * u[:, :, t, None]
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, :, t]))
    y = torch.stack(ys, dim=2)
    if D is not None:
        y = y + u * D.to(ct)[:, None]
    if z is not None:
        y = y * F.silu(z.to(ct))
    return y.to(dtype_in)


def _chunk_states(dA: torch.Tensor, dBu: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """States of one chunk by a log-depth (Hillis-Steele) scan.

    Parameters
    ----------
    dA, dBu : torch.Tensor, shape=(batch, d_inner, T, d_state)
        ``exp(delta A)`` and ``delta B u`` per step.
    h0 : torch.Tensor, shape=(batch, d_inner, d_state)
        State before the chunk.

    Returns
    -------
    torch.Tensor, shape=(batch, d_inner, T, d_state)
        ``h_t = dA_t h_{t-1} + dBu_t`` for every step of the chunk.
    """
    a, x = dA, dBu
    T = a.shape[2]
    k = 1
    while k < T:  # products of factors in (0, 1] and sums: numerically safe
        x = torch.cat([x[:, :, :k], x[:, :, k:] + a[:, :, k:] * x[:, :, :-k]], dim=2)
        a = torch.cat([a[:, :, :k], a[:, :, k:] * a[:, :, :-k]], dim=2)
        k *= 2
    return x + a * h0[:, :, None, :]


def _chunk_forward(u, delta, A, B, C, h0):
    """One chunk: ``u, delta: (b, d, T)``, ``B, C: (b, n, T)``, ``h0: (b, d, n)``.

    Returns ``y: (b, d, T)`` (before D and gate) and the last state ``(b, d, n)``.
    """
    dA = torch.exp(delta[..., None] * A[:, None, :])  # (b, d, T, n)
    dBu = (delta * u)[..., None] * B.transpose(1, 2)[:, None]  # (b, d, T, n)
    h = _chunk_states(dA, dBu, h0)
    y = torch.einsum("bdtn,bnt->bdt", h, C)
    return y, h[:, :, -1]


class _ChunkedScan(torch.autograd.Function):
    """Chunked scan with manual checkpointing.

    Forward keeps only the state entering each chunk, shape=(batch, d_inner, d_state) per
    chunk; backward walks the chunks from last to first, recomputes one chunk with autograd
    and pulls the gradients of (y_chunk, last state) back to the chunk's inputs and its
    entering state.  Inputs: ``u, delta: (b, d, L)`` (delta after bias and softplus),
    ``A: (d, n)``, ``B, C: (b, n, L)``; output ``y: (b, d, L)`` before D and the gate.
    """

    @staticmethod
    def forward(ctx, u, delta, A, B, C, chunk):
        batch, d_inner, length = u.shape
        h = u.new_zeros(batch, d_inner, A.shape[1])
        states, ys = [], []
        for s in range(0, length, chunk):
            states.append(h)
            y_c, h = _chunk_forward(u[:, :, s : s + chunk], delta[:, :, s : s + chunk], A,
                                    B[:, :, s : s + chunk], C[:, :, s : s + chunk], h)
            ys.append(y_c)
        ctx.save_for_backward(u, delta, A, B, C, *states)
        ctx.chunk = chunk
        return torch.cat(ys, dim=2) if ys else u.new_zeros(batch, d_inner, 0)

    @staticmethod
    def backward(ctx, gy):
        u, delta, A, B, C, *states = ctx.saved_tensors
        chunk = ctx.chunk
        gu, gdelta = torch.zeros_like(u), torch.zeros_like(delta)
        gB, gC, gA = torch.zeros_like(B), torch.zeros_like(C), torch.zeros_like(A)
        gh = None
        for k in range(len(states) - 1, -1, -1):
            sl = slice(k * chunk, (k + 1) * chunk)
            with torch.enable_grad():
                ins = [t.detach().requires_grad_() for t in
                       (u[:, :, sl], delta[:, :, sl], A, B[:, :, sl], C[:, :, sl], states[k])]
                y_c, h_last = _chunk_forward(*ins)
                outs, gouts = [y_c], [gy[:, :, sl]]
                if gh is not None:
                    outs.append(h_last)
                    gouts.append(gh)
                g = torch.autograd.grad(outs, ins, gouts, allow_unused=True)
            for dst, src in ((gu, g[0]), (gdelta, g[1]), (gB, g[3]), (gC, g[4])):
                if src is not None:
                    dst[:, :, sl] = src
            if g[2] is not None:
                gA += g[2]
            gh = g[5]
        return gu, gdelta, gA, gB, gC, None


def selective_scan_torch(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
    chunk: int = 128,
) -> torch.Tensor:
    """Chunked pure-PyTorch selective scan for any device.

    Same arguments, shapes and result as :func:`selective_scan_ref`; ``chunk`` is the number
    of steps scanned at once.  Only each chunk's entering state, shape=(batch, d_inner,
    d_state), is kept for backward, which recomputes one chunk at a time, so
    (batch, d_inner, length, d_state) is never held.
    """
    dtype_in = u.dtype
    ct = _compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    u, delta, A, B, C = (t.to(ct) for t in (u, delta, A, B, C))
    if delta_bias is not None:
        delta = delta + delta_bias.to(ct)[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    y = _ChunkedScan.apply(u, delta, A, B, C, chunk)
    if D is not None:
        y = y + u * D.to(ct)[:, None]
    if z is not None:
        y = y * F.silu(z.to(ct))
    return y.to(dtype_in)


def _resolve_backend(backend: str, u: torch.Tensor) -> str:
    """Pick the backend name for ``u``'s device (see the module docstring)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        if u.is_cuda and _mamba_ssm_scan is not None:
            return "mamba_ssm"
        if u.device.type == "cpu" and HAS_NUMBA:
            return "numba"
        return "torch"
    if backend == "mamba_ssm":
        if _mamba_ssm_scan is None:
            raise MissingDependencyError(
                f"the 'mamba_ssm' scan backend needs mamba-ssm: {_CUDA_HINT}"
            )
        if not u.is_cuda:
            raise ValueError("the 'mamba_ssm' scan backend needs CUDA tensors")
    if backend == "numba":
        if not HAS_NUMBA:
            raise MissingDependencyError("the 'numba' scan backend needs numba: pip install numba")
        if u.device.type != "cpu":
            raise ValueError("the 'numba' scan backend needs CPU tensors; use 'torch' or 'auto'")
    return backend


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
    backend: str = "auto",
) -> torch.Tensor:
    """Selective scan with the fastest backend available for the tensors' device.

    Parameters
    ----------
    u, delta : torch.Tensor, shape=(batch, d_inner, length)
    A : torch.Tensor, shape=(d_inner, d_state)
        Real (negative in Mamba: ``-exp(A_log)``).
    B, C : torch.Tensor, shape=(batch, d_state, length)
    D : torch.Tensor, shape=(d_inner,), optional
    z : torch.Tensor, shape=(batch, d_inner, length), optional
    delta_bias : torch.Tensor, shape=(d_inner,), optional
    delta_softplus : bool
    backend : {"auto", "mamba_ssm", "numba", "torch", "ref"}

    Returns
    -------
    torch.Tensor, shape=(batch, d_inner, length)
        In the dtype of ``u``.

    Raises
    ------
    MissingDependencyError
        ``backend="mamba_ssm"`` (or ``"numba"``) requested but not installed.
    """
    if u.dim() != 3 or B.dim() != 3 or C.dim() != 3 or A.dim() != 2:
        raise ValueError(
            "expected u, delta: (batch, d_inner, length), A: (d_inner, d_state), "
            "B, C: (batch, d_state, length)"
        )
    name = _resolve_backend(backend, u)
    if name == "mamba_ssm":
        return _mamba_ssm_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    if name == "numba":
        from ._scan_numba import selective_scan_numba  # compiles lazily, at first call

        return selective_scan_numba(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    if name == "torch":
        return selective_scan_torch(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    return selective_scan_ref(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
