"""CPU motif scanner: one-hot convolution + max-pool per bin as k-mer table look-ups (numba).

The motif scanner of :class:`~.embed.SeqSignalEmbedding` (``bin_size > 1``) is::

    h[b, c, p] = bias[c] + sum_{j < K} sum_{a < 4} W[c, a, j] * onehot(seq)[b, a, p + j - left]
    out[b, t, c] = max_{p in bin t} h[b, c, p]

with ``left = (K - 1) // 2`` (``padding="same"``) and the one-hot all zero for N (code >= 4)
and past either end of the window.  A one-hot input makes the inner sum a look-up:
``h[b, :, p] = bias + sum_j W[:, s[p + j - left], j]`` (a zero column for N).  Here the K
offsets are split into ``GROUPS = 5`` runs of ``k = ceil(K / 5)`` consecutive offsets
(K = 15: k = 3); group ``g`` gets a table ``table[g, code]`` (shape ``(5, 5**k, d)``)
holding the sum of its k weight columns for every k-mer ``code = sum_m s[m] * 5**m`` over
the alphabet A, C, G, T, N (offsets past K - 1 weigh 0).  Then
``h[b, :, p] = bias + sum_g table[g, kmer(p - left + g k)]``: 5 vector adds of width d per
bp instead of 4 K multiply-adds, and neither the one-hot ``(B, 4, L)`` nor ``h`` ``(B, d,
L)`` is allocated: each bin's ``h`` lives in an L1-sized workspace while its maximum is taken.

The forward also records, per (batch, token, channel), the bp position of the maximum
(``argmax``; the first maximum on ties, as torch's ``max_pool1d``; non-finite weights go
to the reference, whose NaN handling is torch's).
Backward then needs only those positions: the gradient of ``out[b, t, c]`` reaches ``bias[c]``
and the K weights ``W[c, s[p + j - left], j]`` at ``p = argmax[b, t, c]``, so it costs
``B T d K`` scalar adds and no per-bp array.

Values equal those of the convolution up to float rounding (the additions are grouped
differently).  Nothing compiles at import; kernels compile (cached on disk) at first use.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import torch

from .._pools import prefer_forksafe_numba

prefer_forksafe_numba()

__all__ = ["GROUPS", "kmer_size", "kmer_tables", "motif_scan_numba"]

#: look-up tables per position: the K offsets are split into this many groups of
#: k = ceil(K / GROUPS) (K = 15: k = 3, tables of 5**3 = 125 rows of d, in L1/L2 cache)
GROUPS = 5
_ALPHABET = 5  # A, C, G, T, N
_CHUNK = 32  # tokens per parallel task


def kmer_size(K: int) -> int:
    """Offsets per look-up group for a motif width ``K``: ``ceil(K / GROUPS)``."""
    return max(1, -(-int(K) // GROUPS))


def kmer_tables(weight: torch.Tensor, k: int | None = None) -> torch.Tensor:
    """Sum tables of the k-mer look-up.

    Parameters
    ----------
    weight : torch.Tensor, shape=(d, 4, K)
        ``Conv1d(4, d, K)`` weights.
    k : int, optional
        Offsets per group (default :func:`kmer_size`); ``GROUPS * k >= K``.

    Returns
    -------
    torch.Tensor, shape=(GROUPS, 5**k, d)
        ``table[g, sum_m a_m 5**m] = sum_m W[:, a_m, g k + m]`` (column 0 for N, and for
        offsets past K - 1), in the weight's dtype, contiguous.
    """
    d, _, K = weight.shape
    k = kmer_size(K) if k is None else int(k)
    G = GROUPS
    if G * k < K:
        raise ValueError(f"{G} groups of {k} offsets cannot hold a motif of width {K}")
    cols = weight.new_zeros(G * k, _ALPHABET, d)  # (offset, base, channel); N row stays 0
    cols[:K, :4] = weight.detach().permute(2, 1, 0)
    codes = torch.arange(_ALPHABET ** k, device=weight.device)
    digits = torch.stack([(codes // _ALPHABET ** m) % _ALPHABET for m in range(k)], 1)  # (5^k, k)
    cols = cols.view(G, k, _ALPHABET, d)
    table = cols.new_zeros(G, _ALPHABET ** k, d)
    for m in range(k):
        table += cols[:, m, digits[:, m]]
    return table.contiguous()


@nb.njit(inline="always", cache=True)
def _base(seq, b, s, L):
    """Return the code of ``seq[b, s]`` as the one-hot sees it.

    4 (N, all zero) past the ends and for codes >= 4; negative codes clamp to 0, as
    ``one_hot``'s ``clamp(0, 4)`` does.
    """
    if s < 0 or s >= L:
        return 4
    v = seq[b, s]
    if v >= 4:
        return 4
    if v < 0:
        return 0
    return v


@nb.njit(parallel=True, cache=True)
def _forward_kernel(seq, table, bias, bin_size, left, k, save, out, arg):
    """out: (B, T, d) bin maxima; arg: (B, T, d) int32 bp of each maximum (when ``save``).

    ``table``: (GROUPS, 5**k, d).  Per bin: the k-mer codes of its positions (rolling), the
    per-bp sums into an L1-sized (bin_size, d) workspace (vectorised over d), then the
    maximum over the bin (first maximum on ties).
    """
    B, L = seq.shape
    d = table.shape[2]
    T = L // bin_size
    nchunk = (T + _CHUNK - 1) // _CHUNK
    span = bin_size + (GROUPS - 1) * k  # k-mer starts one bin needs
    top = 5 ** (k - 1)
    for task in nb.prange(B * nchunk):
        b = task // nchunk
        t0 = (task % nchunk) * _CHUNK
        t1 = min(T, t0 + _CHUNK)
        codes = np.empty(span, np.int64)
        H = np.empty((bin_size, d), table.dtype)
        best = np.empty(d, table.dtype)
        where = np.empty(d, table.dtype)  # offset in the bin, as a float: vectorised selects
        for t in range(t0, t1):
            p0 = t * bin_size - left  # window position of offset 0 of the bin's first bp
            c = 0
            for m in range(k - 1):
                c += _base(seq, b, p0 + m, L) * 5 ** (m + 1)
            for q in range(span):  # codes[q] = sum_m base(p0 + q + m) 5**m
                c = c // 5 + _base(seq, b, p0 + q + k - 1, L) * top
                codes[q] = c
            for j in range(bin_size):
                r0 = table[0, codes[j]]
                r1 = table[1, codes[j + k]]
                r2 = table[2, codes[j + 2 * k]]
                r3 = table[3, codes[j + 3 * k]]
                r4 = table[4, codes[j + 4 * k]]
                h = H[j]
                for cc in range(d):
                    h[cc] = bias[cc] + r0[cc] + r1[cc] + r2[cc] + r3[cc] + r4[cc]
            best[:] = H[0]
            if save:
                where[:] = 0
                for j in range(1, bin_size):
                    h = H[j]
                    fj = np.float32(j)
                    for cc in range(d):
                        x = h[cc]
                        y = best[cc]
                        take = x > y
                        best[cc] = x if take else y
                        where[cc] = fj if take else where[cc]
                for cc in range(d):
                    arg[b, t, cc] = np.int32(where[cc]) + t * bin_size
            else:
                for j in range(1, bin_size):
                    h = H[j]
                    for cc in range(d):
                        x = h[cc]
                        y = best[cc]
                        best[cc] = x if x > y else y
            for cc in range(d):
                out[b, t, cc] = best[cc]


@nb.njit(parallel=True, cache=True)
def _backward_kernel(seq, arg, gout, K, left, gW, gb):
    """gW: (parts, d, 4, K) and gb: (parts, d) partial sums, one slice per task."""
    B, T, d = gout.shape
    L = seq.shape[1]
    parts = gW.shape[0]
    n = B * T
    for part in nb.prange(parts):
        for i in range((part * n) // parts, ((part + 1) * n) // parts):
            b = i // T
            t = i % T
            for c in range(d):
                g = gout[b, t, c]
                gb[part, c] += g
                p = arg[b, t, c]
                for j in range(K):
                    v = _base(seq, b, p + j - left, L)
                    if v < 4:
                        gW[part, c, v, j] += g


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().contiguous().numpy()


class _MotifScan(torch.autograd.Function):
    """autograd wrapper: ``(seq, weight, bias) -> out``; gradients to weight and bias."""

    @staticmethod
    def forward(ctx, seq, weight, bias, table, bin_size):
        d, _, K = weight.shape
        B, L = seq.shape
        T = L // bin_size
        left = (K - 1) // 2
        k = kmer_size(K)
        save = ctx.needs_input_grad[1] or ctx.needs_input_grad[2]
        out = weight.new_empty(B, T, d)
        arg = torch.empty((B, T, d) if save else (1, 1, 1), dtype=torch.int32)
        seq_np = _np(seq)
        _forward_kernel(seq_np, _np(table), _np(bias.to(weight.dtype)), bin_size, left, k,
                        save, out.numpy(), arg.numpy())
        if save:
            ctx.save_for_backward(seq, arg)
            ctx.shape = (K, left)
        return out

    @staticmethod
    def backward(ctx, gout):
        seq, arg = ctx.saved_tensors
        K, left = ctx.shape
        B, T, d = gout.shape
        parts = max(1, min(nb.get_num_threads(), B * T))
        gW = gout.new_zeros(parts, d, 4, K)
        gb = gout.new_zeros(parts, d)
        _backward_kernel(_np(seq), arg.numpy(), _np(gout), K, left, gW.numpy(), gb.numpy())
        return None, gW.sum(0), gb.sum(0), None, None


def motif_scan_numba(seq: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                     bin_size: int) -> torch.Tensor:
    """Max over each bin of ``Conv1d(4, d, K, padding="same")`` on the one-hot of ``seq``.

    Parameters
    ----------
    seq : torch.Tensor, shape=(B, L), integer, CPU
        Base codes A=0, C=1, G=2, T=3, N=4 (>= 4 is N); ``L`` a multiple of ``bin_size``.
    weight : torch.Tensor, shape=(d, 4, K), float32 or float64, CPU
    bias : torch.Tensor, shape=(d,)
    bin_size : int
        bp per token.

    Returns
    -------
    torch.Tensor, shape=(B, L // bin_size, d)
        In the weight's dtype; differentiable in ``weight`` and ``bias``.

    Raises
    ------
    ValueError
        On a non-finite weight or bias (:func:`~.embed.motif_scan` then runs the reference,
        so NaN propagates exactly as torch's ``max_pool1d`` propagates it).
    """
    if seq.dtype not in (torch.uint8, torch.int16, torch.int32, torch.int64):
        seq = seq.long()
    if weight.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"motif_scan_numba needs float32/float64 weights, got {weight.dtype}")
    table = kmer_tables(weight)
    if not (bool(torch.isfinite(table).all()) and bool(torch.isfinite(bias).all())):
        raise ValueError("motif_scan_numba needs finite weights and bias")
    return _MotifScan.apply(seq.contiguous(), weight, bias, table, int(bin_size))
