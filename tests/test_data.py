"""The committed fixtures of tests/data/ (written by seq2exp's own writers with
``python scripts/make_test_data.py``), read back by the readers and through a store::

    tiny.fa           chrA 2,000 bp = "ACGT" repeated, NNNN at [1,000, 1,004);
                      chrB 1,000 bp = "GATTACA" repeated, cut to 1,000
    tiny.genes.tsv    gA1 chrA + TSS 500; gA2 chrA - TSS 1,500; gB1 chrB + TSS 250
    tiny.dnase.bw     chrA 2.0 on [100, 200), 5.0 on [400, 600), 0 elsewhere; chrB 1.0
    tiny.cool         500 bp bins; chrA (0,0)=4 (0,1)=2 (1,3)=6; chrB (0,1)=3
    tiny.bed          chrA 100-200 e1 10 +; chrA 400-600 e2 50 -; chrB 10-20 e3 0 .
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seq2exp_cli.io.bed import read_bed
from seq2exp_cli.io.bigwig import BigWigTrack
from seq2exp_cli.io.fasta import Genome
from seq2exp_cli.io.genes import read_genes
from seq2exp_cli.io.hic import open_contacts

DATA = Path(__file__).resolve().parent / "data"
CODE = {"A": 0, "C": 1, "G": 2, "T": 3, "N": 4}


def _codes(s: str) -> np.ndarray:
    return np.array([CODE[c] for c in s], dtype=np.uint8)


def _chr_a() -> str:
    a = "ACGT" * 500
    return a[:1000] + "NNNN" + a[1004:]


def test_readers_give_the_planted_values():
    genome = Genome(DATA / "tiny.fa")
    assert dict(genome.chroms.sizes) == {"chrA": 2000, "chrB": 1000}
    np.testing.assert_array_equal(genome.chrom_codes("chrA"), _codes(_chr_a()))
    np.testing.assert_array_equal(genome.fetch_codes("chrB", 0, 14), _codes("GATTACA" * 2))
    genes = read_genes(DATA / "tiny.genes.tsv", genome.chroms)
    assert list(genes["gene_id"]) == ["gA1", "gA2", "gB1"]
    assert list(genes["tss"]) == [500, 1500, 250] and list(genes["strand"]) == ["+", "-", "+"]
    track = BigWigTrack(DATA / "tiny.dnase.bw", genome.chroms, name="dnase")
    want = np.zeros(2000, np.float32)
    want[100:200], want[400:600] = 2.0, 5.0
    np.testing.assert_array_equal(track.chrom_values("chrA"), want)
    np.testing.assert_array_equal(track.fetch("chrB", 990, 1000), np.ones(10, np.float32))
    track.close()
    bed = read_bed(DATA / "tiny.bed")
    assert bed[["start", "end"]].to_numpy().tolist() == [[100, 200], [400, 600], [10, 20]]
    assert list(bed["name"]) == ["e1", "e2", "e3"] and list(bed["strand"]) == ["+", "-", "."]
    cool = open_contacts(DATA / "tiny.cool", resolution=500, normalization="NONE")
    dense = np.zeros((4, 4))
    for i, j, v in ((0, 0, 4), (0, 1, 2), (1, 3, 6)):
        dense[i, j] = dense[j, i] = v
    np.testing.assert_array_equal(cool.matrix("chrA", 0, 4, 0, 4), dense)
    np.testing.assert_array_equal(cool.matrix("chrB", 0, 2, 0, 2), [[0, 3], [3, 0]])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from seq2exp_cli.store import Store, preprocess

    out = tmp_path_factory.mktemp("data") / "store"
    preprocess(out, fasta=DATA / "tiny.fa", genes=DATA / "tiny.genes.tsv",
               tracks={"dnase": DATA / "tiny.dnase.bw"}, hic=DATA / "tiny.cool",
               blacklist=DATA / "tiny.bed", window_bp=1000, resolution=500,
               normalization="NONE", show_progress=False)
    return Store(out)


def test_store_windows_from_the_fixtures(store):
    """gA1's window [0, 1000) is the genome slice; gA2's [1000, 2000) is reverse-complemented
    (minus strand); the blacklist is tiny.bed; the contact row of gA1's bin is the map's."""
    w = store.window(store.gene_index("gA1"))
    assert (w.start, w.end, w.flipped) == (0, 1000, False)
    np.testing.assert_array_equal(w.seq, _codes(_chr_a()[:1000]))
    # stored scale-free: divided by the track's 0.99 quantile, 5.0 here (the 5.0 peak covers
    # more than 1 % of the genome's bases)
    assert store.track_scales["dnase"] == pytest.approx(5.0)
    np.testing.assert_allclose(w.signals[:, 0], np.r_[np.zeros(100), np.full(100, 2.0),
                                                      np.zeros(200), np.full(200, 5.0),
                                                      np.zeros(400)] / 5.0, rtol=1e-6)
    assert w.blacklist.sum() == 300 and w.blacklist[100:200].all() and w.blacklist[400:600].all()
    w2 = store.window(store.gene_index("gA2"))
    assert (w2.start, w2.end, w2.flipped) == (1000, 2000, True)
    comp = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}
    rc = "".join(comp[c] for c in reversed(_chr_a()[1000:2000]))
    np.testing.assert_array_equal(w2.seq, _codes(rc))
    # contact: gA1's TSS bin (1) row is 2, 0, 0, 6 over bins 0-3, its diagonal replaced by
    # max(2, 0) = 2, scaled by the row's sum (10); the window [0, 1000) touches bins 0 and 1,
    # each at 250 bp from the TSS (clipped to one bin, 500 bp, for the pseudocount)
    from seq2exp_cli.contacts import contact_profile, powerlaw_contact

    cool = open_contacts(DATA / "tiny.cool", resolution=500, normalization="NONE")
    row = np.array([2.0, 2.0, 0.0, 6.0])
    dist = np.abs((np.arange(2) + 0.5) * 500 - 500)
    pseudo = np.minimum(powerlaw_contact(dist, min_distance=500),
                        powerlaw_contact(1_000_000, min_distance=500))
    want = row[:2] / row.sum() + pseudo
    np.testing.assert_allclose(contact_profile(cool, "chrA", 500, window=1000), want, rtol=1e-6)
    stored = store.contact_bins(store.gene_index("gA1"))
    np.testing.assert_allclose(stored, np.r_[want, 0.0], rtol=1e-6)  # padded to 3 bins
    np.testing.assert_allclose(w.signals[:, -1], np.repeat(np.log10(1 + want), 500), rtol=1e-6)
