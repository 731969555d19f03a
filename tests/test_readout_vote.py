"""The vote-form Beta, the Bernoulli information term and the additive readout (issue 11).

Each piece is checked against its closed form or a brute-force loop written here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seq2exp_cli.models.beta_mask import (bernoulli_kl, gate_beta_params, signal_vote,
                                         vote_beta_params)
from seq2exp_cli.models.presets import preset
from seq2exp_cli.models.readout import ActivityReadout
from seq2exp_cli.models.seq2exp import Seq2Exp


def test_vote_beta_is_the_product_of_two_betas_in_mean_concentration_form():
    # Beta(kx mx, kx (1-mx)) x Beta(ks ms, ks (1-ms)) in the reference's product form
    # (alpha and beta add) has mean v mx + (1-v) ms with v = kx / (kx + ks)
    mx, ms = torch.tensor([0.9, 0.2, 0.5]), torch.tensor([0.1, 0.7, 0.5])
    v, k = 0.6, 10.0
    kx, ks = v * k, (1 - v) * k
    a, b, mu = vote_beta_params(mx, ms, v, k)
    torch.testing.assert_close(a, kx * mx + ks * ms)
    torch.testing.assert_close(b, kx * (1 - mx) + ks * (1 - ms))
    torch.testing.assert_close(mu, a / (a + b))
    # the signals alone can never carry a token past 1 - v when the sequence says 0
    _, _, mu0 = vote_beta_params(torch.zeros(4), torch.ones(4), v, k)
    assert float(mu0.max()) <= 1 - v + 1e-6


def test_bernoulli_kl_closed_form_and_bound():
    mu = torch.tensor([0.05, 0.3, 0.9, 0.999])
    p = 0.05
    want = [m * math.log(m / p) + (1 - m) * math.log((1 - m) / (1 - p)) for m in mu.tolist()]
    np.testing.assert_allclose(bernoulli_kl(mu, p).numpy(), want, rtol=1e-5, atol=1e-7)
    assert float(bernoulli_kl(torch.tensor([p]), p)) == pytest.approx(0.0, abs=1e-7)
    assert float(bernoulli_kl(torch.tensor([1.0]), p)) <= -math.log(p) + 1e-5


def test_signal_vote_ignores_zero_weight_tracks_and_is_scale_free_input():
    s = torch.tensor([[[1.0, 0.0, 5.0], [0.0, 0.0, 5.0]]])  # (1, 2, 3): dnase, h3k27ac, contact
    v = signal_vote(s, (0.5, 0.5, 0.0))
    np.testing.assert_allclose(v.numpy(), [[1 - math.exp(-0.5), 0.0]], rtol=1e-6)


def _readout_reference(mask, binned, promoter, ro: ActivityReadout) -> tuple[float, np.ndarray]:
    """The readout of one window by explicit loops over tokens."""
    W = ro.act.weight.detach().numpy()[0]  # (n, width)
    bias = float(ro.act.bias.detach())
    n, width = W.shape
    T = binned.shape[0]
    contrib = np.zeros(T)
    for t in range(T):
        if promoter[0] <= t < promoter[1]:
            continue
        z = bias
        for i, ch in enumerate(ro.act_idx):
            for j in range(width):
                u = t + j - width // 2
                x = math.log(ro.eps + max(binned[u, ch], 0.0)) if 0 <= u < T else 0.0
                z += W[i, j] * x
        c = 10.0 ** binned[t, ro.contact_idx] - 1.0
        contrib[t] = mask[t] * c * math.exp(z)
    b = math.exp(float(ro.log_b.detach()))
    return float(ro.weight.detach()) * math.log1p(contrib.sum() / b), contrib


def test_readout_equals_the_token_loop():
    torch.manual_seed(0)
    ro = ActivityReadout(("h3k27ac", "dnase", "contact"), width=5)
    with torch.no_grad():  # move off the ABC initialisation so every weight matters
        ro.act.weight.add_(0.1 * torch.randn_like(ro.act.weight))
        ro.act.bias.fill_(0.3)
    B, T = 2, 30
    binned = torch.rand(B, T, 3)
    binned[..., 2] *= 0.1
    mask = torch.rand(B, T)
    out = ro(mask, binned, (12, 15))
    for i in range(B):
        term, contrib = _readout_reference(mask[i].numpy(), binned[i].numpy(), (12, 15), ro)
        assert float(out.term[i].detach()) == pytest.approx(term, rel=1e-5)
        np.testing.assert_allclose(out.contribution[i].detach().numpy(), contrib, rtol=1e-5,
                                   atol=1e-9)
        b = math.exp(float(ro.log_b.detach()))
        np.testing.assert_allclose(out.share[i].detach().numpy(), contrib / (b + contrib.sum()),
                                   rtol=1e-5, atol=1e-9)


def test_readout_gradient_reaches_every_open_token_and_no_closed_one():
    # d term / d m_t = w c_t a_t / (b + S): a token with no contact gets no gradient
    ro = ActivityReadout(("dnase", "contact"), width=1)
    binned = torch.zeros(1, 6, 2)
    binned[0, :, 0] = torch.tensor([1.0, 1.0, 0.5, 1.0, 1.0, 1.0])
    binned[0, :, 1] = torch.log10(1 + torch.tensor([0.2, 0.0, 0.1, 0.1, 0.3, 0.05]))
    m = torch.full((1, 6), 0.5, requires_grad=True)
    out = ro(m, binned, None)
    out.term.sum().backward()
    a = ro.activity(binned)[0].detach()
    c = ro.contact(binned)[0].detach()
    S = (0.5 * a * c).sum()
    want = float(ro.weight.detach()) * c * a / (math.exp(float(ro.log_b.detach())) + S)
    torch.testing.assert_close(m.grad[0], want, rtol=1e-5, atol=1e-8)
    assert float(m.grad[0, 1]) == 0.0


def test_additive_vote_model_trains_a_step_and_scores_links():
    mcfg, _ = preset("cpu", window_bp=20_000, beta_product="vote", sparsity="bernoulli",
                     readout="additive", generator_signals=True, prior_fraction=0.05)
    torch.manual_seed(1)
    net = Seq2Exp(mcfg)
    seq = torch.randint(0, 5, (2, 20_000))
    sig = torch.rand(2, 20_000, 3)
    out = net(seq, sig)
    loss, parts = net.loss(out, torch.tensor([1.0, 2.0]))
    loss.backward()
    # the task loss reaches the generator's head through the readout
    assert float(net.mask_head.proj.weight.grad.abs().sum()) > 0
    assert parts["kl"] >= 0
    mask, share = net.token_shares(seq, sig)
    t0, t1 = 99, 101  # the central 2 kb at 100 bp per token
    assert mask.shape == share.shape == (2, 200)
    assert float(share[:, t0:t1].abs().sum()) == 0.0
    b = math.exp(float(net.readout.log_b.detach()))
    # shares of S over b + S: they sum to S / (b + S) < 1
    assert ((share.sum(1) > 0) & (share.sum(1) < 1)).all()
    assert b > 0


def test_gate_form_is_the_generator_mean_times_accessibility():
    mx, g = torch.tensor([0.9, 0.9, 0.2, 0.5]), torch.tensor([0.0, 0.8, 0.8, 1.0])
    a, b, mu = gate_beta_params(mx, g, 10.0)
    torch.testing.assert_close(mu, (mx * g).clamp(1e-3, 1 - 1e-3))
    torch.testing.assert_close(a + b, torch.full((4,), 10.0))
    torch.testing.assert_close(a / (a + b), mu)
    # the gain: a site at a fifth of the robust scale is 1 - 1/e open at gain 5
    s = torch.tensor([[[0.2, 3.0, 1.0]]])  # dnase, h3k27ac, contact
    np.testing.assert_allclose(signal_vote(s, (1.0, 0.0, 0.0), 5.0).numpy(),
                               [[1 - math.exp(-1.0)]], rtol=1e-6)


def test_gate_model_keeps_nothing_closed():
    """A closed token's mask is the floor whatever the generator says (acetylation without
    accessibility included); open tokens keep the generator's say."""
    mcfg, _ = preset("cpu", window_bp=20_000, beta_product="gate", sparsity="bernoulli",
                     readout="additive", generator_signals=True, prior_fraction=0.05,
                     readout_tracks=("dnase",), gate_tracks=("dnase",))
    torch.manual_seed(2)
    net = Seq2Exp(mcfg).eval()
    seq = torch.randint(0, 4, (1, 20_000))
    sig = torch.zeros(1, 20_000, 3)
    sig[0, 5_000:5_300, 1] = 1.0  # dnase (channel order of the cpu preset: h3k27ac, dnase, c)
    sig[0, :, 2] = 0.5
    sig[0, 14_000:14_300, 0] = 2.0  # acetylation without accessibility: still closed
    assert list(mcfg.signal_names).index("dnase") == 1
    out = net(seq, sig)
    m = out.mask_mean[0].detach()
    open_t = torch.zeros(200, dtype=torch.bool)
    open_t[50:53] = True
    t0, t1 = 99, 101
    closed = ~open_t
    closed[t0:t1] = False
    assert float(m[closed].max()) <= 1e-3 + 1e-7
    assert float(m[open_t].min()) > 0.05
