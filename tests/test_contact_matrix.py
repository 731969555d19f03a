"""Per-gene Hi-C contact matrices (``contact_matrix.npy``, ``WindowSource.contact_matrix``),
against the hand-made inputs of _fixtures.py, with the power-law fallback and with a
planted ``.cool`` map."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.io.hic import write_cool
from seq2exp_cli.store import Store, preprocess
from seq2exp_cli.store import layout
from seq2exp_cli.store.live import FileWindows
from seq2exp_cli.store.windows import batch_contact_matrices, batch_contact_shifts

from _fixtures import RES, SIZES, W, make_tiny_inputs

NB = W // RES + 1
TRACKS = ("h3k27ac", "dnase")


def _planted_pixels(seed: int = 3) -> pd.DataFrame:
    """Every intra-chromosomal pair with a decaying count, plus random noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for c, n in SIZES.items():
        nb = -(-n // RES)
        for i in range(nb):
            for j in range(i, nb):
                cnt = int(rng.poisson(200.0 / (1 + j - i)))
                if cnt:
                    rows.append((c, i * RES, c, j * RES, cnt))
    return pd.DataFrame(rows, columns=["chrom1", "start1", "chrom2", "start2", "count"])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d, _, _ = make_tiny_inputs(tmp_path_factory.mktemp("cm_inputs"))
    write_cool(d / "tiny.cool", SIZES, RES, _planted_pixels())
    return d


def _kw(d, hic):
    return dict(fasta=d / "genome.fa", genes=d / "genes.tsv",
                tracks={t: d / f"{t}.bw" for t in TRACKS},
                hic=(d / "tiny.cool") if hic else None, targets=d / "targets.tsv",
                blacklist=d / "blacklist.bed", window_bp=W, resolution=RES)


@pytest.fixture(scope="module", params=["powerlaw", "hic"])
def sources(request, inputs, tmp_path_factory):
    hic = request.param == "hic"
    out = tmp_path_factory.mktemp(f"cm_{request.param}") / "store"
    preprocess(out, show_progress=False, **_kw(inputs, hic))
    return Store(out), FileWindows(quiet=True, **_kw(inputs, hic))


def _tss_bin(src, i):
    tss = int(src.genes["tss"].iloc[i])
    return tss // RES - (tss - W // 2) // RES


def test_matrix_symmetric_shape_and_zero_outside(sources):
    store, live = sources
    for src in (store, live):
        for i in range(len(src)):
            m = src.contact_matrix(i, orient="genome")
            assert m.shape == (NB, NB) and m.dtype == np.float32
            np.testing.assert_array_equal(m, m.T)
            assert (m >= 0).all()
    # g2 (chr1, TSS 3,000): window [-7,000, 13,000) -> bins -7..12; bins < 0 are 0
    g2 = store.contact_matrix(store.gene_index("g2"), orient="genome")
    assert (g2[:7] == 0).all() and (g2[:, :7] == 0).all() and (g2[7:20, 7:20] > 0).all()
    # g3 (chr22 30 kb, TSS 28,000): window [18,000, 38,000) -> bins 18..37; >= 30 are 0
    g3 = store.contact_matrix(store.gene_index("g3"), orient="genome")
    assert (g3[12:] == 0).all() and (g3[:, 12:] == 0).all() and (g3[:12, :12] > 0).all()
    # g1 (TSS 25,000, aligned): the window touches 20 bins, the 21st is padding
    g1 = store.contact_matrix(store.gene_index("g1"), orient="genome")
    assert (g1[20] == 0).all() and (g1[:20, :20] > 0).all()


def test_tss_row_equals_stored_profile(sources):
    store, live = sources
    for src in (store, live):
        for i in range(len(src)):
            m = src.contact_matrix(i, orient="genome")
            prof = np.log10(1.0 + src.contact_bins(i)).astype(np.float32)
            t = _tss_bin(src, i)
            np.testing.assert_allclose(m[t], prof, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(m[:, t], prof, rtol=1e-5, atol=1e-7)


def test_hic_matrix_reflects_the_map(sources, inputs):
    """Off the TSS row the matrix is the map itself (scaled by one factor, plus pseudocount):
    with Hi-C, two far pairs at equal distance differ as their planted counts do."""
    store, _ = sources
    if store.manifest["options"]["contact_source"] != "hic":
        m = store.contact_matrix(0, orient="genome")
        # power law: a function of distance only away from the TSS bin
        t = _tss_bin(store, 0)
        pairs = [(i, i + 6) for i in range(20 - 6) if t not in (i, i + 6)]
        vals = {round(float(m[i, j]), 6) for i, j in pairs}
        assert len(vals) == 1
        return
    m = store.contact_matrix_bins(store.gene_index("g1"))  # raw, genome orientation
    t = _tss_bin(store, store.gene_index("g1"))
    # the diagonal is replaced by the max of the row's neighbours (before the pseudocount,
    # which is equal for (k, k) and its neighbours at the same clipped distance)
    k = 3
    assert m[k, k] == pytest.approx(max(m[k, k - 1], m[k, k + 1]), rel=1e-5)
    # equal-distance pairs carry different (planted, noisy) contacts
    off = np.array([m[i, i + 4] for i in range(16) if t not in (i, i + 4)])
    assert off.std() > 0


def test_minus_strand_matrix_is_flipped(sources):
    store, live = sources
    for src in (store, live):
        i = src.gene_index("g2")  # minus strand
        g, t = src.contact_matrix(i, orient="genome"), src.contact_matrix(i)
        np.testing.assert_array_equal(t, g[::-1, ::-1])
        j = src.gene_index("g1")  # plus strand
        np.testing.assert_array_equal(src.contact_matrix(j), src.contact_matrix(j, "genome"))


def test_store_equals_file_windows_and_batch(sources):
    store, live = sources
    idx = list(range(len(store)))
    a = batch_contact_matrices(store, idx)
    b = batch_contact_matrices(live, idx)
    assert a.shape == (len(idx), NB, NB) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(a[1], store.contact_matrix(1))


@pytest.mark.parametrize("orient", ["genome", "transcript"])
@pytest.mark.parametrize("width", [W, W // 2])
def test_shift_places_window_positions_in_matrix_bins(sources, orient, width):
    """The per-bp contact channel of a window is the TSS row of the matrix read through
    the shift: signals[q, -1] == M[tss_bin, (q + s) // RES], tss_bin = (q_tss + s) // RES
    where q_tss is the TSS's position: width // 2, or width // 2 - 1 in a flipped window
    (which holds genome [tss - width/2, tss + width/2) reversed).  g1 and g2 have TSSs on
    bin boundaries, so an off-by-one anywhere fails here."""
    store, _ = sources
    idx = list(range(len(store)))
    mats = batch_contact_matrices(store, idx, orient)
    shifts = batch_contact_shifts(store, idx, width, orient)
    q = np.arange(width)
    for b, i in enumerate(idx):
        w = store.window(i, width=width, orient=orient)
        s = int(shifts[b])
        assert (W - width) // 2 <= s <= (W - width) // 2 + RES
        t = (width // 2 - int(w.flipped) + s) // RES
        expect = mats[b][t, (q + s) // RES]
        np.testing.assert_allclose(w.signals[:, -1], expect, rtol=1e-5, atol=1e-7)


def test_old_store_without_matrix_errors(sources, tmp_path):
    store, _ = sources
    old = tmp_path / "old_store"
    shutil.copytree(store.path, old)
    (old / layout.CONTACT_MATRIX).unlink()
    s = Store(old)  # opens, and its windows still work
    assert s.window(0).signals.shape == (W, 3)
    with pytest.raises(Seq2ExpError, match=r"old_store: no contact matrix \(made by an older "
                                           r"seq2exp\); re-run seq2exp preprocess"):
        s.contact_matrix(0)
