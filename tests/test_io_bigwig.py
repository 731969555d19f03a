"""bigWig writer/reader round trips through pyBigWig, padding, aliases, bad files."""

import numpy as np
import pyBigWig
import pytest

from seq2exp_cli.errors import InputError
from seq2exp_cli.io.bigwig import BigWigTrack, write_bedgraph, write_bigwig
from seq2exp_cli.io.chroms import ChromNames

SIZES = {"chr1": 5000, "chr2": 3000, "chr3": 100}


def _tracks():
    rng = np.random.default_rng(0)
    a = np.zeros(5000, np.float32)
    a[10:60] = 2.5
    a[4000:4100] = rng.random(100).astype(np.float32)
    a[-3:] = 7.0
    b = np.repeat(rng.integers(0, 3, 300).astype(np.float32), 10)
    return {"chr1": a, "chr2": b}


def test_round_trip_via_pybigwig(tmp_path):
    tracks = _tracks()
    p = tmp_path / "t.bw"
    write_bigwig(p, SIZES, tracks)
    bw = pyBigWig.open(str(p))
    ref = np.nan_to_num(np.asarray(bw.values("chr1", 0, 5000)))
    np.testing.assert_array_equal(ref.astype(np.float32), tracks["chr1"])
    # Runs are merged: 50 bp of 2.5 is a single entry.
    assert (10, 60, 2.5) in bw.intervals("chr1", 0, 100)
    bw.close()
    with BigWigTrack(p) as t:
        np.testing.assert_array_equal(t.chrom_values("chr1"), tracks["chr1"])
        np.testing.assert_array_equal(t.chrom_values("chr2"), tracks["chr2"])
        assert t.chrom_values("chr3").tolist() == [0.0] * 100
        got = t.fetch("chr1", -10, 5010)
        assert got.dtype == np.float32 and got.shape == (5020,)
        np.testing.assert_array_equal(got[10:-10], tracks["chr1"])
        assert not got[:10].any() and not got[-10:].any()


def test_aliases_and_absent_chromosome(tmp_path):
    p = tmp_path / "t.bw"
    write_bigwig(p, {"1": 5000, "2": 3000}, {"1": _tracks()["chr1"]})
    genome = ChromNames({"chr1": 5000, "chr2": 3000, "chrX": 800})
    t = BigWigTrack(p, chroms=genome)
    assert t.fetch("chr1", 10, 12).tolist() == [2.5, 2.5]
    assert t.chrom_values("chrX").shape == (800,) and not t.chrom_values("chrX").any()
    with pytest.raises(InputError, match="none of its chromosomes"):
        BigWigTrack(p, chroms=ChromNames({"chrZ": 10}))


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        BigWigTrack(tmp_path / "none.bw")
    txt = tmp_path / "x.bw"
    txt.write_text("chr1\t0\t10\t1\n")
    with pytest.raises(InputError, match="not a bigWig"):
        BigWigTrack(txt)
    p = tmp_path / "t.bw"
    write_bigwig(p, SIZES, _tracks())
    data = p.read_bytes()
    cut = tmp_path / "cut.bw"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.bw"):
        BigWigTrack(cut)


def test_bedgraph_runs(tmp_path):
    p = tmp_path / "x.bdg"
    write_bedgraph(p, "chr1", np.array([0, 0, 1, 1, 1, 0, 2.5], np.float32), offset=100)
    assert p.read_text() == "chr1\t102\t105\t1\nchr1\t106\t107\t2.5\n"
