"""ABC baseline: ABC scores by hand, the ridge fit against least squares, a planted
promoter-activity law, shapes and the config."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seq2exp_cli.models.baselines.abc import ABCConfig, ABCModel

L = 20_000
TSS = L // 2
NAMES = ("dnase", "h3k27ac", "contact")


def small(**kw) -> ABCConfig:
    base = dict(window_bp=L, signal_names=NAMES, n_elements=8, reach_bp=9000)
    base.update(kw)
    return ABCConfig(**base)


def window(elements: list[tuple[int, float, float, float]], promoter: tuple[float, float] = (0.0, 0.0),
           k: int = 3) -> torch.Tensor:
    """(1, L, k) signals: per element (centre, DNase, H3K27ac, contact C) a 500 bp box
    centred on ``centre`` and ``log10(1 + C)`` on the contact channel over +-1 kb; the
    promoter (TSS +- 500) gets (DNase, H3K27ac) = ``promoter``."""
    s = np.zeros((1, L, k), np.float32)
    s[0, TSS - 500: TSS + 500, 0], s[0, TSS - 500: TSS + 500, 1] = promoter
    for c, d, h, con in elements:
        s[0, c - 250: c + 250, 0] = d
        s[0, c - 250: c + 250, 1] = h
        if k > 2:
            s[0, c - 1000: c + 1000, 2] = math.log10(1 + con)
    return torch.from_numpy(s)


def no_seq(B: int = 1) -> torch.Tensor:
    return torch.full((B, L), 4, dtype=torch.long)


# ------------------------------------------------------------------ ABC scores by hand
def test_abc_score_equals_hand_computation():
    els = [(4000, 4.0, 9.0, 20.0), (13_000, 1.0, 1.0, 50.0), (16_000, 9.0, 16.0, 5.0)]
    sig = window(els)
    m = ABCModel(small())
    es = m.element_scores(no_seq(), sig, None, None)
    v = es.valid[0]
    assert int(v.sum()) == 3
    A = {c: 500 * math.sqrt(d * h) for c, d, h, _ in els}          # sum over the 500 bp
    num = {c: A[c] * con for c, _, _, con in els}
    tot = sum(num.values())
    mids = ((es.start[0] + es.end[0]) // 2)[v].tolist()
    assert sorted(mids) == [4000, 13_000, 16_000]
    for mid, sc in zip(mids, es.score[0][v].tolist()):
        assert sc == pytest.approx(num[mid] / tot, rel=1e-4)
    assert float(es.score[0].sum()) == pytest.approx(1.0, rel=1e-5)
    # elements are exactly the boxes (summit +- 250)
    for s_, e_, mid in zip(es.start[0][v].tolist(), es.end[0][v].tolist(), mids):
        assert (s_, e_) == (mid - 250, mid + 250)


def test_single_element_and_powerlaw_fallback():
    sig = window([(6000, 2.0, 8.0, 30.0)])
    m = ABCModel(small())
    es = m.element_scores(no_seq(), sig, None, None)
    assert int(es.valid.sum()) == 1 and float(es.score[es.valid]) == pytest.approx(1.0)
    # without a contact channel: C = exp(5.96 - 1.024 ln(d + 1)), d clipped at 5 kb
    els = [(3000, 1.0, 1.0, 0.0), (11_000, 1.0, 4.0, 0.0)]       # d = 7000 and 1000 (-> 5000)
    m2 = ABCModel(small(signal_names=("dnase", "h3k27ac")))
    es2 = m2.element_scores(no_seq(), window(els, k=2), None, None)
    pl = lambda d: math.exp(5.96 - 1.024 * math.log(max(d, 5000) + 1))  # noqa: E731
    n3, n11 = 500 * 1.0 * pl(7000), 500 * 2.0 * pl(1000)
    got = dict(zip(((es2.start[0] + es2.end[0]) // 2).tolist(), es2.score[0].tolist()))
    assert got[3000] == pytest.approx(n3 / (n3 + n11), rel=1e-4)
    assert got[11_000] == pytest.approx(n11 / (n3 + n11), rel=1e-4)


def test_design_columns_by_hand():
    els = [(4000, 4.0, 9.0, 20.0), (15_000, 1.0, 4.0, 10.0)]
    sig = window(els, promoter=(2.0, 8.0))
    m = ABCModel(small())
    x = m.design(None, sig, None, None)
    assert x.shape == (1, 2)
    assert float(x[0, 0]) == pytest.approx(math.log1p(1000 * 4.0), rel=1e-5)
    abc_sum = 500 * 6.0 * 20.0 + 500 * 2.0 * 10.0
    assert float(x[0, 1]) == pytest.approx(math.log1p(abc_sum), rel=1e-5)
    # a blacklisted promoter has no activity; contact is left alone
    bl = torch.zeros(1, L, dtype=torch.bool)
    bl[0, TSS - 600: TSS + 600] = True
    assert float(m.design(None, sig, None, bl)[0, 0]) == 0.0
    assert float(m.design(None, sig, None, bl)[0, 1]) == pytest.approx(math.log1p(abc_sum), rel=1e-5)


# ------------------------------------------------------------------ ridge
def test_ridge_matches_least_squares_as_lambda_goes_to_zero():
    rng = np.random.default_rng(0)
    n = 200
    X = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + [3.0, -1.0, 10.0]
    w_true, b_true = np.array([1.5, -0.4, 7.0]), 2.0
    y = X @ w_true + b_true + 0.1 * rng.normal(size=n)
    m = ABCModel(small(n_gene_features=1))
    assert m.cfg.n_design == 3
    m.fit(torch.tensor(X), torch.tensor(y), lam=1e-9)
    coef, *_ = np.linalg.lstsq(np.c_[X, np.ones(n)], y, rcond=None)
    w = (m.head.out.weight[0] / m.x_scale).detach().double().numpy()
    b = m.head.out.bias.item() - (m.head.out.weight[0] * m.x_mean / m.x_scale).sum().item()
    np.testing.assert_allclose(w, coef[:3], rtol=1e-4, atol=1e-5)
    assert b == pytest.approx(coef[3], rel=1e-3)
    np.testing.assert_allclose(w, w_true, atol=0.05)
    with torch.no_grad():
        pred = m.head((torch.tensor(X, dtype=torch.float32) - m.x_mean) / m.x_scale).double().numpy()
    np.testing.assert_allclose(pred, np.c_[X, np.ones(n)] @ coef, atol=1e-3)
    # lam = 0 exactly also works; the intercept is the mean of y whatever lam is
    m.fit(torch.tensor(X), torch.tensor(y), lam=0.0)
    np.testing.assert_allclose((m.head.out.weight[0] / m.x_scale).detach().double().numpy(), coef[:3],
                               rtol=1e-4, atol=1e-5)
    for lam in (1.0, 1e3):
        m.fit(torch.tensor(X), torch.tensor(y), lam=lam)
        assert m.output_bias().item() == pytest.approx(y.mean(), rel=1e-6)


def test_ridge_penalty_matches_the_normal_equations():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 2)) * [2.0, 0.5]
    y = X @ [1.0, 3.0] + rng.normal(size=50)
    Z = (X - X.mean(0)) / X.std(0)
    lam = 25.0
    want = np.linalg.solve(Z.T @ Z + lam * np.eye(2), Z.T @ (y - y.mean()))
    m = ABCModel(small()).fit(torch.tensor(X), torch.tensor(y), lam)
    np.testing.assert_allclose(m.head.out.weight[0].detach().double().numpy(), want, rtol=1e-5)
    np.testing.assert_allclose(m.x_scale.double().numpy(), X.std(0), rtol=1e-5)
    norms = [ABCModel(small()).fit(torch.tensor(X), torch.tensor(y), l).head.out.weight.norm().item()
             for l in (0.0, 10.0, 1000.0)]
    assert norms[0] > norms[1] > norms[2] > 0
    # a constant column gets scale 1 and coefficient 0
    Xc = np.c_[X[:, :1], np.full(50, 3.0)]
    mc = ABCModel(small()).fit(torch.tensor(Xc), torch.tensor(y), 1e-6)
    assert float(mc.x_scale[1]) == 1.0 and mc.head.out.weight[0, 1].item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError):
        mc.fit(torch.zeros(5, 3), torch.zeros(5), 1.0)
    with pytest.raises(ValueError):
        mc.fit(torch.zeros(5, 2), torch.zeros(4), 1.0)


def test_planted_promoter_law_is_recovered_on_held_out_genes():
    """y = 2 log1p(promoter activity) + 1; distal peaks are a nuisance column."""
    rng = np.random.default_rng(3)
    n = 60
    sigs, ys = [], []
    for _ in range(n):
        d, h = rng.uniform(0.05, 20.0, 2)
        els = [(int(c), *rng.uniform(0.5, 5.0, 2), float(rng.uniform(1, 100)))
               for c in rng.choice([2000, 4000, 6000, 13_000, 15_000, 17_000], 3, replace=False)]
        sigs.append(window(els, promoter=(d, h)))
        ys.append(2 * math.log1p(1000 * math.sqrt(d * h)) + 1)
    sig, y = torch.cat(sigs), torch.tensor(ys)
    m = ABCModel(small(ridge_lambda=1e-3))
    tr, te = slice(0, 40), slice(40, n)
    X = torch.cat([m.design(None, sig[i: i + 8], None, None) for i in range(0, 40, 8)])
    m.fit(X, y[tr])
    w = (m.head.out.weight[0] / m.x_scale).detach()
    assert float(w[0]) == pytest.approx(2.0, abs=1e-2) and abs(float(w[1])) < 1e-2
    with torch.no_grad():
        pred = m(no_seq(n - 40), sig[te], None, None).pred
    r = float(np.corrcoef(pred.numpy(), y[te].numpy())[0, 1])
    assert r > 0.99
    assert float((pred - y[te]).abs().max()) < 0.05
    # the fitted state travels in the state dict
    m2 = ABCModel(small())
    m2.load_state_dict(m.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(m2(no_seq(n - 40), sig[te], None, None).pred, pred)


# ------------------------------------------------------------------ shapes, features, config
def test_shapes_padding_and_promoter_exclusion():
    rng = np.random.default_rng(0)
    sig = torch.zeros(3, L, 3)
    for b in range(2):
        for c in rng.choice(np.r_[1500:8500:1000, 12_000:19_000:1000], 10, replace=False):
            sig[b, c - 100: c + 100, :2] = float(rng.uniform(1, 5))
        sig[b, TSS - 100: TSS + 100, :2] = 50.0                    # promoter peak: never a candidate
    sig[..., 2] = 1.0
    m = ABCModel(small())
    out = m(no_seq(3), sig, None, torch.zeros(3, L, dtype=torch.bool))
    assert out.pred.shape == (3,) and (out.pred == 0).all()         # unfitted: zero map
    es = m.element_scores(no_seq(3), sig, None, None)
    for t in (es.start, es.end, es.score, es.valid):
        assert t.shape == (3, 8)
    assert es.valid[:2].all() and not es.valid[2].any() and (es.score[2] == 0).all()
    v = es.valid
    assert (es.start[v] >= 0).all() and (es.end[v] <= L).all()
    assert ((es.end[v] <= TSS - 500) | (es.start[v] >= TSS + 500)).all()
    assert torch.allclose(es.score[:2].sum(1), torch.ones(2))
    assert m.scores_elements and m.closed_form and m.output_bias() is m.head.out.bias


def test_features_used_or_ignored():
    sig = window([(4000, 1.0, 1.0, 5.0)], promoter=(1.0, 1.0))
    f = torch.tensor([[3.0, -1.0]])
    cfg = small(n_gene_features=2, feature_mean=[1.0, 0.0], feature_scale=[2.0, 1.0])
    m = ABCModel(cfg)
    x = m.design(None, sig, f, None)
    assert x.shape == (1, 4) and x[0, 2:].tolist() == [1.0, -1.0]
    with pytest.raises(ValueError):
        m.design(None, sig, None, None)
    m_off = ABCModel(small(n_gene_features=2, use_features=False, use_abc_sum=False))
    assert m_off.design(None, sig, None, None).shape == (1, 1)
    assert m_off(no_seq(), sig, None, None).pred.shape == (1,)


def test_config_round_trip_and_validation():
    cfg = small(n_gene_features=1, feature_mean=[0.5], feature_scale=[2.0], ridge_lambda=3.0,
                use_abc_sum=False)
    back = ABCConfig.from_dict(cfg.to_dict())
    assert back == cfg and back.model_type == "abc" and back.n_design == 2
    full = ABCConfig()
    assert (full.element_bp, full.n_elements, full.promoter_bp, full.ridge_lambda) == (500, 150, 1000, 1.0)
    with pytest.raises(ValueError, match="ridge_lambda"):
        small(ridge_lambda=-1.0)
    with pytest.raises(ValueError, match="element_bp"):
        small(element_bp=0)
