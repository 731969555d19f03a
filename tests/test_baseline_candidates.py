"""Candidate-element caller: planted peaks, promoter exclusion, suppression, truncation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seq2exp_cli.models.baselines.candidates import (
    activity_track,
    box_smooth,
    call_candidates,
    gather_windows,
    peak_track_index,
)
from seq2exp_cli.contacts import abc_powerlaw

L = 20_000
TSS = L // 2


def planted(peaks: list[tuple[int, int, float]], n: int = 1) -> np.ndarray:
    """(n, L) zeros with boxes ``[start, start + width)`` of the given heights."""
    x = np.zeros((n, L), np.float32)
    for a, w, h in peaks:
        x[:, a: a + w] = h
    return x


def call(x, **kw):
    args = dict(n_max=5, width=500, reach_bp=9_800, promoter_bp=1000)
    args.update(kw)
    return call_candidates(x, **args)


# ------------------------------------------------------------------ planted peaks
def test_three_planted_boxes_give_their_centres_in_order_of_height():
    # boxes of 300 bp: the smoothed top is flat and centred on the box's centre
    x = planted([(2000, 300, 2.0), (14_000, 300, 5.0), (6000, 300, 3.0)])
    c = call(x)
    assert c.valid.tolist() == [[True, True, True, False, False]]
    np.testing.assert_array_equal(c.summit[0, :3], [14_150, 6150, 2150])
    np.testing.assert_array_equal(c.start[0, :3], [13_900, 5900, 1900])
    np.testing.assert_array_equal(c.end[0, :3], [14_400, 6400, 2400])
    # height = box height x 300 / 500 (the box filter's 500 bp)
    np.testing.assert_allclose(c.height[0, :3], [3.0, 1.8, 1.2], rtol=1e-9)
    # padding is all zero
    assert (c.start[0, 3:] == 0).all() and (c.end[0, 3:] == 0).all() and (c.height[0, 3:] == 0).all()


def test_torch_input_and_batch_rows_are_independent():
    a = planted([(3000, 400, 1.0), (15_000, 400, 2.0)])
    b = planted([(5000, 200, 7.0)])
    both = torch.from_numpy(np.concatenate([a, b]))
    c = call(both)
    ca, cb = call(a), call(b)
    np.testing.assert_array_equal(c.summit, np.concatenate([ca.summit, cb.summit]))
    np.testing.assert_array_equal(c.valid, np.concatenate([ca.valid, cb.valid]))
    assert c.valid.sum(1).tolist() == [2, 1]


def test_promoter_peak_excluded_at_the_exact_boundary():
    # excluded iff |summit - TSS| < promoter_bp / 2 + width / 2 = 750
    x = planted([(TSS + 200 - 150, 300, 9.0),       # summit TSS + 200: excluded
                 (TSS - 749 - 150, 300, 4.0),       # TSS - 749: excluded
                 (TSS + 750 - 150, 300, 3.0),       # TSS + 750: kept (element touches the promoter)
                 (4000, 300, 1.0)])
    c = call(x, smooth_bp=100)
    got = c.summit[0][c.valid[0]].tolist()
    assert got == [TSS + 750, 4150]
    p_lo, p_hi = TSS - 500, TSS + 500
    for s, e in zip(c.start[0][c.valid[0]], c.end[0][c.valid[0]]):
        assert e <= p_lo or s >= p_hi


def test_n_max_keeps_the_strongest():
    heights = [1.0, 5.0, 2.0, 4.0, 3.0]
    x = planted([(1000 + 1500 * i, 300, h) for i, h in enumerate(heights)])
    c = call(x, n_max=2)
    assert c.valid.shape == (1, 2) and c.valid.all()
    np.testing.assert_array_equal(c.summit[0], [1000 + 1500 * 1 + 150, 1000 + 1500 * 3 + 150])
    assert call(x, n_max=0).valid.shape == (1, 0)


def test_suppression_keeps_summits_at_least_width_apart():
    # narrow smoothing so the three boxes stay separate maxima
    x = planted([(4000, 100, 5.0), (4300, 100, 3.0), (4600, 100, 2.0)])
    c = call(x, smooth_bp=50)
    got = c.summit[0][c.valid[0]].tolist()
    assert got == [4050, 4650]          # 4350 lies within 500 bp of 4050; 4650 does not
    assert all(abs(a - b) >= 500 for i, a in enumerate(got) for b in got[i + 1:])


def test_reach_threshold_blacklist_and_empty_window():
    x = planted([(500, 300, 5.0), (8000, 300, 2.0), (12_000, 300, 0.1)])
    # summit 650 is 9350 bp from the TSS
    c = call(x, reach_bp=9000, rel_height=0.0)
    assert c.summit[0][c.valid[0]].tolist() == [8150, 12_150]
    c = call(x, reach_bp=9900, rel_height=0.0)
    assert c.summit[0][c.valid[0]].tolist() == [650, 8150, 12_150]
    # default rel_height 0.05: 0.06 (smoothed) is below 5 % of the highest summit, 3.0
    c = call(x, reach_bp=9900)
    assert c.summit[0][c.valid[0]].tolist() == [650, 8150]
    c = call(x, reach_bp=9900, rel_height=0.0, min_height=0.1)
    assert c.summit[0][c.valid[0]].tolist() == [650, 8150]
    bl = np.zeros((1, L), bool)
    bl[0, 7900:8400] = True
    c = call(x, reach_bp=9000, rel_height=0.0, blacklist=bl)
    assert c.summit[0][c.valid[0]].tolist() == [12_150]
    c = call(np.zeros((2, L)))
    assert not c.valid.any() and (c.start == 0).all() and (c.end == 0).all()


def test_promoter_peak_does_not_raise_the_threshold():
    x = planted([(TSS - 150, 300, 1000.0), (3000, 300, 1.0), (16_000, 300, 0.04)])
    c = call(x)
    assert c.summit[0][c.valid[0]].tolist() == [3150]      # 0.04 < 5 % of 1.0; 1.0 kept


def test_element_at_the_window_edge_is_clipped():
    x = planted([(0, 100, 4.0)])
    c = call(x, reach_bp=10_000, smooth_bp=50)
    assert c.valid[0, 0]
    s = int(c.summit[0, 0])
    assert s < 100
    assert c.start[0, 0] == 0 and c.end[0, 0] == s - 250 + 500


def test_bad_arguments():
    with pytest.raises(ValueError):
        call(np.zeros(L))
    with pytest.raises(ValueError):
        call(np.zeros((1, L)), width=0)


# ------------------------------------------------------------------ helpers
def test_box_smooth_is_the_centred_moving_average():
    rng = np.random.default_rng(0)
    x = rng.random((2, 300))
    s = box_smooth(x, 20)
    for i in (0, 5, 150, 299):
        lo, hi = max(0, i - 10), min(300, i + 10)
        np.testing.assert_allclose(s[:, i], x[:, lo:hi].sum(1) / 20)


def test_gather_windows_pads_outside_the_window():
    x = torch.arange(2 * 50).reshape(2, 50)
    summit = torch.tensor([[2, 25], [48, 10]])
    g = gather_windows(x, summit, 6, pad_value=-1)
    assert g.shape == (2, 2, 6)
    assert g[0, 0].tolist() == [-1, 0, 1, 2, 3, 4]
    assert g[0, 1].tolist() == list(range(22, 28))
    assert g[1, 0].tolist() == [95, 96, 97, 98, 99, -1]
    g3 = gather_windows(x[..., None].repeat(1, 1, 3).float(), summit, 6)
    assert g3.shape == (2, 2, 6, 3) and g3[0, 0, 0].tolist() == [0.0, 0.0, 0.0]


def test_activity_and_powerlaw_and_track_choice():
    s = torch.tensor([[[4.0, 9.0, 0.3]]])
    assert activity_track(s, ("dnase", "h3k27ac", "contact")).item() == pytest.approx(6.0)
    assert activity_track(s, ("h3k27ac", "x", "contact")).item() == pytest.approx(4.0)
    assert activity_track(s, ("a", "b", "contact")).item() == 0.0
    d = torch.tensor([0.0, -3000.0, 5000.0, 20_000.0])
    want = [math.exp(5.96 - 1.024 * math.log(max(abs(v), 5000) + 1)) for v in d.tolist()]
    np.testing.assert_allclose(abc_powerlaw(d).numpy(), want, rtol=1e-6)
    assert peak_track_index(("h3k27ac", "dnase", "contact")) == 1
    assert peak_track_index(("contact", "h3k27ac")) == 1
    assert peak_track_index(("contact",)) is None
