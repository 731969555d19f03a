"""The Beta-mask maths against independent truth (numerical integration, Monte-Carlo)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from seq2exp_cli.models.beta_mask import (
    MaskHead,
    beta_kl,
    combine_betas,
    force_regions,
    prior_params,
    promoter_token_span,
    sample_mask,
    signal_beta_params,
    straight_through_threshold,
)

PAIRS = [(2.0, 3.0, 1.5, 4.0), (1.2, 1.1, 0.5, 0.7), (5.0, 2.0, 3.0, 9.0)]


def _t(*xs):
    return [torch.tensor(x, dtype=torch.float64) for x in xs]


@pytest.mark.parametrize("a1,b1,a2,b2", PAIRS)
def test_paper_product_is_normalised_product_of_densities(a1, b1, a2, b2):
    """Beta(a1,b1) * Beta(a2,b2), normalised by quadrature, equals the Beta the code builds."""
    a, b = combine_betas(*_t(a1, b1, a2, b2), form="paper")
    prod = lambda x: stats.beta.pdf(x, a1, b1) * stats.beta.pdf(x, a2, b2)
    z, _ = integrate.quad(prod, 0, 1, limit=200)
    grid = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(prod(grid) / z, stats.beta.pdf(grid, float(a), float(b)), rtol=1e-6)


def test_reference_product_equals_shifted_product_and_z_keeps_mean():
    """Reference form (z=1) is the normalised product of Beta(a1+1, b1+1) and Beta(a2, b2)."""
    a1, b1, a2, b2 = 2.0, 3.0, 1.5, 4.0
    a, b = combine_betas(*_t(a1, b1, a2, b2), form="reference")
    prod = lambda x: stats.beta.pdf(x, a1 + 1, b1 + 1) * stats.beta.pdf(x, a2, b2)
    z, _ = integrate.quad(prod, 0, 1, limit=200)
    grid = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(prod(grid) / z, stats.beta.pdf(grid, float(a), float(b)), rtol=1e-6)
    a3, b3 = combine_betas(*_t(a1, b1, a2, b2), form="reference", z_scale=4.0)
    assert float(a3 / (a3 + b3)) == pytest.approx(float(a / (a + b)))
    assert stats.beta.var(float(a3), float(b3)) < stats.beta.var(float(a), float(b)) / 3


def test_paper_product_clamps_invalid_sums():
    a, b = combine_betas(*_t(0.3, 2.0, 0.4, 0.2), form="paper", min_concentration=1e-3)
    assert float(a) == pytest.approx(1e-3) and float(b) == pytest.approx(1.2)


def test_signal_beta_params_by_hand():
    # reference weights (2,2,1) normalise to (0.4, 0.4, 0.2); b = (1.5, 0.2, 1.0); b_min=1, c=10
    s = torch.tensor([[[2.0, 0.5, 1.0], [0.0, 0.0, 0.0]]])
    alpha, beta = signal_beta_params(s, (2.0, 2.0, 1.0), (1.5, 0.2, 1.0), beta_min=1.0, scale=10.0)
    # alpha = 10 * (0.4*3 + 0.4*1.5 + 0.2*2) = 22 ; 10 * (0.4 + 0.4 + 0.2) = 10
    torch.testing.assert_close(alpha, torch.tensor([[22.0, 10.0]]))
    # beta = 10 * (0.4*2.5 + 0.4*1.2 + 0.2*2) = 18.8 at every token
    torch.testing.assert_close(beta, torch.tensor([[18.8, 18.8]]))


def test_prior_params_reference_values():
    assert prior_params(0.1, 100.0) == pytest.approx((10.0, 90.0))
    assert prior_params(0.45, 0.1 / 0.45) == pytest.approx((0.1, 0.12222222))
    with pytest.raises(ValueError):
        prior_params(1.0, 5.0)


@pytest.mark.parametrize(
    "a,b,a0,b0", [(2.0, 5.0, 10.0, 90.0), (0.7, 1.3, 0.1, 0.1222), (12.0, 3.0, 1.0, 1.0)]
)
def test_kl_closed_form_matches_monte_carlo(a, b, a0, b0):
    rng = np.random.default_rng(0)
    x = np.clip(rng.beta(a, b, size=400_000), 1e-300, 1 - 1e-16)
    log_ratio = stats.beta.logpdf(x, a, b) - stats.beta.logpdf(x, a0, b0)
    mc, se = log_ratio.mean(), log_ratio.std() / np.sqrt(len(x))
    kl = float(beta_kl(*_t(a, b), a0, b0))
    assert abs(kl - mc) < 4 * se + 1e-9, (kl, mc, se)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Beta(*_t(a, b)), torch.distributions.Beta(*_t(a0, b0))
    )
    assert kl == pytest.approx(float(ref), rel=1e-9)


def test_sampling_train_vs_eval_and_pathwise_gradient():
    alpha = torch.full((200_000,), 2.0, dtype=torch.float64, requires_grad=True)
    beta = torch.full((200_000,), 3.0, dtype=torch.float64)
    torch.manual_seed(0)
    m1 = sample_mask(alpha, beta, sample=True)
    m2 = sample_mask(alpha, beta, sample=True)
    assert not torch.equal(m1, m2)
    se = m1.std() / np.sqrt(m1.numel())
    assert abs(float(m1.detach().mean()) - 0.4) < 4 * float(se.detach())
    # d E[m] / d alpha = beta / (alpha + beta)^2 = 3 / 25, estimated by the pathwise gradient
    m1.sum().backward()
    g = alpha.grad
    assert abs(float(g.mean()) - 0.12) < 4 * float(g.std() / np.sqrt(g.numel()))
    e1 = sample_mask(alpha, beta, sample=False)
    assert torch.equal(e1, sample_mask(alpha, beta, sample=False))
    torch.testing.assert_close(e1, torch.full_like(e1, 0.4))


def test_straight_through_threshold():
    m = torch.tensor([0.1, 0.5, 0.51, 0.9], requires_grad=True)
    h = straight_through_threshold(m, 0.5)
    assert h.tolist() == [0.0, 0.0, 1.0, 1.0]
    (h * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert m.grad.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_force_regions_blacklist_zero_promoter_one():
    m = torch.full((2, 10), 0.3, requires_grad=True)
    bl = torch.zeros(2, 10, dtype=torch.bool)
    bl[0, :5] = True
    out = force_regions(m, bl, (4, 6))
    assert out[0, :4].eq(0).all() and out[:, 4:6].eq(1).all()  # promoter wins over blacklist
    assert out[1, :4].eq(0.3).all() and out[:, 6:].eq(0.3).all()
    out.sum().backward()
    assert m.grad[0, :6].eq(0).all() and m.grad[1, 4:6].eq(0).all() and m.grad[:, 6:].eq(1).all()


def test_promoter_token_span_brute_force():
    assert promoter_token_span(200_000, 1, 2000) == (99_000, 101_000)
    assert promoter_token_span(200_000, 100, 2000) == (990, 1010)
    for L, bs, p in [(12, 4, 2), (12, 3, 5), (20, 5, 20), (21, 7, 1), (16, 1, 3)]:
        s = (L - p) // 2
        tokens = sorted({x // bs for x in range(s, s + p)})
        assert promoter_token_span(L, bs, p) == (tokens[0], tokens[-1] + 1)


def test_mask_head_floor():
    head = MaskHead(4, beta_min=1.0)
    a, b = head(torch.randn(2, 7, 4) * 100)
    assert a.shape == (2, 7) and (a >= 1).all() and (b >= 1).all()
