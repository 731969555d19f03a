"""The dataset store and its window API, against the hand-made inputs of _fixtures.py."""

from __future__ import annotations

import os

import numpy as np
import pyBigWig
import pytest
from typer.testing import CliRunner

from seq2exp_cli.cli import app, _register
from seq2exp_cli.errors import InputError
from seq2exp_cli.store import Store, preprocess
from seq2exp_cli.store.live import FileWindows

from _fixtures import RES, W, make_tiny_inputs

CODE = {"A": 0, "C": 1, "G": 2, "T": 3}


def _codes(s: str) -> np.ndarray:
    return np.array([CODE.get(c.upper(), 4) for c in s], dtype=np.uint8)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_tiny_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def store(inputs, tmp_path_factory):
    d, _, _ = inputs
    out = tmp_path_factory.mktemp("s") / "store"
    preprocess(out, fasta=d / "genome.fa", genes=d / "genes.tsv",
               tracks={"h3k27ac": d / "h3k27ac.bw", "dnase": d / "dnase.bw"},
               targets=d / "targets.tsv", blacklist=d / "blacklist.bed", window_bp=W,
               resolution=RES, show_progress=False)
    return Store(out)


def _genome_quantile(track: dict, q: float = 0.99) -> float:
    """The q quantile of a track's per-bp values over the whole genome (no data = 0)."""
    return float(np.quantile(np.concatenate([track[c] for c in track]).astype(np.float64), q))


def test_tracks_are_divided_by_their_genome_wide_99th_percentile(store, inputs):
    # the tiny genome is smaller than the sample, so the sample is every bp: the scale must
    # be the plain 0.99 quantile of all per-bp values, computed here independently
    _, _, tracks = inputs
    for name in ("h3k27ac", "dnase"):
        assert store.track_scales[name] == pytest.approx(_genome_quantile(tracks[name]), rel=1e-6)
    assert store.manifest["track_scales"] == store.track_scales


def test_plus_strand_window_is_the_genome_slice(store, inputs):
    _, seqs, tracks = inputs
    w = store.window(store.gene_index("g1"))
    assert (w.start, w.end, w.flipped) == (15_000, 35_000, False)
    np.testing.assert_array_equal(w.seq, _codes(seqs["chr1"][15_000:35_000]))
    for j, name in enumerate(("h3k27ac", "dnase")):
        np.testing.assert_allclose(w.signals[:, j] * store.track_scales[name],
                                   tracks[name]["chr1"][15_000:35_000], rtol=1e-5)
    assert w.blacklist.sum() == 100 and w.blacklist[9_000:9_100].all()


def test_window_past_chromosome_end_is_padded(store, inputs):
    _, seqs, tracks = inputs
    w = store.window(store.gene_index("g3"))
    assert (w.start, w.end) == (18_000, 38_000)
    inside = 30_000 - 18_000
    np.testing.assert_array_equal(w.seq[:inside], _codes(seqs["chr22"][18_000:]))
    assert (w.seq[inside:] == 4).all()
    assert (w.signals[inside:] == 0).all()
    assert (w.signals[:inside, 2] > 0).all()  # contact inside the chromosome


def test_minus_strand_window_is_reverse_complemented(store, inputs):
    _, seqs, tracks = inputs
    i = store.gene_index("g2")
    g = store.window(i, orient="genome")
    t = store.window(i)
    assert t.flipped and not g.flipped and (g.start, g.end) == (-7_000, 13_000)
    # genome orientation: 7 kb of padding, then chr1[0:13000]; the no-data stretch reads 0
    assert (g.seq[:7_000] == 4).all()
    np.testing.assert_array_equal(g.seq[7_000:], _codes(seqs["chr1"][:13_000]))
    assert (g.signals[7_000 + 1000: 7_000 + 2000, :2] == 0).all()
    comp = np.array([3, 2, 1, 0, 4], dtype=np.uint8)
    np.testing.assert_array_equal(t.seq, comp[g.seq[::-1]])
    np.testing.assert_array_equal(t.to_genome(t.signals), g.signals)


def test_contact_channel_follows_genome_bins(store):
    i = store.gene_index("g1")
    w = store.window(i, orient="genome")
    prof = np.log10(1 + store.contact_bins(i))
    pos = np.arange(w.start, w.end)
    bin0 = w.start // RES
    np.testing.assert_allclose(w.signals[:, 2], prof[pos // RES - bin0], rtol=1e-6)
    # power-law fallback: the TSS bin is at the (clipped, 5 kb) maximum; contact decays outwards
    tss_bin = 25_000 // RES - bin0
    assert prof[tss_bin] == prof.max() and prof[0] < prof[tss_bin] and prof[-2] < prof[tss_bin]


def test_targets_split_and_missing_targets(store):
    g = store.genes.set_index("gene_id")
    assert g.loc["g1", "target"] == pytest.approx(np.log10(11))
    assert g.loc["g2", "target"] == 0.0
    assert not g.loc["g4", "has_target"]
    assert list(g["split"]) == ["train", "train", "test", "test"]
    assert list(store.indices("test")) == [store.gene_index("g3")]  # g4 has no target
    assert store.manifest["n_with_target"] == 3
    assert store.manifest["inputs"]["fasta"]["sha256"]


def test_file_windows_equal_store_windows(store, inputs):
    d, _, _ = inputs
    live = FileWindows(fasta=d / "genome.fa", genes=d / "genes.tsv",
                       tracks={"h3k27ac": d / "h3k27ac.bw", "dnase": d / "dnase.bw"},
                       targets=d / "targets.tsv", blacklist=d / "blacklist.bed",
                       window_bp=W, resolution=RES, quiet=True)
    for i in range(len(store)):
        a, b = store.window(i), live.window(i)
        np.testing.assert_array_equal(a.seq, b.seq)
        np.testing.assert_allclose(a.signals, b.signals, rtol=1e-6)
        np.testing.assert_array_equal(a.blacklist, b.blacklist)
    batch = store.batch([0, 2], width=10_000)
    assert batch["seq"].shape == (2, 10_000) and batch["signals"].shape == (2, 10_000, 3)
    np.testing.assert_array_equal(batch["seq"][0], store.window(0).seq[5_000:15_000])


def test_bigwig_times_ten_gives_the_same_store(store, inputs, tmp_path):
    d, _, tracks = inputs
    for name in ("h3k27ac", "dnase"):
        bw = pyBigWig.open(str(tmp_path / f"{name}10.bw"), "w")
        bw.addHeader(list((c, len(v)) for c, v in tracks[name].items()))
        for c, v in tracks[name].items():
            bw.addEntries(c, 0, values=(10 * v.astype(np.float64)).tolist(), span=1, step=1)
        bw.close()
    out = tmp_path / "store10"
    preprocess(out, fasta=d / "genome.fa", genes=d / "genes.tsv",
               tracks={"h3k27ac": tmp_path / "h3k27ac10.bw", "dnase": tmp_path / "dnase10.bw"},
               targets=d / "targets.tsv", blacklist=d / "blacklist.bed", window_bp=W,
               resolution=RES, show_progress=False)
    s10 = Store(out)
    for name in ("h3k27ac", "dnase"):
        assert s10.track_scales[name] == pytest.approx(10 * store.track_scales[name], rel=1e-6)
    for i in range(len(store)):
        np.testing.assert_allclose(s10.window(i).signals, store.window(i).signals,
                                   rtol=1e-5, atol=1e-6)


def test_all_zero_track_is_an_error_naming_the_file(inputs, tmp_path):
    d, _, _ = inputs
    bw = pyBigWig.open(str(tmp_path / "zero.bw"), "w")
    bw.addHeader(list(_fixture_sizes().items()))
    bw.addEntries(["chr1"], [0], ends=[10], values=[0.0])
    bw.close()
    with pytest.raises(InputError, match="zero.bw: no data on the genes' chromosomes"):
        preprocess(tmp_path / "s0", fasta=d / "genome.fa", genes=d / "genes.tsv",
                   tracks={"dnase": tmp_path / "zero.bw"}, window_bp=W, resolution=RES,
                   show_progress=False)
    assert not (tmp_path / "s0").exists()


def _fixture_sizes() -> dict:
    from _fixtures import SIZES

    return dict(SIZES)


def test_bad_input_leaves_no_store(inputs, tmp_path):
    d, _, _ = inputs
    bw = pyBigWig.open(str(tmp_path / "other.bw"), "w")
    bw.addHeader([("scaffold_1", 1000)])
    bw.addEntries(["scaffold_1"], [0], ends=[10], values=[1.0])
    bw.close()
    out = tmp_path / "bad_store"
    with pytest.raises(InputError, match="other.bw"):
        preprocess(out, fasta=d / "genome.fa", genes=d / "genes.tsv",
                   tracks={"dnase": tmp_path / "other.bw"},
                   window_bp=W, resolution=RES, show_progress=False)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["other.bw"]


def test_cli_preprocess_inspect_and_errors(inputs, tmp_path):
    d, _, _ = inputs
    _register()
    runner = CliRunner()
    out = tmp_path / "st"
    r = runner.invoke(app, ["preprocess", str(out), "--fasta", str(d / "genome.fa"),
                            "--genes", str(d / "genes.tsv"), "--dnase", str(d / "dnase.bw"),
                            "--targets", str(d / "targets.tsv"), "--window", str(W),
                            "--resolution", str(RES)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["inspect", str(out)])
    assert r.exit_code == 0
    lines = dict(l.split(None, 1) for l in r.stdout.splitlines())
    assert lines["genes"].strip() == "4" and lines["with_target"].strip() == "3"
    assert lines["signals"].strip() == "dnase, contact"


def test_cli_error_is_one_line_exit_2(inputs, tmp_path):
    import subprocess
    import sys

    d, _, _ = inputs
    (tmp_path / "dup.tsv").write_text(
        "gene_id\tchrom\ttss\tstrand\ng1\tchr1\t100\t+\ng1\tchr1\t200\t+\n")
    r = subprocess.run(
        [sys.executable, "-m", "seq2exp_cli", "preprocess", str(tmp_path / "s"),
         "--fasta", str(d / "genome.fa"), "--genes", str(tmp_path / "dup.tsv"),
         "--dnase", str(d / "dnase.bw")],
        capture_output=True, text=True, env={**os.environ, "SEQ2EXP_PROGRESS": "0"},
    )
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "dup.tsv" in err[0] and "g1" in err[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "s").exists()
