"""Token embeddings of DNA sequence and epigenomic signals.

Inputs arrive per base pair: ``seq: (B, L)`` integer codes A=0, C=1, G=2, T=3, N=4 (any
code >= 4 is treated as N, whose one-hot is all zeros) and ``signals: (B, L, k)`` floats.
``L`` must be divisible by ``bin_size``; the caller pads (sequence with N, signals with 0).
Outputs are per token, ``T = L // bin_size`` tokens.

``bin_size == 1`` (the paper): ``seq_emb = Linear(4, d)(one_hot(seq))`` and
``sig_emb = Linear(k, d)(signals)``.

``bin_size > 1``: the one-hot sequence goes through ``Conv1d(4, d, motif_width, padding
"same")`` at bp resolution and is max-pooled over each bin (a learned motif scanner: a motif
anywhere in a bin still lights up the bin's channel); signals are averaged per bin, then
``Linear(k, d)``.

The motif scanner has two implementations, equal up to float rounding in outputs and in the
gradients of the convolution's weight and bias (tests hold them so):

- :func:`motif_scan_ref`: one-hot, ``F.conv1d``, ``F.max_pool1d`` (any device; the
  reference, and the runtime fallback);
- :func:`~._embed_numba.motif_scan_numba`: k-mer table look-ups fused with the bin maximum
  (CPU, numba), which never allocates the per-bp one-hot or convolution output.

``backend="auto"`` (the default) uses numba for CPU tensors when numba is importable, else
the reference.  Either way the parameters are the same ``seq_proj`` ``Conv1d``, so
checkpoints (``embed.seq_proj.weight`` / ``.bias``) load unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

try:  # numba is a core dependency, but keep the package importable without it
    import numba as _numba  # noqa: F401

    HAS_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAS_NUMBA = False

__all__ = ["EMBED_BACKENDS", "SeqSignalEmbedding", "bin_mean", "motif_scan", "motif_scan_ref",
           "one_hot"]

N_CODE = 4
EMBED_BACKENDS = ("auto", "numba", "ref")


def one_hot(seq: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """One-hot encode codes ``seq: (B, L)`` (A,C,G,T = 0..3; >= 4 -> all zeros) -> ``(B, L, 4)``."""
    codes = seq.long().clamp(0, N_CODE)
    return F.one_hot(codes, N_CODE + 1)[..., :N_CODE].to(dtype)


def bin_mean(x: torch.Tensor, bin_size: int) -> torch.Tensor:
    """Average ``x: (B, L, k)`` over consecutive bins of ``bin_size`` bp -> ``(B, L // bin_size, k)``."""
    if bin_size == 1:
        return x
    B, L, k = x.shape
    return x.view(B, L // bin_size, bin_size, k).mean(2)


def motif_scan_ref(seq: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                   bin_size: int) -> torch.Tensor:
    """Motif scanner as written: one-hot, ``Conv1d(padding="same")``, max-pool per bin.

    Parameters
    ----------
    seq : torch.Tensor, shape=(B, L), integer
        Base codes (>= 4 is N, an all-zero one-hot); ``L`` a multiple of ``bin_size``.
    weight : torch.Tensor, shape=(d, 4, K)
    bias : torch.Tensor, shape=(d,)
    bin_size : int

    Returns
    -------
    torch.Tensor, shape=(B, L // bin_size, d), in the weight's dtype
    """
    x = one_hot(seq, weight.dtype).transpose(1, 2)  # (B, 4, L)
    h = F.conv1d(x, weight, bias, padding="same")  # (B, d, L)
    h = F.max_pool1d(h, kernel_size=bin_size, stride=bin_size)  # (B, d, T)
    return h.transpose(1, 2)


def motif_scan(seq: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, bin_size: int,
               backend: str = "auto") -> torch.Tensor:
    """The motif scanner with the backend ``backend`` (see the module docstring).

    Same arguments and result as :func:`motif_scan_ref`.
    """
    if backend not in EMBED_BACKENDS:
        raise ValueError(f"backend must be one of {EMBED_BACKENDS}, got {backend!r}")
    fast = (HAS_NUMBA and weight.device.type == "cpu" and seq.device.type == "cpu"
            and weight.dtype in (torch.float32, torch.float64))
    if backend == "numba" and not fast:
        raise ValueError("the 'numba' motif scanner needs numba, CPU tensors and float32/64 "
                         "weights; use backend='auto'")
    finite = bool(torch.isfinite(weight).all()) and bool(torch.isfinite(bias).all())
    if backend == "ref" or not fast or not finite:  # NaN propagates as max_pool1d's
        return motif_scan_ref(seq, weight, bias, bin_size)
    from ._embed_numba import motif_scan_numba  # compiles lazily, at first call

    return motif_scan_numba(seq, weight, bias, bin_size)


class SeqSignalEmbedding(nn.Module):
    """Embed sequence codes and signal values into ``d_model`` channels per token.

    Parameters
    ----------
    d_model : int
        Output channels ``d``.
    n_signals : int
        Signal tracks ``k``.
    bin_size : int
        bp per token (1 = the paper's per-base embedding).
    motif_width : int
        Width in bp of the motif-scanning convolution (used when ``bin_size > 1``).
    backend : {"auto", "numba", "ref"}
        Implementation of the motif scanner (:func:`motif_scan`).

    Attributes
    ----------
    seq_proj : nn.Linear(4, d)  (``bin_size == 1``) or nn.Conv1d(4, d, motif_width)
    sig_proj : nn.Linear(k, d)
    """

    def __init__(
        self, d_model: int, n_signals: int, bin_size: int = 1, motif_width: int = 15,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        if bin_size < 1:
            raise ValueError(f"bin_size must be >= 1, got {bin_size}")
        if backend not in EMBED_BACKENDS:
            raise ValueError(f"backend must be one of {EMBED_BACKENDS}, got {backend!r}")
        self.backend = backend
        self.d_model = d_model
        self.n_signals = n_signals
        self.bin_size = bin_size
        self.motif_width = motif_width
        if bin_size == 1:
            self.seq_proj = nn.Linear(4, d_model)
        else:
            self.seq_proj = nn.Conv1d(4, d_model, kernel_size=motif_width, padding="same")
        self.sig_proj = nn.Linear(n_signals, d_model)

    def check_inputs(self, seq: torch.Tensor, signals: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``seq: (B, L)`` and ``signals: (B, L, k)`` fit this layer."""
        if seq.dim() != 2:
            raise ValueError(f"seq must have shape (batch, length_bp), got {tuple(seq.shape)}")
        B, L = seq.shape
        if signals.shape != (B, L, self.n_signals):
            raise ValueError(
                f"signals must have shape ({B}, {L}, {self.n_signals}), got {tuple(signals.shape)}"
            )
        if L % self.bin_size:
            raise ValueError(
                f"sequence length {L} bp is not a multiple of bin_size {self.bin_size}; pad it"
            )

    def embed_sequence(self, seq: torch.Tensor) -> torch.Tensor:
        """``seq: (B, L)`` codes -> ``(B, T, d)``."""
        dtype = self.sig_proj.weight.dtype
        if self.bin_size == 1:
            # Linear(4, d) on a one-hot == a lookup of weight columns (+ bias); N -> bias only.
            table = torch.cat(
                [self.seq_proj.weight.t(), self.seq_proj.weight.new_zeros(1, self.d_model)]
            )
            return F.embedding(seq.long().clamp(0, N_CODE), table) + self.seq_proj.bias
        w, b = self.seq_proj.weight, self.seq_proj.bias
        return motif_scan(seq, w.to(dtype), b.to(dtype), self.bin_size, self.backend)

    def embed_signals(self, signals_binned: torch.Tensor) -> torch.Tensor:
        """Binned ``signals: (B, T, k)`` -> ``(B, T, d)``."""
        return self.sig_proj(signals_binned.to(self.sig_proj.weight.dtype))

    def forward(
        self, seq: torch.Tensor, signals: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Embed one batch.

        Parameters
        ----------
        seq : torch.LongTensor, shape=(B, L)
            Base codes per bp.
        signals : torch.Tensor, shape=(B, L, k)
            Signal values per bp.

        Returns
        -------
        seq_emb : torch.Tensor, shape=(B, T, d)
        sig_emb : torch.Tensor, shape=(B, T, d)
        signals_binned : torch.Tensor, shape=(B, T, k)
            Per-token signal values (bin means), used for the signal Beta.
        """
        self.check_inputs(seq, signals)
        binned = bin_mean(signals, self.bin_size)
        return self.embed_sequence(seq), self.embed_signals(binned), binned
