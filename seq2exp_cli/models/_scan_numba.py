"""CPU selective scan: numba kernels vectorised over channels, with a hand-written backward.

The kernels compute the core of the scan on inputs laid out ``(batch, length, channels)``::

    h_t[n, d] = exp(dt_t[d] A[d, n]) h_{t-1}[n, d] + dt_t[d] B_t[n] u_t[d]
    y_t[d]    = sum_n C_t[n] h_t[n, d] + D[d] u_t[d]

The elementwise parts around it (``dt = softplus(delta + delta_bias)`` and the
``silu(z)`` gate) are plain torch operations, whose vectorised kernels and autograd do them
better than per-step scalar code.

Forward: one task per (batch, block of up to ``BLOCK`` channels), parallel with ``prange``;
the state of the block, shape=(d_state, block), lives in an L1/L2-sized local array and
every inner loop runs over the block's channels, contiguous in memory, so LLVM vectorises
it (the exponentials too: :func:`_exp_block`).  When gradients are needed the state
entering every run of ``CKPT`` steps is stored: shape=(batch, ceil(L / CKPT), d_state,
d_inner).

Backward: one task per (batch, group of channel blocks).  For each block, runs are visited
from last to first; a run's decays and states are recomputed from its checkpoint into a
workspace of shape=(CKPT + 1, d_state, block), then the adjoint state is swept backwards
through it.  ``B`` and ``C`` gradients are sums over channels: each task accumulates into
its own slice of shape=(batch, groups, L, d_state), summed afterwards.

Nothing compiles at import; kernels compile (and are cached on disk, ``cache=True``) at first
use for each dtype.

``exp`` is evaluated by :func:`_exp_block`: Cody-Waite range reduction, a Taylor polynomial
(degree 12 in float64, 7 in float32: below one ulp on |r| <= ln2/2) and a power of two
built from the exponent bits, branch-free so that LLVM vectorises it across channels
(numba's ``math.exp`` is a scalar call without Intel SVML).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import torch
import torch.nn.functional as F
from numba.extending import overload

from .._pools import prefer_forksafe_numba

prefer_forksafe_numba()

__all__ = ["selective_scan_numba", "BLOCK", "CKPT"]

CKPT = 32  # steps between stored states (backward recomputes inside each run)
BLOCK = 64  # most channels per task: long enough inner loops for the vectoriser

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125  # ln2 split so that k * _LN2_HI is exact
_LN2_LO = 1.42860682030941723212e-6


def _exp_block(x, out, bits, scale, w):  # pragma: no cover - replaced by the overload in jit code
    """``out[:, :w] = exp(x[:, :w])``; ``bits``: int scratch of x's shape and width,
    ``scale`` its float view (made once by the caller).  Shapes (N, block)."""
    out[:, :w] = np.exp(x[:, :w])


@overload(_exp_block, jit_options={"fastmath": False})
def _exp_block_impl(x, out, bits, scale, w):
    if x.dtype == nb.types.float64:

        def impl(x, out, bits, scale, w):
            for n in range(x.shape[0]):
                for c in range(w):
                    v = x[n, c]
                    v = v if v > -708.0 else -708.0
                    v = v if v < 709.0 else 709.0
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
                    out[n, c] = p * r + 1.0
                    bits[n, c] = (np.int64(k) + np.int64(1023)) << np.int64(52)
                for c in range(w):
                    out[n, c] = out[n, c] * scale[n, c]

        return impl

    def impl32(x, out, bits, scale, w):
        f = np.float32
        for n in range(x.shape[0]):
            for c in range(w):
                v = x[n, c]
                v = v if v > f(-87.0) else f(-87.0)
                v = v if v < f(88.0) else f(88.0)
                k = np.floor(v * f(_LOG2E) + f(0.5))
                r = (v - k * f(_LN2_HI)) - k * f(_LN2_LO)
                p = f(1.0 / 5040.0)
                p = p * r + f(1.0 / 720.0)
                p = p * r + f(1.0 / 120.0)
                p = p * r + f(1.0 / 24.0)
                p = p * r + f(1.0 / 6.0)
                p = p * r + f(0.5)
                p = p * r + f(1.0)
                out[n, c] = p * r + f(1.0)
                bits[n, c] = (np.int32(k) + np.int32(127)) << np.int32(23)
            for c in range(w):
                out[n, c] = out[n, c] * scale[n, c]

    return impl32


def _int_like(x):  # pragma: no cover - replaced by the overload below in jit code
    """Uninitialised integer array of x's shape and width (int64 for float64, else int32)."""
    return np.empty(x.shape, np.int64 if x.dtype == np.float64 else np.int32)


@overload(_int_like)
def _int_like_impl(x):
    if x.dtype == nb.types.float64:
        return lambda x: np.empty(x.shape, np.int64)
    return lambda x: np.empty(x.shape, np.int32)


@nb.njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _forward_kernel(u, dt, At, Bt, Ct, Dv, block, save, out, ckpt):
    """u, dt, out: (B, L, D); At: (N, D); Bt, Ct: (B, L, N); Dv: (D,);
    ckpt: (B, ceil(L / CKPT), N, D), written when ``save``."""
    nb_, L, nd = u.shape
    N = At.shape[0]
    nblk = (nd + block - 1) // block
    for task in nb.prange(nb_ * nblk):
        b = task // nblk
        d0 = (task % nblk) * block
        w = min(block, nd - d0)
        h = np.zeros((N, block), dtype=u.dtype)
        x = np.empty((N, block), dtype=u.dtype)
        a = np.empty((N, block), dtype=u.dtype)
        bits = _int_like(x)
        scale = bits.view(x.dtype)
        Ab = np.zeros((N, block), dtype=u.dtype)
        for n in range(N):
            for c in range(w):
                Ab[n, c] = At[n, d0 + c]
        dtc = np.zeros(block, dtype=u.dtype)
        duc = np.zeros(block, dtype=u.dtype)
        y = np.zeros(block, dtype=u.dtype)
        for t in range(L):
            if save and t % CKPT == 0:
                for n in range(N):
                    for c in range(w):
                        ckpt[b, t // CKPT, n, d0 + c] = h[n, c]
            for c in range(w):
                dtc[c] = dt[b, t, d0 + c]
                ut = u[b, t, d0 + c]
                duc[c] = dtc[c] * ut
                y[c] = Dv[d0 + c] * ut
            for n in range(N):
                for c in range(w):
                    x[n, c] = dtc[c] * Ab[n, c]
            _exp_block(x, a, bits, scale, w)
            for n in range(N):
                bn = Bt[b, t, n]
                cn = Ct[b, t, n]
                for c in range(w):
                    hv = a[n, c] * h[n, c] + duc[c] * bn
                    h[n, c] = hv
                    y[c] += hv * cn
            for c in range(w):
                out[b, t, d0 + c] = y[c]


@nb.njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _backward_kernel(u, dt, At, Bt, Ct, Dv, ckpt, gout, block, ngroups,
                     gu, gdt, gA, gD, gB, gC):
    """Gradients.  gu, gdt: (B, L, D); gA: (B, N, D); gD: (B, D);
    gB, gC: (B, ngroups, L, N) partial sums over each group's channels."""
    nb_, L, nd = u.shape
    N = At.shape[0]
    nruns = ckpt.shape[1]
    nblk = (nd + block - 1) // block
    for task in nb.prange(nb_ * ngroups):
        b = task // ngroups
        g = task % ngroups
        hbuf = np.empty((CKPT + 1, N, block), dtype=u.dtype)
        abuf = np.empty((CKPT, N, block), dtype=u.dtype)
        x = np.empty((N, block), dtype=u.dtype)
        bits = _int_like(x)
        scale = bits.view(x.dtype)
        gh = np.empty((N, block), dtype=u.dtype)
        Ab = np.empty((N, block), dtype=u.dtype)
        gAb = np.empty((N, block), dtype=u.dtype)
        dtc = np.empty(block, dtype=u.dtype)
        duc = np.empty(block, dtype=u.dtype)
        uc = np.empty(block, dtype=u.dtype)
        gy = np.empty(block, dtype=u.dtype)
        gut = np.empty(block, dtype=u.dtype)
        gdc = np.empty(block, dtype=u.dtype)
        gDc = np.empty(block, dtype=u.dtype)
        for blk in range((g * nblk) // ngroups, ((g + 1) * nblk) // ngroups):
            d0 = blk * block
            w = min(block, nd - d0)
            for n in range(N):
                for c in range(w):
                    Ab[n, c] = At[n, d0 + c]
                    gAb[n, c] = 0.0
                    gh[n, c] = 0.0
            for c in range(w):
                gDc[c] = 0.0
            for k in range(nruns - 1, -1, -1):
                t0 = k * CKPT
                t1 = min(L, t0 + CKPT)
                for n in range(N):
                    for c in range(w):
                        hbuf[0, n, c] = ckpt[b, k, n, d0 + c]
                for t in range(t0, t1):  # recompute the run's decays and states
                    j = t - t0
                    for c in range(w):
                        dtc[c] = dt[b, t, d0 + c]
                        duc[c] = dtc[c] * u[b, t, d0 + c]
                    for n in range(N):
                        for c in range(w):
                            x[n, c] = dtc[c] * Ab[n, c]
                    _exp_block(x, abuf[j], bits, scale, w)
                    for n in range(N):
                        bn = Bt[b, t, n]
                        for c in range(w):
                            hbuf[j + 1, n, c] = abuf[j, n, c] * hbuf[j, n, c] + duc[c] * bn
                for t in range(t1 - 1, t0 - 1, -1):  # adjoint sweep
                    j = t - t0
                    for c in range(w):
                        dtc[c] = dt[b, t, d0 + c]
                        uc[c] = u[b, t, d0 + c]
                        duc[c] = dtc[c] * uc[c]
                        gy[c] = gout[b, t, d0 + c]
                        gDc[c] += gy[c] * uc[c]
                        gut[c] = gy[c] * Dv[d0 + c]
                        gdc[c] = 0.0
                    for n in range(N):
                        bn = Bt[b, t, n]
                        cn = Ct[b, t, n]
                        sc = 0.0
                        sb = 0.0
                        for c in range(w):
                            ght = gh[n, c] + gy[c] * cn
                            ahp = abuf[j, n, c] * hbuf[j, n, c]
                            sc += gy[c] * hbuf[j + 1, n, c]
                            sb += ght * duc[c]
                            gut[c] += ght * dtc[c] * bn
                            gdc[c] += ght * (bn * uc[c] + Ab[n, c] * ahp)
                            gAb[n, c] += ght * dtc[c] * ahp
                            gh[n, c] = ght * abuf[j, n, c]
                        gC[b, g, t, n] += sc
                        gB[b, g, t, n] += sb
                    for c in range(w):
                        gu[b, t, d0 + c] = gut[c]
                        gdt[b, t, d0 + c] = gdc[c]
            for n in range(N):
                for c in range(w):
                    gA[b, n, d0 + c] = gAb[n, c]
            for c in range(w):
                gD[b, d0 + c] = gDc[c]


def _np(t: torch.Tensor) -> np.ndarray:
    """A numpy view of a contiguous CPU tensor (no copy)."""
    return t.detach().numpy()


def _block_width(batch: int, d_inner: int) -> int:
    """Channels per task: at most :data:`BLOCK`, fewer when that leaves threads idle."""
    want = -(-nb.get_num_threads() // max(batch, 1))  # channel blocks per batch element
    width = -(-d_inner // want)
    return max(1, min(BLOCK, -(-width // 8) * 8))


class _ScanCore(torch.autograd.Function):
    """autograd wrapper of the kernels: ``(u, dt, A, B, C, D) -> y``, all in one dtype.

    ``u, dt: (b, d, L)`` (any strides), ``A: (d, n)``, ``B, C: (b, n, L)``, ``D: (d,)``;
    ``y: (b, d, L)``, a view of a ``(b, L, d)``-contiguous tensor.
    """

    @staticmethod
    def forward(ctx, u, dt, A, B, C, D):
        ut = u.transpose(1, 2).contiguous()  # (b, L, d)
        dtt = dt.transpose(1, 2).contiguous()
        At = A.t().contiguous()  # (n, d)
        Bt = B.transpose(1, 2).contiguous()  # (b, L, n): one contiguous N-vector per step
        Ct = C.transpose(1, 2).contiguous()
        nb_, L, nd = ut.shape
        N = A.shape[1]
        save = any(ctx.needs_input_grad)
        nruns = (L + CKPT - 1) // CKPT
        ckpt = ut.new_empty(nb_, nruns, N, nd) if save else ut.new_empty(1, 1, 1, 1)
        out = ut.new_empty(nb_, L, nd)
        block = _block_width(nb_, nd)
        _forward_kernel(_np(ut), _np(dtt), _np(At), _np(Bt), _np(Ct), _np(D.contiguous()),
                        block, save, _np(out), _np(ckpt))
        if save:
            ctx.save_for_backward(ut, dtt, At, Bt, Ct, D, ckpt)
        return out.transpose(1, 2)

    @staticmethod
    def backward(ctx, gout):
        ut, dtt, At, Bt, Ct, D, ckpt = ctx.saved_tensors
        g = gout.to(ut.dtype).transpose(1, 2).contiguous()
        nb_, L, nd = ut.shape
        N = At.shape[0]
        block = _block_width(nb_, nd)
        groups = max(1, min(-(-nd // block), nb.get_num_threads()))
        gu = torch.empty_like(ut)
        gdt = torch.empty_like(ut)
        gA = ut.new_zeros(nb_, N, nd)
        gD = ut.new_zeros(nb_, nd)
        gB = ut.new_zeros(nb_, groups, L, N)
        gC = ut.new_zeros(nb_, groups, L, N)
        _backward_kernel(_np(ut), _np(dtt), _np(At), _np(Bt), _np(Ct), _np(D.contiguous()),
                         _np(ckpt), _np(g), block, groups, _np(gu), _np(gdt), _np(gA),
                         _np(gD), _np(gB), _np(gC))
        return (gu.transpose(1, 2), gdt.transpose(1, 2), gA.sum(0).t(),
                gB.sum(1).transpose(1, 2), gC.sum(1).transpose(1, 2), gD.sum(0))


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
    u, delta, A, B, C = (t.to(ct) for t in (u, delta, A, B, C))
    dt = delta if delta_bias is None else delta + delta_bias.to(ct)[:, None]
    if delta_softplus:
        dt = F.softplus(dt)
    Dv = D.to(ct) if D is not None else u.new_zeros(u.shape[1])
    y = _ScanCore.apply(u, dt, A, B, C, Dv)
    if z is not None:
        y = y * F.silu(z.to(ct))
    return y.to(dtype_in)
