"""The k-mer look-up motif scanner (numba) against the reference one-hot convolution.

The reference, :func:`motif_scan_ref`, is the formulation the bundled model was trained
with: ``one_hot -> F.conv1d(padding="same") -> F.max_pool1d``.  The numba scanner must give
the same outputs and the same gradients of the convolution's weight and bias, for runs of
N (code 4 and any code above), windows padded with N at chromosome ends, motif widths odd,
even and shorter than the k-mer groups, lengths shorter than the motif, and any batch size.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seq2exp_cli.models._embed_numba import kmer_tables, motif_scan_numba
from seq2exp_cli.models.embed import SeqSignalEmbedding, motif_scan, motif_scan_ref


def _seq(rng, B, L, n_frac=0.05):
    """Random codes with N (4) and other non-ACGT codes (5..9) sprinkled in."""
    s = rng.integers(0, 4, size=(B, L))
    n = rng.random((B, L)) < n_frac
    s[n] = rng.integers(4, 10, size=int(n.sum()))
    return torch.from_numpy(s)


def _params(rng, d, K, dtype, dyadic=False):
    if dyadic:  # multiples of 1/16 in [-2, 2]: every sum of <= 64 terms is exact in float32
        w = rng.integers(-32, 33, size=(d, 4, K)) / 16.0
        b = rng.integers(-32, 33, size=d) / 16.0
    else:
        w = rng.normal(size=(d, 4, K))
        b = rng.normal(size=d)
    return (torch.tensor(w, dtype=dtype, requires_grad=True),
            torch.tensor(b, dtype=dtype, requires_grad=True))


def _both(seq, w, b, bin_size, gout=None):
    """Outputs and (weight, bias) gradients of the reference and the numba scanner."""
    res = []
    for f in (motif_scan_ref, motif_scan_numba):
        out = f(seq, w, b, bin_size)
        g = torch.ones_like(out) if gout is None else gout
        res.append((out.detach(), torch.autograd.grad(out, (w, b), g)))
    return res


@pytest.mark.parametrize("B,L,d,K,bin_size", [
    (2, 3_000, 32, 15, 100),   # the cpu presets' scanner
    (3, 630, 5, 4, 7),         # even motif width, odd bin
    (2, 45, 3, 15, 9),         # window shorter than 4 motif widths
    (1, 10, 4, 15, 5),         # window shorter than the motif
    (2, 66, 4, 1, 3),          # motif width 1 (a per-bp linear map)
    (2, 99, 6, 21, 11),        # k = 5 per group
    (8, 400, 8, 15, 100),      # batch of 8
])
def test_matches_reference_float64(B, L, d, K, bin_size):
    rng = np.random.default_rng(B * 1000 + K)
    seq = _seq(rng, B, L)
    w, b = _params(rng, d, K, torch.float64)
    gout = torch.from_numpy(rng.normal(size=(B, L // bin_size, d)))
    (r, gr), (n, gn) = _both(seq, w, b, bin_size, gout)
    assert n.shape == (B, L // bin_size, d) and n.dtype == torch.float64
    torch.testing.assert_close(n, r, rtol=0, atol=1e-12)
    torch.testing.assert_close(gn[0], gr[0], rtol=0, atol=1e-10)
    torch.testing.assert_close(gn[1], gr[1], rtol=0, atol=1e-10)


def test_exact_with_dyadic_weights_ties_included():
    """Weights on a 1/16 grid make every sum exact in float32, so outputs must be bitwise
    equal and ties (frequent on such a grid) must go to the same position: the gradients,
    with a dyadic upstream gradient, are then exactly equal too."""
    rng = np.random.default_rng(3)
    seq = _seq(rng, 4, 2_000, n_frac=0.2)
    seq[0, 300:900] = 4  # a long run of N: every bin inside it ties at the bias
    seq[1, :150] = 4
    w, b = _params(rng, 16, 15, torch.float32, dyadic=True)
    gout = torch.from_numpy(rng.integers(-8, 9, size=(4, 20, 16)) / 8.0).float()
    (r, gr), (n, gn) = _both(seq, w, b, 100, gout)
    torch.testing.assert_close(n, r, rtol=0, atol=0)
    torch.testing.assert_close(gn[0], gr[0], rtol=0, atol=0)
    torch.testing.assert_close(gn[1], gr[1], rtol=0, atol=0)


def test_float32_outputs_at_window_size():
    """A 200 kb window of the cpu presets: float32 outputs equal to rounding."""
    rng = np.random.default_rng(4)
    seq = _seq(rng, 2, 200_000)
    conv = torch.nn.Conv1d(4, 32, 15, padding="same")
    with torch.no_grad():
        r = motif_scan_ref(seq, conv.weight, conv.bias, 100)
        n = motif_scan_numba(seq, conv.weight, conv.bias, 100)
    torch.testing.assert_close(n, r, rtol=0, atol=2e-6)


def test_runs_of_n_and_chromosome_ends():
    """A window hanging off a chromosome end is padded with N; the scanner's own zero
    padding past the window ends must match the convolution's.  All-N bins give the bias."""
    rng = np.random.default_rng(5)
    seq = _seq(rng, 3, 1_000)
    seq[0, :400] = 4      # window starts before the chromosome
    seq[1, 650:] = 4      # window ends after it
    seq[2, :] = 7         # nothing but non-ACGT codes
    w, b = _params(rng, 8, 15, torch.float64)
    (r, gr), (n, gn) = _both(seq, w, b, 50)
    torch.testing.assert_close(n, r, rtol=0, atol=1e-12)
    for x, y in zip(gn, gr):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-10)
    # bins whose motif reach is all N: exactly the bias, and no weight gradient from them
    torch.testing.assert_close(n[0, :7], b.detach().expand(7, 8), rtol=0, atol=0)
    torch.testing.assert_close(n[2], b.detach().expand(20, 8), rtol=0, atol=0)
    only_n = seq.clone()
    only_n[:] = 4
    _, (gw, gb) = _both(only_n, w, b, 50)[1]
    assert float(gw.abs().max()) == 0.0 and float(gb.sum()) == 3 * 20 * 8


def test_batch_of_one_equals_batch_of_eight():
    rng = np.random.default_rng(6)
    seq = _seq(rng, 8, 2_000)
    w, b = _params(rng, 16, 15, torch.float32)
    with torch.no_grad():
        full = motif_scan_numba(seq, w, b, 100)
        one = torch.cat([motif_scan_numba(seq[i:i + 1], w, b, 100) for i in range(8)])
    torch.testing.assert_close(full, one, rtol=0, atol=0)


def test_uint8_codes_as_stores_give_them():
    rng = np.random.default_rng(7)
    seq = _seq(rng, 2, 500)
    w, b = _params(rng, 4, 15, torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(motif_scan_numba(seq.to(torch.uint8), w, b, 50),
                                   motif_scan_numba(seq, w, b, 50), rtol=0, atol=0)


def test_kmer_tables_hold_the_column_sums():
    rng = np.random.default_rng(8)
    w = torch.from_numpy(rng.normal(size=(3, 4, 7)))
    t = kmer_tables(w)  # K = 7 -> k = 2 offsets per group, 5 groups (offsets 7..9 weigh 0)
    assert t.shape == (5, 25, 3)
    # group 1 holds offsets 2 and 3; code = a0 + 5 a1 for bases (a0 at offset 2, a1 at 3)
    torch.testing.assert_close(t[1, 2 + 5 * 3], w[:, 2, 2] + w[:, 3, 3])
    torch.testing.assert_close(t[1, 4 + 5 * 1], w[:, 1, 3])  # N at offset 2
    torch.testing.assert_close(t[3, 1 + 5 * 2], w[:, 1, 6])  # offset 7 is past K - 1
    assert float(t[4].abs().max()) == 0.0


def test_non_finite_weights_fall_back_to_the_reference():
    rng = np.random.default_rng(9)
    seq = _seq(rng, 1, 300)
    w, b = _params(rng, 4, 15, torch.float32)
    with torch.no_grad():
        w[1, 2, 3] = float("nan")
        r = motif_scan_ref(seq, w, b, 100)
        n = motif_scan(seq, w, b, 100, backend="auto")
        with pytest.raises(ValueError, match="finite"):
            motif_scan_numba(seq, w, b, 100)
    torch.testing.assert_close(n, r, rtol=0, atol=0, equal_nan=True)
    assert torch.isnan(n[:, :, 1]).any()


def test_module_backends_share_parameters_and_results():
    torch.manual_seed(0)
    ref = SeqSignalEmbedding(16, 3, bin_size=100, motif_width=15, backend="ref")
    fast = SeqSignalEmbedding(16, 3, bin_size=100, motif_width=15, backend="numba")
    fast.load_state_dict(ref.state_dict())
    assert set(ref.state_dict()) == {"seq_proj.weight", "seq_proj.bias", "sig_proj.weight",
                                     "sig_proj.bias"}
    rng = np.random.default_rng(10)
    seq = _seq(rng, 2, 1_000)
    sig = torch.rand(2, 1_000, 3)
    a = ref(seq, sig)
    c = fast(seq, sig)
    for x, y in zip(a, c):
        torch.testing.assert_close(x, y, rtol=0, atol=2e-6)
    a[0].sum().backward()
    c[0].sum().backward()
    torch.testing.assert_close(fast.seq_proj.weight.grad, ref.seq_proj.weight.grad,
                               rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(fast.seq_proj.bias.grad, ref.seq_proj.bias.grad)


def test_backend_argument_is_checked():
    with pytest.raises(ValueError, match="backend"):
        SeqSignalEmbedding(8, 2, bin_size=10, backend="fast")
    w, b = torch.zeros(2, 4, 3), torch.zeros(2)
    with pytest.raises(ValueError, match="numba"):
        motif_scan(torch.zeros(1, 10, dtype=torch.long), w.half(), b.half(), 5, backend="numba")
