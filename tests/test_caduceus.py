"""Caduceus: reverse-complement equivariance, bidirectionality, tying, padding invariance."""

from __future__ import annotations

import pytest
import torch

from seq2exp_cli.models.caduceus import BiMamba, Caduceus
from seq2exp_cli.models.layers import RMSNorm, reverse_complement, reverse_sequence


def _stack(**kw) -> Caduceus:
    torch.manual_seed(0)
    return Caduceus(16, 2, d_state=4, **kw).double()


def test_rc_equivariance_full_stack_float64():
    model = _stack(rc_equivariant=True)
    x = torch.randn(2, 40, 16, dtype=torch.float64)
    y, y_rc = model(x), model(reverse_complement(x))
    torch.testing.assert_close(y_rc, reverse_complement(y), rtol=0, atol=1e-12)
    # negative control: without parameter sharing the symmetry does not hold
    plain = _stack(rc_equivariant=False)
    assert (plain(reverse_complement(x)) - reverse_complement(plain(x))).abs().max() > 1e-3


def test_rc_equivariance_with_right_padding():
    model = _stack(rc_equivariant=True)
    x = torch.randn(2, 30, 16, dtype=torch.float64)
    lengths = torch.tensor([21, 30])
    y, y_rc = model(x, lengths), model(reverse_complement(x, lengths), lengths)
    torch.testing.assert_close(y_rc, reverse_complement(y, lengths), rtol=0, atol=1e-12)


def test_output_depends_on_both_sides():
    """A single Mamba is causal; BiMamba sees the past and the future of every position."""
    torch.manual_seed(0)
    bi = BiMamba(8, d_state=4).double()
    x = torch.randn(1, 20, 8, dtype=torch.float64, requires_grad=True)
    bi(x)[0, 10].sum().backward()
    g = x.grad[0].abs().sum(-1)
    assert g[:10].sum() > 0 and g[11:].sum() > 0
    x.grad = None
    bi.mamba_fwd(x)[0, 10].sum().backward()
    assert x.grad[0, 11:].abs().sum() == 0


def test_swapping_directions_mirrors_output():
    """BiMamba(fwd=F, rev=R)(x) == flip(BiMamba(fwd=R, rev=F)(flip(x)))."""
    torch.manual_seed(0)
    a = BiMamba(8, d_state=4, tie_projections=False).double()
    b = BiMamba(8, d_state=4, tie_projections=False).double()
    b.mamba_fwd.load_state_dict(a.mamba_rev.state_dict())
    b.mamba_rev.load_state_dict(a.mamba_fwd.state_dict())
    x = torch.randn(2, 15, 8, dtype=torch.float64)
    torch.testing.assert_close(a(x), b(x.flip(1)).flip(1), rtol=0, atol=1e-12)


def test_tied_projections_are_shared():
    tied, untied = BiMamba(8, tie_projections=True), BiMamba(8, tie_projections=False)
    assert tied.mamba_rev.in_proj.weight is tied.mamba_fwd.in_proj.weight
    assert tied.mamba_rev.out_proj.weight is tied.mamba_fwd.out_proj.weight
    n_shared = tied.mamba_fwd.in_proj.weight.numel() + tied.mamba_fwd.out_proj.weight.numel()
    count = lambda m: sum(p.numel() for p in m.parameters())
    assert count(untied) - count(tied) == n_shared


@pytest.mark.parametrize("rc", [False, True])
def test_padding_invariance_with_lengths(rc):
    """Valid outputs of a right-padded sample equal those of the unpadded sample alone."""
    model = _stack(rc_equivariant=rc)
    x = torch.randn(2, 25, 16, dtype=torch.float64)
    lengths = torch.tensor([17, 25])
    y = model(x, lengths)
    alone = model(x[:1, :17])
    torch.testing.assert_close(y[0, :17], alone[0], rtol=0, atol=1e-12)
    x2 = x.clone()
    x2[0, 17:] = 50.0  # different padding content changes nothing valid
    torch.testing.assert_close(model(x2, lengths)[0, :17], y[0, :17], rtol=0, atol=1e-12)


def test_reverse_sequence_with_lengths_is_involution():
    x = torch.arange(12.0).view(2, 6, 1)
    lengths = torch.tensor([4, 6])
    r = reverse_sequence(x, lengths)
    assert r[0, :, 0].tolist() == [3.0, 2.0, 1.0, 0.0, 4.0, 5.0]
    assert r[1, :, 0].tolist() == [11.0, 10.0, 9.0, 8.0, 7.0, 6.0]
    assert torch.equal(reverse_sequence(r, lengths), x)


def test_rmsnorm_matches_formula():
    norm = RMSNorm(5)
    with torch.no_grad():
        norm.weight.copy_(torch.arange(1.0, 6.0))
    x = torch.randn(3, 4, 5)
    expected = x / torch.sqrt((x**2).mean(-1, keepdim=True) + 1e-5) * torch.arange(1.0, 6.0)
    torch.testing.assert_close(norm(x), expected)
