"""BED / narrowPeak / blacklist readers and the BED writer, checked with bedtools."""

import io
import subprocess

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.errors import InputError
from seq2exp_cli.io.bed import (
    intervals_to_mask,
    read_bed,
    read_blacklist,
    read_narrowpeak,
    write_bed,
)
from seq2exp_cli.io.chroms import ChromNames

CHROMS = ChromNames({"chr1": 1000, "chr2": 500, "chr10": 300})


def test_read_bed_skips_headers_and_resolves(tmp_path):
    p = tmp_path / "a.bed"
    p.write_text("track name=x\n#comment\nbrowser position chr1\n"
                 "1\t10\t20\tp1\t5\t+\n2\t0\t5\tp2\t.\t-\n")
    df = read_bed(p, CHROMS)
    assert df.columns.tolist() == ["chrom", "start", "end", "name", "score", "strand"]
    assert df["chrom"].tolist() == ["chr1", "chr2"]
    assert df["start"].tolist() == [10, 0] and df["score"].tolist() == [5, 0]


@pytest.mark.parametrize("line,match", [
    ("chr1\tx\t20\n", "line 2"), ("chr1\t30\t20\n", "line 2"), ("chr1\t5\n", "line 2"),
    ("chr9\t1\t2\n", "chr9"),
])
def test_bad_lines(tmp_path, line, match):
    p = tmp_path / "a.bed"
    p.write_text("chr1\t1\t2\n" + line)
    with pytest.raises(InputError, match=match):
        read_bed(p, CHROMS)


def test_narrowpeak_and_blacklist(tmp_path):
    p = tmp_path / "a.narrowPeak"
    p.write_text("chr1\t100\t300\tpk1\t50\t.\t7.5\t12.1\t10.3\t120\n")
    df = read_narrowpeak(p)
    assert df.loc[0, "signalValue"] == 7.5 and df.loc[0, "peak"] == 120
    b = tmp_path / "bl.bed"
    b.write_text("chr1\t900\t1500\nchrUn_x\t0\t10\nchr2\t1\t3\textra\n")
    bl = read_blacklist(b, CHROMS)
    assert bl.values.tolist() == [["chr1", 900, 1000], ["chr2", 1, 3]]


def test_write_bed_sorted_and_bedtools_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    chrom = rng.choice(["chr1", "chr2", "chr10"], 200)
    start = rng.integers(0, 250, 200)
    df = pd.DataFrame({"chrom": chrom, "start": start, "end": start + rng.integers(1, 40, 200)})
    out = tmp_path / "o.bed"
    write_bed(out, df, header_lines=["track name=t"], chrom_order=CHROMS.names)
    lines = out.read_text().splitlines()
    assert lines[0] == "track name=t"
    got = read_bed(out)
    ref = subprocess.run(["bedtools", "sort", "-i", str(out), "-g", "/dev/stdin"],
                         input="chr1\t1000\nchr2\t500\nchr10\t300\n", capture_output=True,
                         text=True, check=True).stdout
    ref_rows = [tuple(x.split("\t")[:3]) for x in ref.splitlines()]
    ours = [(c, str(s), str(e)) for c, s, e in got.itertuples(index=False)]
    # bedtools sorts by chrom (genome file order) and start; ties by end are ours.
    assert [r[:2] for r in ref_rows] == [r[:2] for r in ours]
    assert sorted(ref_rows) == sorted(ours)
    assert all(a[3] <= b[3] for a, b in zip(got.itertuples(), got.iloc[1:].itertuples())
               if (a[1], a[2]) == (b[1], b[2]))
    # Mask equals bedtools merge coverage.
    merged = subprocess.run(["bedtools", "merge", "-i", str(out)], capture_output=True,
                            text=True, check=True).stdout
    mdf = pd.read_csv(io.StringIO(merged), sep="\t", names=["chrom", "start", "end"])
    mask = intervals_to_mask(got, "chr1", 0, 300)
    expect = np.zeros(300, bool)
    for r in mdf[mdf.chrom == "chr1"].itertuples():
        expect[r.start:r.end] = True
    np.testing.assert_array_equal(mask, expect)


def test_write_bed_stdout(capsys):
    write_bed("-", pd.DataFrame({"chrom": ["b", "a"], "start": [1, 2], "end": [3, 4]}))
    assert capsys.readouterr().out == "a\t2\t4\nb\t1\t3\n"


def test_intervals_to_mask_clips():
    df = pd.DataFrame({"chrom": ["c", "c", "d"], "start": [-5, 8, 0], "end": [2, 30, 9]})
    assert np.flatnonzero(intervals_to_mask(df, "c", 0, 10)).tolist() == [0, 1, 8, 9]
