"""Interval metrics and AUPRC against values computed by hand.

The hand case, chr1, one gene with TSS 500 and a 1,000 bp window (promoter TSS ± 50)::

    bp      0   100 150 180 200 250 300 350 450 500 550 600 620 650 700 800 820 840 900 1000
    window  [===================================================================================)
    promot.                                     [=======)                  (TSS ± 50 = 450-551)
    enh                 E1 [100,200)                        E2 [600,700)
    decoy                                                                  D1 [800,900)
    elements     A [150,250) 0.9                B [600,650) 0.5            C [820,840) 0.2
    peaks   P1 [100,180) 5   P3 [300,350) 1     P2 [500,620) 3

Universe = [0,450) + [551,1000) = 899 bp (the promoter is TSS ± 50 here: [450, 551)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.evaluation import intervals as ivs


def _df(rows, score=None):
    df = pd.DataFrame(rows, columns=["chrom", "start", "end"] + ([score] if score else []))
    return df


GENES = pd.DataFrame({"gene_id": ["g"], "chrom": ["chr1"], "tss": [500], "strand": ["+"]})
ENH = _df([("chr1", 100, 200), ("chr1", 600, 700)])
DECOY = _df([("chr1", 800, 900)])
ELEM = _df([("chr1", 150, 250, 0.9), ("chr1", 600, 650, 0.5), ("chr1", 820, 840, 0.2)],
           "mean_mask")
PEAKS = _df([("chr1", 100, 180, 5.0), ("chr1", 500, 620, 3.0), ("chr1", 300, 350, 1.0)],
            "peak_score")


@pytest.fixture()
def universe():
    win = ivs.gene_windows(GENES, 1000, {"chr1": 5000})
    assert (win["start"].iat[0], win["end"].iat[0]) == (0, 1000)
    u = ivs.subtract(ivs.from_frame(win), ivs.promoter_set(GENES, flank=50))
    assert u["chr1"].tolist() == [[0, 450], [551, 1000]]
    return u


def test_algebra_hand_case():
    m = ivs.merge([5, 0, 10, 30], [12, 3, 20, 40])
    assert m.tolist() == [[0, 3], [5, 20], [30, 40]]
    assert ivs.merge([0, 3], [3, 5]).tolist() == [[0, 5]]  # touching intervals merge
    a, b = {"c": m}, {"c": np.array([[2, 6], [15, 35]])}
    assert ivs.intersect(a, b)["c"].tolist() == [[2, 3], [5, 6], [15, 20], [30, 35]]
    assert ivs.subtract(a, b)["c"].tolist() == [[0, 2], [6, 15], [35, 40]]
    assert ivs.union(a, b)["c"].tolist() == [[0, 40]]
    assert ivs.total_bp(a) == 3 + 15 + 10
    assert ivs.covered_bp(a, "c", [0, 4, 12, 0], [40, 6, 35, 1]).tolist() == [28, 1, 13, 1]
    assert ivs.window_slice(m, 2, 32).tolist() == [[2, 3], [5, 20], [30, 32]]
    hit = ivs.overlaps_any(["c", "c", "c", "d"], [3, 19, 20, 0], [5, 21, 30, 99], a)
    assert hit.tolist() == [False, True, False, False]


def test_coverage_and_overlap_hand_case(universe):
    e = ivs.intersect(ivs.from_frame(ELEM), universe)
    p = ivs.intersect(ivs.from_frame(PEAKS), universe)
    assert ivs.total_bp(universe) == 899
    assert ivs.total_bp(e) == 100 + 50 + 20                    # mask ratio 170 / 899
    assert ivs.total_bp(p) == 80 + 69 + 50                     # P2 clipped to [551, 620)
    ov = ivs.bp_overlap(e, p)                                  # [150,180) + [600,620) = 50
    assert ov["jaccard"] == pytest.approx(50 / (170 + 199 - 50))
    assert ov["frac_a_in_b"] == pytest.approx(50 / 170)
    assert ov["frac_b_in_a"] == pytest.approx(50 / 199)
    # interval level: A, B overlap peaks, C does not; P1, P2 overlap elements, P3 does not
    assert ivs.fraction_overlapping(ELEM, p) == pytest.approx(2 / 3)
    assert ivs.fraction_overlapping(PEAKS, e) == pytest.approx(2 / 3)


def test_truth_metrics_hand_case(universe):
    pos = ivs.intersect(ivs.from_frame(ENH), universe)
    e = ivs.intersect(ivs.from_frame(ELEM), universe)
    p = ivs.intersect(ivs.from_frame(PEAKS), universe)
    prf = ivs.bp_prf(e, pos)                                   # TP = 50 + 50
    assert prf["precision"] == pytest.approx(100 / 170)
    assert prf["recall"] == pytest.approx(100 / 200)
    assert prf["f1"] == pytest.approx(2 * 100 / (170 + 200))
    prf = ivs.bp_prf(p, pos)                                   # TP = 80 + 20
    assert (prf["precision"], prf["recall"]) == (pytest.approx(100 / 199), 0.5)
    # interval precision / recall / decoy FPR
    assert ivs.fraction_overlapping(ELEM, pos) == pytest.approx(2 / 3)
    assert ivs.fraction_overlapping(ENH, ivs.from_frame(ELEM)) == 1.0
    assert ivs.fraction_overlapping(DECOY, ivs.from_frame(ELEM)) == 1.0   # C hits D1
    assert ivs.fraction_overlapping(PEAKS, pos) == pytest.approx(2 / 3)
    assert ivs.fraction_overlapping(DECOY, ivs.from_frame(PEAKS)) == 0.0


def test_bp_auprc_hand_case(universe):
    pos = ivs.intersect(ivs.from_frame(ENH), universe)
    s, w, y = ivs.bp_scores(ivs.scored_from_frame(ELEM, "mean_mask"), universe, pos)
    assert w.sum() == 899 and (w * y).sum() == 200
    # thresholds 0.9: TP 50 FP 50 | 0.5: TP 100 FP 50 | 0.2: TP 100 FP 70 | 0: TP 200 FP 699
    ap = 0.25 * 0.5 + 0.25 * (100 / 150) + 0.0 + 0.5 * (200 / 899)
    assert ivs.average_precision(s, y, w) == pytest.approx(ap)
    s, w, y = ivs.bp_scores(ivs.scored_from_frame(PEAKS, "peak_score"), universe, pos)
    # 5: TP 80 FP 0 | 3 (P2 inside the universe: [551,620)): TP 100 FP 49 | 1: FP 99 | 0
    ap = 0.4 * 1.0 + 0.1 * (100 / 149) + 0.0 + 0.5 * (200 / 899)
    assert ivs.average_precision(s, y, w) == pytest.approx(ap)
    assert ivs.prevalence(y, w) == pytest.approx(200 / 899)


def test_overlapping_scores_take_the_maximum():
    scored = {"c": (np.array([0, 5]), np.array([10, 15]), np.array([1.0, 2.0]))}
    s, w, y = ivs.bp_scores(scored, {"c": np.array([[0, 20]])}, {"c": np.array([[12, 14]])})
    per_bp = np.repeat(s, w)
    assert per_bp.tolist() == [1.0] * 5 + [2.0] * 10 + [0.0] * 5
    assert np.repeat(y, w).nonzero()[0].tolist() == [12, 13]


def _brute_ap(scores, labels):
    """Per-sample average precision straight from the definition."""
    ap, prev_r = 0.0, 0.0
    for t in sorted(set(scores.tolist()), reverse=True):
        called = scores >= t
        tp = (called & labels).sum()
        p, r = tp / called.sum(), tp / labels.sum()
        ap += (r - prev_r) * p
        prev_r = r
    return ap


def test_auprc_matches_brute_force_per_bp():
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = 300
        k = rng.integers(1, 12)
        st = rng.integers(0, n - 1, k)
        en = np.minimum(st + rng.integers(1, 60, k), n)
        sc = rng.integers(0, 4, k).astype(float) / 2    # ties on purpose, some scores 0
        t0 = rng.integers(0, n - 40, 3)
        truth = ivs.merge(t0, t0 + rng.integers(5, 40, t0.size))
        per_bp = np.zeros(n)
        for a, b, v in zip(st, en, sc):
            per_bp[a:b] = np.maximum(per_bp[a:b], v)
        lab = np.zeros(n, bool)
        for a, b in truth:
            lab[a:b] = True
        s, w, y = ivs.bp_scores({"c": (st, en, sc)}, {"c": np.array([[0, n]])}, {"c": truth})
        assert np.array_equal(np.repeat(s, w), per_bp)
        assert ivs.average_precision(s, y, w) == pytest.approx(_brute_ap(per_bp, lab))


def test_auprc_edge_cases():
    assert np.isnan(ivs.average_precision([1, 2], [False, False]))
    assert ivs.average_precision([1, 1, 1], [True, False, False]) == pytest.approx(1 / 3)
    assert ivs.average_precision([3, 2, 1], [True, True, False]) == 1.0
    p, r, t = ivs.pr_curve([0.2, 0.8, 0.8], [True, False, True], [1, 1, 2])
    assert t.tolist() == [0.8, 0.2]
    assert p.tolist() == pytest.approx([2 / 3, 3 / 4]) and r.tolist() == pytest.approx([2 / 3, 1])
