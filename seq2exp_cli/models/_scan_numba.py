"""CPU selective scan: numba kernels with a hand-written backward.

Forward: one task per (batch, channel), parallel with ``prange``; the N-vector state lives in
a small local array while the loop walks the sequence; the output is fused with the ``D``
skip and the ``silu(z)`` gate.  When gradients are needed the state entering every block of
``CKPT`` steps is stored: shape=(batch, d_inner, ceil(L / CKPT), d_state).

Backward: one task per (batch, group of channels).  For each channel, blocks are visited from
last to first; the block's states and decay factors are recomputed from its checkpoint into
an L1-sized workspace of (CKPT + 1, d_state), then the adjoint state is swept backwards
through the block.  ``B`` and ``C`` gradients are sums over channels: each task accumulates
into its own slice of shape=(batch, groups, L, d_state), summed afterwards (groups = numba
threads, so this stays O(L·N) per batch element).

Nothing compiles at import; kernels compile (and are cached on disk, ``cache=True``) at first
use for each dtype.

``exp`` is evaluated by :func:`_exp_vec`: Cody-Waite range reduction, a Taylor polynomial
(degree 12 in float64, 7 in float32: below one ulp on |r| <= ln2/2) and a power of two
built from the exponent bits, written so that LLVM vectorises it across the state dimension
(numba's ``math.exp`` is a scalar call without Intel SVML).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import torch
from numba.extending import overload

__all__ = ["selective_scan_numba", "CKPT"]

CKPT = 64  # steps between stored states (backward recomputes inside each block)
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125  # ln2 split so that k * _LN2_HI is exact
_LN2_LO = 1.42860682030941723212e-6


def _exp_vec(x, out, bits, scale):  # pragma: no cover - replaced by the overload below in jit code
    """``out[:] = exp(x[:])``; ``bits``: int scratch of x's width, ``scale`` its float view
    (made once by the caller: a view per call costs reference counting).  Shapes (N,)."""
    out[:] = np.exp(x)


@overload(_exp_vec, jit_options={"fastmath": False})
def _exp_vec_impl(x, out, bits, scale):
    if x.dtype == nb.types.float64:

        def impl(x, out, bits, scale):
            for i in range(x.shape[0]):
                v = min(max(x[i], -708.0), 709.0)
                k = np.floor(v * _LOG2E + 0.5)
                r = (v - k * _LN2_HI) - k * _LN2_LO
                p = 1.0 / 479001600.0
                p = p * r + 1.0 / 39916800.0
                p = p * r + 1.0 / 3628800.0
                p = p * r + 1.0 / 362880.0
                p = p * r + 1.0 / 40320.0
                p = p * r + 1.0 / 5040.0
                p = p * r + 1.0 / 720.0
                p = p * r + 1.0 / 120.0
                p = p * r + 1.0 / 24.0
                p = p * r + 1.0 / 6.0
                p = p * r + 0.5
                p = p * r + 1.0
                out[i] = p * r + 1.0
                bits[i] = (np.int64(k) + np.int64(1023)) << np.int64(52)
            for i in range(x.shape[0]):
                out[i] = out[i] * scale[i]

        return impl

    def impl32(x, out, bits, scale):
        f = np.float32
        for i in range(x.shape[0]):
            v = min(max(x[i], f(-87.0)), f(88.0))
            k = np.floor(v * f(_LOG2E) + f(0.5))
            r = (v - k * f(_LN2_HI)) - k * f(_LN2_LO)
            p = f(1.0 / 5040.0)
            p = p * r + f(1.0 / 720.0)
            p = p * r + f(1.0 / 120.0)
            p = p * r + f(1.0 / 24.0)
            p = p * r + f(1.0 / 6.0)
            p = p * r + f(0.5)
            p = p * r + f(1.0)
            out[i] = p * r + f(1.0)
            bits[i] = (np.int32(k) + np.int32(127)) << np.int32(23)
        for i in range(x.shape[0]):
            out[i] = out[i] * scale[i]

    return impl32


def _int_like(x):  # pragma: no cover - replaced by the overload below in jit code
    """Uninitialised integer array of x's shape and width (int64 for float64, else int32)."""
    return np.empty(x.shape, np.int64 if x.dtype == np.float64 else np.int32)


@overload(_int_like)
def _int_like_impl(x):
    if x.dtype == nb.types.float64:
        return lambda x: np.empty(x.shape, np.int64)
    return lambda x: np.empty(x.shape, np.int32)


@nb.njit(inline="always", cache=True)
def _step_size(raw, softplus):
    """softplus(raw) with torch's threshold 20 (identity above), or raw."""
    if softplus and raw <= 20.0:
        return np.log1p(np.exp(raw))
    return raw


@nb.njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _forward_kernel(u, delta, A, Bt, Ct, Dv, z, bias, has_z, softplus, save, out, ckpt):
    """out: (B, D, L); ckpt: (B, D, nblocks, N) written when ``save``; Bt, Ct: (B, L, N)."""
    nb_, nd, L = u.shape
    N = A.shape[1]
    for i in nb.prange(nb_ * nd):
        b = i // nd
        d = i % nd
        h = np.zeros(N, dtype=u.dtype)
        x = np.empty(N, dtype=u.dtype)
        a = np.empty(N, dtype=u.dtype)
        bits = _int_like(x)
        scale = bits.view(x.dtype)
        for t in range(L):
            if save and t % CKPT == 0:
                for n in range(N):
                    ckpt[b, d, t // CKPT, n] = h[n]
            dt = _step_size(delta[b, d, t] + bias[d], softplus)
            ut = u[b, d, t]
            du = dt * ut
            for n in range(N):
                x[n] = dt * A[d, n]
            _exp_vec(x, a, bits, scale)
            y = Dv[d] * ut
            for n in range(N):
                hn = a[n] * h[n] + du * Bt[b, t, n]
                h[n] = hn
                y += hn * Ct[b, t, n]
            if has_z:
                zt = z[b, d, t]
                y = y * zt / (1.0 + np.exp(-zt))
            out[b, d, t] = y


@nb.njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _backward_kernel(u, delta, A, Bt, Ct, Dv, z, bias, has_z, softplus, ckpt, gout, ngroups,
                     gu, gdelta, gz, gA, gD, gbias, gB, gC):
    """Gradients.  gu, gdelta, gz: (B, D, L); gA: (B, D, N); gD, gbias: (B, D);
    gB, gC: (B, ngroups, L, N) partial sums over each group's channels."""
    nb_, nd, L = u.shape
    N = A.shape[1]
    nblocks = ckpt.shape[2]
    for i in nb.prange(nb_ * ngroups):
        b = i // ngroups
        g = i % ngroups
        hbuf = np.empty((CKPT + 1, N), dtype=u.dtype)
        abuf = np.empty((CKPT, N), dtype=u.dtype)
        x = np.empty(N, dtype=u.dtype)
        bits = _int_like(x)
        scale = bits.view(x.dtype)
        gh = np.empty(N, dtype=u.dtype)
        a = np.empty(N, dtype=u.dtype)
        for d in range((g * nd) // ngroups, ((g + 1) * nd) // ngroups):
            Dd = Dv[d]
            gh[:] = 0.0
            gDd = 0.0
            gbd = 0.0
            for c in range(nblocks - 1, -1, -1):
                t0 = c * CKPT
                t1 = min(L, t0 + CKPT)
                for n in range(N):
                    hbuf[0, n] = ckpt[b, d, c, n]
                for t in range(t0, t1):  # recompute the block's decays and states
                    j = t - t0
                    dt = _step_size(delta[b, d, t] + bias[d], softplus)
                    du = dt * u[b, d, t]
                    for n in range(N):
                        x[n] = dt * A[d, n]
                    _exp_vec(x, a, bits, scale)
                    for n in range(N):
                        abuf[j, n] = a[n]
                        hbuf[j + 1, n] = a[n] * hbuf[j, n] + du * Bt[b, t, n]
                for t in range(t1 - 1, t0 - 1, -1):  # adjoint sweep
                    j = t - t0
                    raw = delta[b, d, t] + bias[d]
                    dt = _step_size(raw, softplus)
                    ut = u[b, d, t]
                    du = dt * ut
                    go = gout[b, d, t]
                    if has_z:
                        y = Dd * ut
                        for n in range(N):
                            y += Ct[b, t, n] * hbuf[j + 1, n]
                        zt = z[b, d, t]
                        sg = 1.0 / (1.0 + np.exp(-zt))
                        gz[b, d, t] = go * y * sg * (1.0 + zt * (1.0 - sg))
                        gy = go * zt * sg
                    else:
                        gy = go
                    gDd += gy * ut
                    gut = gy * Dd
                    gdt = 0.0
                    for n in range(N):
                        ght = gh[n] + gy * Ct[b, t, n]
                        ahp = abuf[j, n] * hbuf[j, n]
                        bn = Bt[b, t, n]
                        gC[b, g, t, n] += gy * hbuf[j + 1, n]
                        gB[b, g, t, n] += ght * du
                        gut += ght * dt * bn
                        gdt += ght * (bn * ut + A[d, n] * ahp)
                        gA[b, d, n] += ght * dt * ahp
                        gh[n] = ght * abuf[j, n]
                    gu[b, d, t] = gut
                    if softplus and raw <= 20.0:
                        gdt = gdt / (1.0 + np.exp(-raw))
                    gdelta[b, d, t] = gdt
                    gbd += gdt
            gD[b, d] = gDd
            gbias[b, d] = gbd


def _np(t: torch.Tensor) -> np.ndarray:
    """A numpy view of a contiguous CPU tensor (no copy)."""
    return t.detach().numpy()


class _SelectiveScanNumba(torch.autograd.Function):
    """autograd wrapper; inputs already in the compute dtype (see selective_scan_numba)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, z, delta_bias, softplus):
        Bt = B.transpose(1, 2).contiguous()  # (b, L, N): one contiguous N-vector per step
        Ct = C.transpose(1, 2).contiguous()
        nb_, nd, L = u.shape
        N = A.shape[1]
        has_z = z is not None
        Dv = D if D is not None else u.new_zeros(nd)
        bias = delta_bias if delta_bias is not None else u.new_zeros(nd)
        zz = z if has_z else u.new_zeros(1, 1, 1)
        save = any(ctx.needs_input_grad)
        nblk = (L + CKPT - 1) // CKPT
        ckpt = u.new_empty(nb_, nd, nblk, N) if save else u.new_empty(1, 1, 1, N)
        out = u.new_empty(nb_, nd, L)
        _forward_kernel(_np(u), _np(delta), _np(A), _np(Bt), _np(Ct),
                        _np(Dv), _np(zz), _np(bias), has_z, bool(softplus), save,
                        _np(out), _np(ckpt))
        if save:
            ctx.save_for_backward(u, delta, A, Bt, Ct, Dv, zz, bias, ckpt)
            ctx.flags = (has_z, bool(softplus), D is not None, delta_bias is not None)
        return out

    @staticmethod
    def backward(ctx, gout):
        u, delta, A, Bt, Ct, Dv, zz, bias, ckpt = ctx.saved_tensors
        has_z, softplus, has_D, has_bias = ctx.flags
        gout = gout.to(u.dtype).contiguous()
        nb_, nd, L = u.shape
        N = A.shape[1]
        groups = max(1, min(nd, nb.get_num_threads()))
        gu = torch.empty_like(u)
        gdelta = torch.empty_like(u)
        gz = torch.empty_like(u) if has_z else u.new_empty(1, 1, 1)
        gA = u.new_zeros(nb_, nd, N)
        gD = u.new_zeros(nb_, nd)
        gbias = u.new_zeros(nb_, nd)
        gB = u.new_zeros(nb_, groups, L, N)
        gC = u.new_zeros(nb_, groups, L, N)
        _backward_kernel(_np(u), _np(delta), _np(A), _np(Bt), _np(Ct),
                         _np(Dv), _np(zz), _np(bias), has_z, softplus, _np(ckpt),
                         _np(gout), groups, _np(gu), _np(gdelta), _np(gz),
                         _np(gA), _np(gD), _np(gbias), _np(gB), _np(gC))
        gB = gB.sum(1).transpose(1, 2)
        gC = gC.sum(1).transpose(1, 2)
        return (gu, gdelta, gA.sum(0), gB, gC, gD.sum(0) if has_D else None,
                gz if has_z else None, gbias.sum(0) if has_bias else None, None)


def selective_scan_numba(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                         delta_softplus=False):
    """Selective scan on CPU tensors with the numba kernels.

    Parameters
    ----------
    u, delta : torch.Tensor, shape=(batch, d_inner, length)
    A : torch.Tensor, shape=(d_inner, d_state)
    B, C : torch.Tensor, shape=(batch, d_state, length)
    D, delta_bias : torch.Tensor, shape=(d_inner,), optional
    z : torch.Tensor, shape=(batch, d_inner, length), optional
    delta_softplus : bool

    Returns
    -------
    torch.Tensor, shape=(batch, d_inner, length)
        In the dtype of ``u``; computed in float64 if any input is float64, else float32.
    """
    dtype_in = u.dtype
    ct = torch.float64 if any(
        t is not None and t.dtype == torch.float64 for t in (u, delta, A, B, C, D, z, delta_bias)
    ) else torch.float32

    def prep(t):
        return None if t is None else t.to(ct).contiguous()

    y = _SelectiveScanNumba.apply(prep(u), prep(delta), prep(A), prep(B), prep(C), prep(D),
                                  prep(z), prep(delta_bias), bool(delta_softplus))
    return y.to(dtype_in)
