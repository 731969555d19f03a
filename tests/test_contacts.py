"""Contact maths from public functions, arrays in and out (:mod:`seq2exp_cli.contacts`).

The per-bp contact track built from :func:`contact_profile` + :func:`contact_track` must be
the contact channel the store gives the model, for every gene of the hand-made inputs of
_fixtures.py (power-law fallback, windows running off both chromosome ends).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seq2exp_cli.contacts import (
    abc_powerlaw,
    contact_profile,
    contact_track,
    gene_contact,
    n_contact_bins,
    profile_bins,
)
from seq2exp_cli.store import Store, preprocess

from _fixtures import RES, SIZES, W, make_tiny_inputs


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d, _, _ = make_tiny_inputs(tmp_path_factory.mktemp("contacts"))
    out = tmp_path_factory.mktemp("s") / "store"
    preprocess(out, fasta=d / "genome.fa", genes=d / "genes.tsv",
               tracks={"dnase": d / "dnase.bw"},
               window_bp=W, resolution=RES, show_progress=False)
    return Store(out)


def test_contact_track_is_the_store_contact_channel(store):
    for i, g in store.genes.iterrows():
        chrom, tss = g["chrom"], int(g["tss"])
        prof = contact_profile(None, chrom, tss, window=W, resolution=RES,
                               chrom_size=SIZES[chrom])
        full = np.zeros(n_contact_bins(W, RES), dtype=np.float32)
        full[: len(prof)] = prof
        np.testing.assert_array_equal(full, gene_contact(None, chrom, tss, W, RES, 0.87,
                                                         SIZES[chrom])[0])
        w = store.window(i, orient="genome")
        lo, hi = max(w.start, 0), min(w.end, SIZES[chrom])
        got = contact_track(prof, tss, W, RES, lo, hi)
        np.testing.assert_allclose(got, w.signals[lo - w.start: hi - w.start, -1], rtol=1e-6)


def test_contact_track_hand_case():
    # window [1000, 5000) at 1 kb bins: profile bins 1..4 (bin 0 holds 1000)
    prof = np.array([9.0, 99.0, 0.0, 999.0, 5.0])
    got = contact_track(prof, tss=3000, window_bp=4000, resolution=1000, lo=1500, hi=4200)
    want = np.r_[np.full(500, 1.0), np.full(1000, 2.0), np.full(1000, 0.0), np.full(200, 3.0)]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert contact_track(prof, 3000, 4000, 1000).shape == (4000,)
    assert profile_bins(3000, 4000, 1000) == (1, 5)


def test_abc_powerlaw_tensor_in_tensor_out():
    d = torch.tensor([0.0, -3000.0, 20_000.0])
    got = abc_powerlaw(d)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), abc_powerlaw(d.numpy()), rtol=1e-6)
