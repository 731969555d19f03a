"""Every bad input of `seq2exp preprocess` gives one line on stderr naming the file, exit
code 2, no traceback, and no partial store."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from _fixtures import RES, W, make_tiny_inputs


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d, _, _ = make_tiny_inputs(tmp_path_factory.mktemp("bad"))
    import pandas as pd

    from seq2exp_cli.io.hic import write_hic

    sizes = {"chr1": 50_000, "chr22": 30_000, "chrX": 25_000}
    pix = pd.DataFrame({"chrom1": ["chr1", "chr1"], "start1": [0, 0], "chrom2": ["chr1", "chr1"],
                        "start2": [0, 1000], "count": [5, 3]})
    write_hic(d / "ok.hic", sizes, [RES], pix)
    data = (d / "ok.hic").read_bytes()
    (d / "cut.hic").write_bytes(data[: len(data) // 2])
    bw = (d / "dnase.bw").read_bytes()
    (d / "cut.bw").write_bytes(bw[: len(bw) // 2])
    import pyBigWig

    other = pyBigWig.open(str(d / "other.bw"), "w")
    other.addHeader([("scaffold_9", 1000)])
    other.addEntries(["scaffold_9"], [0], ends=[10], values=[1.0])
    other.close()
    head = "gene_id\tname\tchrom\ttss\tstrand\n"
    (d / "beyond.tsv").write_text(head + "g1\tA\tchr1\t60000\t+\n")
    (d / "strand.tsv").write_text(head + "g1\tA\tchr1\t100\t*\n")
    (d / "dup.tsv").write_text(head + "g1\tA\tchr1\t100\t+\ng1\tB\tchr1\t200\t+\n")
    (d / "empty.tsv").write_text(head)
    (d / "nomatch.tsv").write_text("gene_id\tvalue\nzz1\t3\nzz2\t4\n")
    (d / "negative.tsv").write_text("gene_id\tvalue\ng1\t3\ng2\t-4\n")
    (d / "text.tsv").write_text("gene_id\tvalue\ng1\t3\ng2\thigh\n")
    return d


CASES = {
    # name: (extra args replacing the defaults, text the one line must contain)
    "missing file": (["--dnase", "{d}/nope.bw"], "nope.bw"),
    "bigWig chromosomes": (["--dnase", "{d}/other.bw"], "other.bw"),
    "TSS past the end": (["--genes", "{d}/beyond.tsv"], "beyond.tsv"),
    "unknown strand": (["--genes", "{d}/strand.tsv"], "strand.tsv"),
    "duplicate ids": (["--genes", "{d}/dup.tsv"], "dup.tsv"),
    "empty genes": (["--genes", "{d}/empty.tsv"], "empty.tsv"),
    "targets match no gene": (["--targets", "{d}/nomatch.tsv"], "nomatch.tsv"),
    "negative target": (["--targets", "{d}/negative.tsv"], "negative.tsv"),
    "non-numeric target": (["--targets", "{d}/text.tsv"], "text.tsv"),
    "truncated bigWig": (["--dnase", "{d}/cut.bw"], "cut.bw"),
    "truncated .hic": (["--hic", "{d}/cut.hic"], "cut.hic"),
    "Hi-C resolution missing": (["--hic", "{d}/ok.hic", "--resolution", "2500"], "ok.hic"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(inputs, tmp_path, case):
    d = inputs
    args = {"--fasta": f"{d}/genome.fa", "--genes": f"{d}/genes.tsv", "--dnase": f"{d}/dnase.bw",
            "--window": str(W), "--resolution": str(RES)}
    extra, needle = CASES[case]
    it = iter(extra)
    for flag in it:
        args[flag] = next(it).format(d=d)
    cmd = [sys.executable, "-m", "seq2exp_cli", "preprocess", str(tmp_path / "store")]
    for k, v in args.items():
        cmd += [k, v]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env={**os.environ, "SEQ2EXP_PROGRESS": "0"})
    lines = [l for l in r.stderr.splitlines() if l.startswith("seq2exp: error")]
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(lines) == 1, r.stderr
    assert needle in lines[0], lines[0]
    assert not (tmp_path / "store").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".store")]
