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
    empty = pyBigWig.open(str(d / "empty.bw"), "w")  # the genome's chromosomes, no data
    empty.addHeader([("chr1", 50_000), ("chr22", 30_000), ("chrX", 25_000)], maxZooms=10)
    empty.close()
    zeros = pyBigWig.open(str(d / "zeros.bw"), "w")  # data, all of it 0
    zeros.addHeader([("chr1", 50_000), ("chr22", 30_000), ("chrX", 25_000)], maxZooms=10)
    zeros.addEntries(["chr1", "chr22"], [0, 0], ends=[50_000, 30_000], values=[0.0, 0.0])
    zeros.close()
    # GTF of the four genes (1-based inclusive), then the same cut off inside line 5
    attrs = 'gene_id "{g}"; gene_name "{g}"; transcript_id "{g}.1"; tag "Ensembl_canonical";'
    gtf = "".join(f"{c}\tt\t{f}\t{s}\t{s + 500}\t.\t{st}\t.\t{attrs.format(g=g)}\n"
                  for g, c, s, st in (("g1", "chr1", 25_001, "+"), ("g2", "chr1", 2_502, "-"),
                                      ("g3", "chr22", 28_001, "+"), ("g4", "chrX", 11_502, "-"))
                  for f in ("gene", "transcript"))
    (d / "genes.gtf").write_text(gtf)
    lines = gtf.splitlines(keepends=True)
    (d / "cut.gtf").write_text("".join(lines[:4]) + lines[4][:-30])
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
    "bigWig without data": (["--dnase", "{d}/empty.bw"], "empty.bw"),
    "bigWig of zeros": (["--h3k27ac", "{d}/zeros.bw"], "zeros.bw"),
    "GTF cut mid-line": (["--genes", "{d}/cut.gtf"], "cut.gtf: line 5"),
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


def _preprocess(d, out):
    cmd = [sys.executable, "-m", "seq2exp_cli", "preprocess", str(out), "--fasta",
           f"{d}/genome.fa", "--genes", f"{d}/genes.gtf", "--dnase", f"{d}/dnase.bw",
           "--window", str(W), "--resolution", str(RES)]
    return subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "SEQ2EXP_PROGRESS": "0"})


def test_complete_gtf_is_accepted(inputs, tmp_path):
    r = _preprocess(inputs, tmp_path / "store")
    assert r.returncode == 0, r.stderr
    import pandas as pd

    genes = pd.read_csv(tmp_path / "store" / "genes.tsv", sep="\t")
    assert list(genes["gene_id"]) == ["g1", "g2", "g3", "g4"]


def test_temp_folder_of_a_killed_run_is_removed_by_the_next(inputs, tmp_path):
    """A preprocess killed mid-write leaves .store.<host>-<pid>-<start>.<random>.tmp (it
    cannot clean up after SIGKILL); the next run into the same place removes it."""
    import signal
    import time

    out = tmp_path / "store"
    cmd = [sys.executable, "-c",
           "import sys, time\n"
           "from seq2exp_cli.io import atomic\n"
           "real = atomic.atomic_dir\n"
           "import contextlib\n"
           "@contextlib.contextmanager\n"
           "def slow(path, overwrite=False):\n"
           "    with real(path, overwrite) as tmp:\n"
           "        print(tmp, flush=True)\n"
           "        yield tmp\n"
           "        time.sleep(60)\n"
           "atomic.atomic_dir = slow\n"
           "import seq2exp_cli.store.preprocess as p\n"
           "p.atomic_dir = slow\n"
           "from seq2exp_cli.cli import main\n"
           "main(sys.argv[1:])\n",
           "preprocess", str(out), "--fasta", f"{inputs}/genome.fa", "--genes",
           f"{inputs}/genes.tsv", "--dnase", f"{inputs}/dnase.bw", "--window", str(W),
           "--resolution", str(RES)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "SEQ2EXP_PROGRESS": "0"})
    tmp = proc.stdout.readline().strip()
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)  # killed after writing the whole store, before the rename
    proc.wait()
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".store.")]
    assert [str(p) for p in left] == [tmp] and any(left[0].iterdir())
    r = _preprocess(inputs, out)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
