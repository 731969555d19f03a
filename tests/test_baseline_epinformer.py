"""EPInformer baseline: shapes, candidates in the window, padding, features, config, and a
planted task it must learn (motif-carrying peaks drive expression, decoys do not)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seq2exp_cli.models.baselines.epinformer import EPInformer, EPInformerConfig

L = 20_000
TSS = L // 2
NAMES = ("dnase", "h3k27ac", "contact")


def small(**kw) -> EPInformerConfig:
    base = dict(window_bp=L, signal_names=NAMES, n_elements=6, element_bp=500, reach_bp=9000,
                promoter_bp=1000, d_model=16, n_conv_filters=8, n_attention_layers=2, n_heads=2,
                head_hidden=16)
    base.update(kw)
    return EPInformerConfig(**base)


def batch(B: int = 3, seed: int = 0, k: int = 3):
    """Random sequence; DNase/H3K27ac boxes of 300 bp (>= 1.5 kb from the TSS); contact decaying
    with distance; the last window has no peak at all."""
    rng = np.random.default_rng(seed)
    seq = torch.from_numpy(rng.integers(0, 5, (B, L)))
    sig = np.zeros((B, L, k), np.float32)
    for b in range(B - 1):
        for c in rng.choice(np.r_[1000:8000:700, 12_000:19_000:700], 8, replace=False):
            sig[b, c - 150: c + 150, :2] = rng.uniform(1, 5)
    sig[..., k - 1] = np.log10(1 + 50 * np.exp(-np.abs(np.arange(L) - TSS) / 5000))
    return seq, torch.from_numpy(sig), torch.zeros(B, L, dtype=torch.bool)


# ------------------------------------------------------------------ shapes and structure
def test_shapes_windows_and_padding():
    torch.manual_seed(0)
    cfg = small()
    m = EPInformer(cfg).eval()
    seq, sig, bl = batch()
    out = m(seq, sig, None, bl)
    assert out.pred.shape == (3,) and torch.isfinite(out.pred).all()
    es = m.element_scores(seq, sig, None, bl)
    for t in (es.start, es.end, es.score, es.valid):
        assert t.shape == (3, cfg.n_elements)
    assert es.valid[:2].all()                     # 8 peaks each, 6 kept
    assert not es.valid[2].any()                  # no peak: all padding
    assert (es.score[2] == 0).all() and (es.start[2] == 0).all() and (es.end[2] == 0).all()
    v = es.valid
    assert (es.start[v] >= 0).all() and (es.end[v] <= L).all() and (es.start[v] < es.end[v]).all()
    p_lo, p_hi = TSS - cfg.promoter_bp // 2, TSS + cfg.promoter_bp // 2
    assert ((es.end[v] <= p_lo) | (es.start[v] >= p_hi)).all()
    assert ((es.start[v] + es.end[v]) // 2 - TSS).abs().max() <= cfg.reach_bp
    assert (es.score[v] > 0).all()                # attention, activity and contact all > 0
    assert m.scores_elements and not m.closed_form and not m.needs_contact_matrix


def test_features_none_and_with_features():
    torch.manual_seed(0)
    seq, sig, bl = batch(B=2)
    m0 = EPInformer(small()).eval()
    assert m0(seq, sig, None, bl).pred.shape == (2,)
    assert m0(seq, sig, torch.randn(2, 4), bl).pred.shape == (2,)    # unused features ignored
    cfg = small(n_gene_features=3, feature_mean=[1.0, 0.0, 0.0], feature_scale=[2.0, 1.0, 1.0])
    m = EPInformer(cfg).eval()
    f = torch.randn(2, 3)
    p1 = m(seq, sig, f, bl).pred
    p2 = m(seq, sig, f + torch.tensor([0.0, 0.0, 5.0]), bl).pred
    assert p1.shape == (2,) and not torch.allclose(p1, p2)
    with pytest.raises(ValueError):
        m(seq, sig, None, bl)


def test_gradients_reach_every_parameter_and_batch_of_one_trains():
    torch.manual_seed(0)
    seq, sig, bl = batch(B=2)
    m = EPInformer(small(dropout=0.0)).train()
    out = m(seq, sig, None, bl)
    loss, parts = m.loss(out, torch.tensor([1.0, 2.0]))
    loss.backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert set(parts) >= {"task", "loss", "mse"}
    # a single window with a single token of each kind still trains (no batch statistics)
    one = sig[:1].clone()
    one[..., :2] = 0
    one[0, 3000:3300, :2] = 2.0
    m(seq[:1], one, None, bl[:1]).pred.sum().backward()
    assert m.output_bias() is m.head.out.bias


def test_blacklist_and_missing_tracks():
    torch.manual_seed(0)
    seq, sig, bl = batch(B=2)
    m = EPInformer(small()).eval()
    es = m.element_scores(seq, sig, None, bl)
    s0, e0 = int(es.start[0, 0]), int(es.end[0, 0])
    bl2 = bl.clone()
    bl2[0, s0:e0] = True
    es2 = m.element_scores(seq, sig, None, bl2)
    mids = ((es2.start[0] + es2.end[0]) // 2)[es2.valid[0]]
    assert not ((mids >= s0) & (mids < e0)).any()
    # only H3K27ac (peaks called on it, power-law contact), and no track at all
    m1 = EPInformer(small(signal_names=("h3k27ac",))).eval()
    es1 = m1.element_scores(seq, sig[..., 1:2], None, bl)
    assert es1.valid[0].any() and (es1.score[es1.valid] > 0).all()
    m2 = EPInformer(small(signal_names=("contact",))).eval()
    assert not m2.element_scores(seq, sig[..., 2:], None, bl).valid.any()
    assert torch.isfinite(m2(seq, sig[..., 2:], None, bl).pred).all()


def test_no_elements_configured():
    seq, sig, bl = batch(B=2)
    m = EPInformer(small(n_elements=0)).eval()
    assert m(seq, sig, None, bl).pred.shape == (2,)
    assert m.element_scores(seq, sig, None, bl).score.shape == (2, 0)


def test_attention_mask_shape_and_rules():
    valid = torch.tensor([[True, False, True]])
    a = EPInformer.attention_mask(valid)[0]
    assert a[0].tolist() == [True, True, False, True]          # promoter: itself + valid elements
    assert a[:, 0].all()                                        # everyone sees the promoter
    assert a[1].tolist() == [True, True, False, False]          # an element: promoter + itself


def test_config_round_trip_and_validation():
    cfg = small(n_gene_features=2, feature_mean=[0.5, 1.0], feature_scale=[1.0, 2.0])
    d = cfg.to_dict()
    assert d["n_elements"] == 6 and d["signal_names"] == list(NAMES)
    back = EPInformerConfig.from_dict(d)
    assert back == cfg and back.model_type == "epinformer"
    full = EPInformerConfig()
    assert (full.n_elements, full.element_bp, full.reach_bp, full.n_attention_layers) == (60, 2000, 100_000, 3)
    with pytest.raises(ValueError, match="n_heads"):
        small(d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="element_bp"):
        small(element_bp=0)
    with pytest.raises(ValueError, match="unknown"):
        EPInformerConfig.from_dict({**d, "bogus": 1})


# ------------------------------------------------------------------ planted task
MOTIF = np.array(["ACGT".index(c) for c in "TGACTCAGCA"])
SLOTS = np.array([1000, 2500, 4000, 5500, 7000, 8500, 11_500, 13_000, 14_500, 16_000, 17_500, 19_000])


def planted_windows(n: int, seed: int):
    """Windows with 0-3 motif-carrying peaks and 2-7 decoy peaks (300 bp boxes, DNase =
    H3K27ac = h ~ U(1, 4)); expression y = sum of h over the motif-carrying peaks.

    Each peak's 700 bp surrounding is one of 8 shared random backgrounds and the promoter is
    the same in every window, so only the motif tells peaks (and windows) apart; a motif
    element carries 3 copies of a 10-bp site.  Returns tensors and, per window, the peak
    centres and their motif labels.
    """
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, 4, (n, L))
    seq[:, TSS - 1500: TSS + 1500] = rng.integers(0, 4, 3000)
    backgrounds = rng.integers(0, 4, (8, 700))
    sig = np.zeros((n, L, 3), np.float32)
    sig[..., 2] = np.log10(1 + 100 * np.exp(-np.abs(np.arange(L) - TSS) / 20_000))
    y = np.zeros(n, np.float32)
    peaks = []
    for i in range(n):
        n_motif, n_decoy = int(rng.integers(0, 4)), int(rng.integers(2, 8))
        k = n_motif + n_decoy
        centres = rng.choice(SLOTS, k, replace=False) + rng.integers(-200, 200, k)
        h = rng.uniform(1, 4, k)
        motif = np.arange(k) < n_motif
        for c, hc, mo in zip(centres, h, motif):
            seq[i, c - 350: c + 350] = backgrounds[rng.integers(8)]
            sig[i, c - 150: c + 150, :2] = hc
            if mo:
                for q in range(3):
                    off = c - 140 + 93 * q + rng.integers(0, 83)
                    seq[i, off: off + 10] = MOTIF
        y[i] = h[motif].sum()
        peaks.append((centres, motif))
    return torch.from_numpy(seq), torch.from_numpy(sig), torch.from_numpy(y), peaks


def auroc(score: np.ndarray, label: np.ndarray) -> float:
    """Probability that a positive outranks a negative (ties count half)."""
    pos, neg = score[label], score[~label]
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum())
                 / (len(pos) * len(neg)))


def train_planted(seed: int = 0, steps: int = 300, n_train: int = 64, n_test: int = 32,
                  shuffle_y: bool = False) -> tuple[float, float]:
    """Train on the planted windows; return (held-out Pearson, held-out element AUROC)."""
    torch.manual_seed(seed)
    seq, sig, y, peaks = planted_windows(n_train + n_test, 1000 + seed)
    bl = torch.zeros(n_train + n_test, L, dtype=torch.bool)
    cfg = EPInformerConfig(window_bp=L, signal_names=NAMES, n_elements=12, element_bp=500,
                           reach_bp=10_000, promoter_bp=1000, d_model=32, n_conv_filters=16,
                           n_attention_layers=1, n_heads=4, head_hidden=32, dropout=0.0, loss="mse")
    m = EPInformer(cfg)
    y_train = y[:n_train][torch.randperm(n_train)] if shuffle_y else y[:n_train]
    with torch.no_grad():
        m.output_bias().fill_(float(y_train.mean()))
    lr = 3e-3
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    for step in range(steps):
        idx = torch.randint(0, n_train, (16,), generator=g)
        loss, _ = m.loss(m(seq[idx], sig[idx], None, bl[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= steps // 2:           # halve, then decay linearly to 0
            for group in opt.param_groups:
                group["lr"] = lr * (1 - (step + 1) / steps)
    m.eval()
    te = slice(n_train, n_train + n_test)
    with torch.no_grad():
        pred = m(seq[te], sig[te], None, bl[te]).pred.numpy()
    es = m.element_scores(seq[te], sig[te], None, bl[te])
    r = float(np.corrcoef(pred, y[te].numpy())[0, 1])
    mid = ((es.start + es.end) // 2).numpy()
    scores, labels = [], []
    for i in range(n_test):
        centres, motif = peaks[n_train + i]
        for j in np.flatnonzero(es.valid[i].numpy()):
            near = np.abs(centres - mid[i, j])
            assert near.min() <= 2, "the caller should find the planted peak centres"
            scores.append(float(es.score[i, j]))
            labels.append(bool(motif[near.argmin()]))
        assert int(es.valid[i].sum()) == len(centres)
    return r, auroc(np.array(scores), np.array(labels))


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.slow
def test_planted_motif_peaks_learned_and_ranked(one_thread):
    """Measured (torch 2.13 CPU, one thread): seed 0 gives Pearson 0.91, AUROC 0.93; seeds 0-5
    Pearson 0.69-0.93, AUROC 0.85-0.99.  With shuffled training targets (seeds 0-3) Pearson
    stayed <= 0.19 and AUROC 0.44-0.77, so both assertions fail for a model that learns nothing."""
    r, auc = train_planted(seed=0)
    assert r > 0.7, r
    assert auc > 0.8, auc
