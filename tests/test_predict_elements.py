"""predict / call-elements / plot-locus through the CLI, on a tiny trained model."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from seq2exp_cli.inference.elements import mask_intervals, merge_across_genes
from seq2exp_cli.training.loop import train

from _fixtures import RES, make_tiny_inputs, tiny_store
from conftest import tiny_run

#: the scaffold's tiny 20 kb model (conftest.TINY_RUN) with this file's schedule
TINY = dict(steps=3, warmup=1, eval_every=3, checkpoint_every=3, seed=1)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d, _, _ = make_tiny_inputs(tmp_path_factory.mktemp("tin"))
    store = tiny_store(d, tmp_path_factory.mktemp("st") / "store", blacklist=d / "blacklist.bed")
    m, t = tiny_run(**TINY)
    run = train(store, tmp_path_factory.mktemp("r") / "run", m, t, device="cpu", show_progress=False)
    files = ["--fasta", str(d / "genome.fa"), "--genes", str(d / "genes.tsv"),
             "--h3k27ac", str(d / "h3k27ac.bw"), "--dnase", str(d / "dnase.bw"),
             "--blacklist", str(d / "blacklist.bed"), "--resolution", str(RES)]
    return d, store, run, files


def test_mask_intervals_hand_case():
    m = np.array([0, .6, .7, 0, 0, .9, .9, .9, 0, .55, 0], dtype=np.float32)
    np.testing.assert_array_equal(mask_intervals(m, 0.5), [[1, 3], [5, 8], [9, 10]])
    np.testing.assert_array_equal(mask_intervals(m, 0.5, min_length=2), [[1, 3], [5, 8]])
    np.testing.assert_array_equal(mask_intervals(m, 0.5, merge_gap=3), [[1, 10]])
    np.testing.assert_array_equal(mask_intervals(m, 0.5, merge_gap=2), [[1, 3], [5, 10]])
    assert mask_intervals(m, 0.95).shape == (0, 2)


def test_merge_across_genes_hand_case():
    df = pd.DataFrame({
        "chrom": ["chr1", "chr1", "chr1"], "start": [100, 150, 400], "end": [200, 300, 500],
        "name": ["A", "B", "A"], "score": [500, 700, 100], "strand": ["+", "-", "+"],
        "mean_mask": [.5, .7, .1], "max_mask": [.6, .9, .2], "gene_id": ["a", "b", "a"],
        "tss_distance": [-50, 20, 300]})
    out = merge_across_genes(df)
    assert out[["start", "end", "name", "score", "strand"]].values.tolist() == [
        [100, 300, "A,B", 700, "."], [400, 500, "A", 100, "."]]
    assert out["tss_distance"].tolist() == [20, 300]


def test_predict_from_store_equals_predict_from_files(setup, cli):
    d, store, run, files = setup
    a = pd.read_csv(io.StringIO(cli("predict", "--store", store, "--model", run, "--device",
                                    "cpu", check=True).stdout), sep="\t")
    b = pd.read_csv(io.StringIO(cli("predict", *files, "--model", run, check=True).stdout),
                    sep="\t")
    assert list(a.columns) == ["gene_id", "name", "chrom", "tss", "strand", "prediction", "target"]
    assert list(b.columns[:6]) == list(a.columns[:6]) and len(a) == 4
    np.testing.assert_allclose(a["prediction"], b["prediction"], rtol=1e-5)
    assert np.isnan(a.loc[a.gene_id == "g4", "target"]).all()


def test_missing_signal_is_named(setup, tmp_path, cli):
    d, store, run, files = setup
    r = cli("predict", "--fasta", d / "genome.fa", "--genes", d / "genes.tsv", "--dnase",
            d / "dnase.bw", "--resolution", RES, "--model", run)
    assert r.exit_code != 0 and "h3k27ac" in str(r.exception)


def test_call_elements_bed_works_with_bedtools(setup, tmp_path, cli):
    d, store, run, files = setup
    bw = tmp_path / "mask.bw"
    bed = cli("call-elements", *files, "--model", run, "--cutoff", "0.1", "--min-length", "1",
              "--bigwig", bw, check=True).stdout
    lines = [l for l in bed.splitlines() if not l.startswith("#")]
    assert bed.startswith("#chrom\tstart\tend\tname\tscore\tstrand\tmean_mask")
    assert lines, "the tiny model should give some bases a mask above 0.1"
    path = tmp_path / "el.bed"
    path.write_text(bed)
    srt = subprocess.run(["bedtools", "sort", "-i", str(path)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert srt == lines  # already sorted as bedtools sorts
    merged = subprocess.run(["bedtools", "merge", "-i", str(path)], capture_output=True,
                            text=True, check=True)
    assert merged.stderr == "" and merged.stdout
    peaks = tmp_path / "peaks.bed"
    first = lines[0].split("\t")
    peaks.write_text(f"{first[0]}\t{first[1]}\t{int(first[1]) + 1}\tp1\n")
    hit = subprocess.run(["bedtools", "intersect", "-a", str(path), "-b", str(peaks), "-u"],
                         capture_output=True, text=True, check=True)
    assert hit.stderr == "" and hit.stdout.splitlines()[0].split("\t")[:3] == first[:3]
    # bigWig: readable, values in [0, 1], and each element's bases have mask >= cutoff
    with pyBigWig.open(str(bw)) as fh:
        c, s, e = first[0], int(first[1]), int(first[2])
        vals = np.array(fh.values(c, s, e))
        assert (vals >= 0.1 - 1e-6).all() and (vals <= 1).all()
        assert float(first[7]) <= vals.max() + 1e-4


def test_blacklisted_bases_are_never_elements(setup, cli):
    d, store, run, files = setup
    bed = cli("call-elements", "--store", store, "--model", run, "--cutoff", "1e-6",
              "--min-length", "1", "--gene", "g1", check=True).stdout
    rows = [l.split("\t") for l in bed.splitlines() if not l.startswith("#")]
    covered = np.zeros(50_000, dtype=bool)
    for r in rows:
        covered[int(r[1]): int(r[2])] = True
    assert not covered[24_000:24_100].any() and covered[15_000:24_000].all()


def test_plot_locus_png(setup, tmp_path, cli):
    d, store, run, files = setup
    png = tmp_path / "locus.png"
    (tmp_path / "truth.bed").write_text("chr1\t20000\t20500\tenh\n")
    cli("plot-locus", "ONE", "-o", png, "--store", store, "--model", run, "--truth",
        tmp_path / "truth.bed", check=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_pipeline_with_bedtools_and_macs3_peaks(setup, tmp_path):
    """`seq2exp call-elements | bedtools merge -i -` and `| bedtools intersect` with MACS3
    peaks called by `macs3 bdgpeakcall` on the DNase track, all through real pipes."""
    import os
    import sys

    from seq2exp_cli.evaluation.peaks import find_macs3
    from seq2exp_cli.io.bigwig import BigWigTrack, write_bedgraph

    d, store, run, files = setup
    bdg = tmp_path / "dnase.bdg"
    with BigWigTrack(d / "dnase.bw") as bw, open(bdg, "w") as fh:
        for chrom in ("chr1", "chr22", "chrX"):
            write_bedgraph(fh, chrom, bw.chrom_values(chrom))
    macs3 = find_macs3()
    subprocess.run([macs3, "bdgpeakcall", "-i", str(bdg), "-c", "6", "-l", "20", "-g", "10",
                    "--outdir", str(tmp_path), "-o", "peaks.narrowPeak"], check=True,
                   capture_output=True)
    peaks = tmp_path / "peaks.narrowPeak"
    n_peaks = sum(1 for l in peaks.read_text().splitlines() if l.startswith("chr"))
    assert n_peaks > 10
    cli = f"{sys.executable} -m seq2exp_cli call-elements " + " ".join(files) + \
        f" --model {run} --cutoff 0.1 --min-length 1"
    env = {**os.environ, "SEQ2EXP_PROGRESS": "0"}
    merged = subprocess.run(f"{cli} | bedtools merge -i -", shell=True, capture_output=True,
                            text=True, env=env, check=True)
    assert merged.stdout and "error" not in merged.stderr.lower()
    hit = subprocess.run(f"{cli} | bedtools intersect -a - -b {peaks} -u | wc -l", shell=True,
                         capture_output=True, text=True, env=env, check=True)
    n_hit = int(hit.stdout.strip())
    assert "error" not in hit.stderr.lower() and 0 < n_hit
    near = subprocess.run(f"{cli} | bedtools closest -a - -b {peaks} -d | head -3", shell=True,
                          capture_output=True, text=True, env=env, check=True)
    assert len(near.stdout.splitlines()) == 3 and "error" not in near.stderr.lower()


def test_plot_training_png(setup, tmp_path, cli):
    d, store, run, files = setup
    png = tmp_path / "curve.png"
    cli("plot-training", run, "-o", png, check=True)
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5_000
    r = cli("plot-training", tmp_path, "-o", png)
    assert r.exit_code != 0
