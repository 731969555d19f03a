"""Enhancer–gene link scores and AUPRC against values computed by hand.

Two genes on chr1, g1 (TSS 1,000) and g2 (TSS 10,000); four tested pairs::

    pair      element          gene  regulated  distance  activity contact
    e1-g1     [1100, 1200)     g1    True          150      2.0     1.0
    e2-g1     [3000, 3100)     g1    False        2050      1.0     1.0
    e3-g1     [40000, 40100)   g1    True        39050      1.0     0.5
    e2-g2     [3000, 3100)     g2    False       -6950      1.0     0.1

Learned elements: g1 [1150, 1250) 0.8 and [4000, 4100) 0.3; g2 [3000, 3050) 0.9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.evaluation.links import (
    abc_score,
    learned_link_score,
    link_auprc,
)
from seq2exp_cli.io.crispri import read_crispri
from seq2exp_cli.contacts import abc_powerlaw

GENES = pd.DataFrame({"gene_id": ["g1", "g2"], "name": ["G1", "G2"], "chrom": ["chr1", "chr1"],
                      "tss": [1000, 10000], "strand": ["+", "+"]})
ELEMENTS = pd.DataFrame({"chrom": ["chr1"] * 3, "start": [1150, 4000, 3000],
                         "end": [1250, 4100, 3050], "mean_mask": [0.8, 0.3, 0.9],
                         "gene_id": ["g1", "g1", "g2"]})


@pytest.fixture()
def pairs(tmp_path):
    rows = [("chr1", 1100, 1200, "G1", "g1", "True", 150, 2.0, 1.0),
            ("chr1", 3000, 3100, "G1", "g1", "False", 2050, 1.0, 1.0),
            ("chr1", 40000, 40100, "G1", "g1", "True", 39050, 1.0, 0.5),
            ("chr1", 3000, 3100, "G2", "g2", "False", -6950, 1.0, 0.1),
            ("chr1", 3000, 3100, "G9", "g9", "True", 0, 1.0, 1.0)]  # gene not evaluated
    df = pd.DataFrame(rows, columns=["chrom", "chromStart", "chromEnd", "measuredGeneSymbol",
                                     "measuredGeneEnsemblId", "Regulated", "distanceToTSS",
                                     "activity", "contact"])
    path = tmp_path / "crispri.tsv"
    df.to_csv(path, sep="\t", index=False)
    return read_crispri(path, GENES)


def test_read_keeps_evaluated_genes(pairs):
    assert pairs["gene_id"].tolist() == ["g1", "g1", "g1", "g2"]
    assert pairs["regulated"].tolist() == [True, False, True, False]


def test_learned_score_uses_the_genes_own_elements(pairs):
    s = learned_link_score(pairs, ELEMENTS)
    # e2-g1 overlaps only g2's element -> 0; e2-g2 overlaps it -> 0.9
    assert s.tolist() == [0.8, 0.0, 0.0, 0.9]
    merged = ELEMENTS.assign(gene_id=["g1", "g1", "g1,g2"])  # merged rows list several genes
    assert learned_link_score(pairs, merged).tolist() == [0.8, 0.9, 0.0, 0.9]


def test_abc_from_table_columns(pairs):
    # g1: A*C = 2, 1, 0.5 (sum 3.5); g2 alone -> 1
    assert abc_score(pairs).tolist() == pytest.approx([2 / 3.5, 1 / 3.5, 0.5 / 3.5, 1.0])


def test_abc_power_law_fallback(pairs):
    class Flat:
        def fetch(self, chrom, s, e):
            return np.full(e - s, 4.0, dtype=np.float32)

    p = pairs.drop(columns=["activity", "contact"])
    got = abc_score(p, dnase=Flat(), h3k27ac=Flat())
    c = abc_powerlaw([5000, 5000, 39050])  # d clipped to >= 5 kb
    assert got[:3] == pytest.approx(c / c.sum())
    assert got[3] == 1.0
    assert abc_score(p) is None


def test_link_auprc_hand_case(pairs):
    scores = {"seq2exp": learned_link_score(pairs, ELEMENTS), "ABC": abc_score(pairs),
              "distance": -np.abs(pairs["distance"].to_numpy(float))}
    rows, curves = link_auprc(pairs, scores)
    got = {(m, k, s): v for m, k, s, v in rows}
    # seq2exp: 0.9 (F) | 0.8 (T): P 1/2 R 1/2 | 0 (F, T): P 2/4 R 1  -> 0.25 + 0.25
    assert got[("seq2exp", "auprc", "all")] == pytest.approx(0.5)
    # ABC: 1.0 (F) | 0.571 (T): P 1/2 R 1/2 | 0.286 (F) | 0.143 (T): P 2/4 R 1 -> 0.5
    assert got[("ABC", "auprc", "all")] == pytest.approx(0.5)
    # distance: -150 (T): P 1 R 1/2 | -2050 (F) | -6950 (F) | -39050 (T): P 1/2 -> 0.75
    assert got[("distance", "auprc", "all")] == pytest.approx(0.75)
    assert got[("random", "auprc", "all")] == 0.5
    # 0-25 kb: e1-g1 (T), e2-g1 (F), e2-g2 (F); seq2exp 0.9 (F) then 0.8 (T) -> 1/2
    assert got[("pairs", "n_pairs", "0-25kb")] == 3
    assert got[("seq2exp", "auprc", "0-25kb")] == pytest.approx(0.5)
    assert got[("pairs", "n_positive", "25-60kb")] == 1
    assert got[("distance", "auprc", "25-60kb")] == 1.0
    assert np.isnan(got[("seq2exp", "auprc", "60-100kb")])  # no pairs there
    p, r = curves["distance"]
    assert r[-1] == 1.0 and p[0] == 1.0
