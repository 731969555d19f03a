"""``--chroms`` / ``--shard I/N`` of predict and call-elements, and the gathers.

The truth is the unsharded command itself: on a simulated cell type (``simulate --preset
ci``, 34 genes on 6 chromosomes; 20-kb windows) with a tiny model trained for 3 steps (the
bundled model runs the same code, 10x slower here), the shards' outputs joined by
:mod:`seq2exp_cli.shard` must equal the unsharded output byte for byte (predictions TSV,
elements BED per gene and merged, mask bigWig), and plain ``cat``/``sort`` of the shards
must too.  Model outputs can differ in the last float bit when a gene's batch neighbours
change (here the mask does), so this fails unless batches are cut per chromosome.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from seq2exp_cli.cli import app
from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.shard import (
    Shard, chrom_batches, gather_bed, gather_bigwig, gather_tsv, parse_shard, select_genes,
    shard_chroms,
)
from seq2exp_cli.training.loop import train

from conftest import tiny_run

W = 20_000
#: the scaffold's tiny 20 kb model (conftest.TINY_RUN), 3 steps
TINY = dict(steps=3, warmup=1, eval_every=3, checkpoint_every=3, seed=1)


# ------------------------------------------------------------------ pure functions
def test_parse_shard():
    assert parse_shard("2/4") == Shard(2, 4)
    assert parse_shard(" 1 / 1 ") == Shard(1, 1)
    assert str(Shard(3, 8)) == "3/8"
    for bad in ("3/2", "0/2", "1/0", "2", "a/b", "-1/2", "1/2/3", ""):
        with pytest.raises(Seq2ExpError, match="--shard"):
            parse_shard(bad)


def test_shard_chroms_hand_cases():
    # 10 genes: chr1 x4, chr2 x1, chr3 x3, chr4 x2 (first-appearance order kept)
    genes = ["chr1"] * 4 + ["chr2"] + ["chr3"] * 3 + ["chr4"] * 2
    assert shard_chroms(genes, 1) == [["chr1", "chr2", "chr3", "chr4"]]
    # midpoints 2, 4.5, 6.5, 9 of 10 genes -> groups floor(2*m/10) = 0, 0, 1, 1
    assert shard_chroms(genes, 2) == [["chr1", "chr2"], ["chr3", "chr4"]]
    # floor(3*m/10) = 0, 1, 1, 2
    assert shard_chroms(genes, 3) == [["chr1"], ["chr2", "chr3"], ["chr4"]]
    # more shards than chromosomes: some are empty, every chromosome in exactly one
    groups = shard_chroms(genes, 6)
    assert len(groups) == 6 and sum(groups, []) == ["chr1", "chr2", "chr3", "chr4"]
    assert [] in groups
    # interleaved table: order of first appearance
    assert shard_chroms(["chrB", "chrA", "chrB"], 1) == [["chrB", "chrA"]]


def test_select_genes_and_batches():
    genes = pd.DataFrame({"chrom": ["chr1", "chr1", "chr2", "chr3", "chr3", "chr3"]})
    assert select_genes(genes) is None
    np.testing.assert_array_equal(select_genes(genes, chroms=["chr3", "chr1"]), [0, 1, 3, 4, 5])
    np.testing.assert_array_equal(select_genes(genes, [5, 0, 2], chroms=["chr3", "chr1"]), [5, 0])
    # known but geneless chromosome: nothing selected; unknown: an error naming it
    assert len(select_genes(genes, chroms=["chrM"], known_chroms=["chr1", "chrM"])) == 0
    with pytest.raises(Seq2ExpError, match="'chr9' is not a chromosome"):
        select_genes(genes, chroms=["chr9"], known_chroms=["chr1", "chr2", "chr3"])
    parts = [select_genes(genes, shard=Shard(i, 2)) for i in (1, 2)]
    np.testing.assert_array_equal(np.concatenate(parts), np.arange(6))
    np.testing.assert_array_equal(parts[1], [3, 4, 5])
    # batches never mix chromosomes, and a chromosome's batches do not depend on the rest
    col = genes["chrom"].to_numpy()
    got = [b.tolist() for b in chrom_batches(col, np.arange(6), 2)]
    assert got == [[0, 1], [2], [3, 4], [5]]
    assert [b.tolist() for b in chrom_batches(col, np.array([3, 4, 5]), 2)] == [[3, 4], [5]]


def test_gathers_refuse_mismatched_headers(tmp_path):
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    a.write_text("gene_id\tprediction\ng1\t1\n")
    b.write_text("gene_id\tprediction\ttarget\ng2\t2\t3\n")
    with pytest.raises(Seq2ExpError, match="b.tsv: header differs"):
        gather_tsv([a, b], tmp_path / "out.tsv")
    with pytest.raises(Seq2ExpError, match="nope.bed: shard output not found"):
        gather_bed([a, tmp_path / "nope.bed"], tmp_path / "out.bed")
    assert not (tmp_path / "out.tsv").exists() and not (tmp_path / "out.bed").exists()


def test_gather_bed_sorts_like_call_elements(tmp_path):
    a, b = tmp_path / "1.bed", tmp_path / "2.bed"
    a.write_text("#chrom\tstart\tend\tname\nchr2\t5\t9\tx\nchr2\t50\t60\ty\n")
    b.write_text("#chrom\tstart\tend\tname\nchr10\t7\t8\tz\nchr1\t100\t200\tw\n")
    gather_bed([a, b], tmp_path / "all.bed")
    assert (tmp_path / "all.bed").read_text() == (
        "#chrom\tstart\tend\tname\nchr1\t100\t200\tw\nchr10\t7\t8\tz\n"
        "chr2\t5\t9\tx\nchr2\t50\t60\ty\n")


# ------------------------------------------------------------------ through the CLI
@pytest.fixture(scope="module")
def sim_store(tmp_path_factory):
    from seq2exp_cli.simulate import simulate
    from seq2exp_cli.store import preprocess

    d = tmp_path_factory.mktemp("shard_sim")
    simulate(d / "sim", preset="ci", seed=3)
    sim = d / "sim"
    store = d / "store"
    preprocess(store, fasta=sim / "genome.fa", genes=sim / "genes.tsv",
               tracks={"h3k27ac": sim / "h3k27ac.bw", "dnase": sim / "dnase.bw"},
               hic=sim / "contacts.hic", targets=sim / "cage.tsv", window_bp=W,
               show_progress=False)
    m, t = tiny_run(**TINY)
    run = train(store, d / "run", m, t, device="cpu", show_progress=False)
    return sim, store, run


def _run(args):
    r = CliRunner().invoke(app, args, env={"SEQ2EXP_PROGRESS": "0"})
    assert r.exit_code == 0, (r.output, r.exception)
    return r


def _cat_tsv(paths):
    texts = [p.read_text().splitlines(keepends=True) for p in paths]
    return "".join(texts[0][:1] + sum((t[1:] for t in texts), []))


def _sort_bed(paths):
    """The shell's join: header once, then ``LC_ALL=C sort -s -k1,1 -k2,2n -k3,3n``."""
    lines = sum((p.read_text().splitlines(keepends=True) for p in paths), [])
    head = [x for x in lines if x.startswith("#")][:1]
    rows = "".join(x for x in lines if not x.startswith("#"))
    out = subprocess.run(["sort", "-s", "-t", "\t", "-k1,1", "-k2,2n", "-k3,3n"], input=rows,
                         capture_output=True, text=True, check=True, env={"LC_ALL": "C"}).stdout
    return "".join(head) + out


def test_sharded_predict_equals_unsharded(sim_store, tmp_path):
    sim, store, run = sim_store
    base = ["predict", "--store", str(store), "--device", "cpu", "--model", str(run),
            "--batch-size", "4"]
    _run([*base, "-o", str(tmp_path / "all.tsv")])
    parts = [tmp_path / f"p{i}.tsv" for i in (1, 2, 3)]
    for i, p in enumerate(parts, 1):
        _run([*base, "--shard", f"{i}/3", "-o", str(p)])
    from seq2exp_cli.store import Store

    full = (tmp_path / "all.tsv").read_text()
    assert full.count("\n") == len(Store(store).genes) + 1 > 20  # every gene + header
    chroms = [set(pd.read_csv(p, sep="\t")["chrom"]) for p in parts]
    assert all(chroms) and not (chroms[0] & chroms[1] or chroms[1] & chroms[2])
    assert _cat_tsv(parts) == full
    gather_tsv(parts, tmp_path / "joined.tsv")
    assert (tmp_path / "joined.tsv").read_bytes() == full.encode()
    # the values themselves, not only their 6 printed digits, are bit-identical
    from seq2exp_cli.inference.predict import predict_expression
    from seq2exp_cli.models.checkpoint import load_model

    model = load_model(run, "cpu")
    src = Store(store)
    whole = predict_expression(src, model, batch_size=4, progress=False)
    pieces = pd.concat([predict_expression(src, model, select_genes(src.genes, shard=Shard(i, 3)),
                                           batch_size=4, progress=False) for i in (1, 2, 3)])
    np.testing.assert_array_equal(pieces["prediction"].to_numpy(), whole["prediction"].to_numpy())
    # --chroms: the same rows as the unsharded output, in its order
    sub = _run([*base, "--chroms", "chr21,chr2"]).stdout
    want = [x for x in full.splitlines()[1:] if x.split("\t")[2] in ("chr2", "chr21")]
    assert sub.splitlines()[1:] == want and len(want) > 0


def test_sharded_predict_from_raw_files_equals_unsharded(sim_store, tmp_path):
    sim, _, run = sim_store
    base = ["predict", "--fasta", str(sim / "genome.fa"), "--genes", str(sim / "genes.tsv"),
            "--h3k27ac", str(sim / "h3k27ac.bw"), "--dnase", str(sim / "dnase.bw"),
            "--hic", str(sim / "contacts.hic"), "--device", "cpu", "--model", str(run),
            "--chroms", "chr1,chr2,chr3"]
    full = _run(base).stdout
    parts = [tmp_path / f"p{i}.tsv" for i in (1, 2)]
    for i, p in enumerate(parts, 1):
        _run([*base, "--shard", f"{i}/2", "-o", str(p)])
    assert _cat_tsv(parts) == full


@pytest.mark.parametrize("mode,n", [("--per-gene", 3), ("--merged", 2)])
def test_sharded_call_elements_equals_unsharded(sim_store, tmp_path, mode, n):
    sim, store, run = sim_store
    base = ["call-elements", "--store", str(store), "--device", "cpu", "--model", str(run), mode,
            "--batch-size", "4", "--cutoff", "0", "--top-bases", "0.1", "--min-length", "1"]
    _run([*base, "-o", str(tmp_path / "all.bed"), "--bigwig", str(tmp_path / "all.bw")])
    beds = [tmp_path / f"e{i}.bed" for i in range(1, n + 1)]
    bws = [tmp_path / f"m{i}.bw" for i in range(1, n + 1)]
    for i in range(n):
        _run([*base, "--shard", f"{i + 1}/{n}", "-o", str(beds[i]), "--bigwig", str(bws[i])])
    full = (tmp_path / "all.bed").read_text()
    assert full.count("\n") > 50
    assert all(b.read_text().count("\n") > 1 for b in beds)  # every shard has elements
    assert _sort_bed(beds) == full
    gather_bed(beds, tmp_path / "joined.bed")
    assert (tmp_path / "joined.bed").read_text() == full
    gather_bigwig(bws, tmp_path / "joined.bw")
    assert (tmp_path / "joined.bw").read_bytes() == (tmp_path / "all.bw").read_bytes()


def test_shard_beyond_the_chromosomes_writes_empty_outputs(sim_store, tmp_path):
    """6 chromosomes with genes over 9 shards: 3 shards get none, still write a valid BED (the
    header) and bigWig (the genome's header, no data), and all 9 join to the unsharded."""
    sim, store, run = sim_store
    from seq2exp_cli.io.bigwig import BigWigTrack
    from seq2exp_cli.store import Store

    base = ["call-elements", "--store", str(store), "--device", "cpu", "--model", str(run),
            "--cutoff", "0", "--top-bases", "0.1"]
    _run([*base, "-o", str(tmp_path / "all.bed"), "--bigwig", str(tmp_path / "all.bw")])
    beds = [tmp_path / f"e{i}.bed" for i in range(1, 10)]
    bws = [tmp_path / f"m{i}.bw" for i in range(1, 10)]
    for i in range(9):
        _run([*base, "--shard", f"{i + 1}/9", "-o", str(beds[i]), "--bigwig", str(bws[i])])
    rows = [b.read_text().count("\n") - 1 for b in beds]
    n_chroms = Store(store).genes["chrom"].nunique()  # 6 with genes in the ci genome
    assert 2 <= n_chroms < 9
    assert rows.count(0) == 9 - n_chroms and sum(r > 0 for r in rows) == n_chroms, rows
    genome = Store(store).chrom_sizes
    empty = rows.index(0)
    with BigWigTrack(bws[empty]) as t:
        assert t.chrom_sizes == genome
        assert not any(t.chrom_values(c).any() for c in genome)
    gather_bed(beds, tmp_path / "joined.bed")
    gather_bigwig(bws, tmp_path / "joined.bw")
    assert (tmp_path / "joined.bed").read_bytes() == (tmp_path / "all.bed").read_bytes()
    assert (tmp_path / "joined.bw").read_bytes() == (tmp_path / "all.bw").read_bytes()


@pytest.mark.parametrize("args,needle", [
    (["--shard", "3/2"], "--shard 3/2: shard I of N needs 1 <= I <= N"),
    (["--shard", "two"], "--shard two: expected I/N"),
    (["--chroms", "chrZ"], "'chrZ' is not a chromosome"),
])
@pytest.mark.parametrize("command", ["predict", "call-elements"])
def test_bad_shard_and_chroms_are_one_line_errors(sim_store, command, args, needle):
    sim, store, run = sim_store
    r = subprocess.run([sys.executable, "-m", "seq2exp_cli", command, "--store", str(store),
                        "--device", "cpu", "--model", str(run), *args], capture_output=True,
                       text=True, env={**os.environ, "SEQ2EXP_PROGRESS": "0"})
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr


# ------------------------------------------------------------------ --workers
def test_workers_equal_one_process(sim_store, tmp_path):
    """predict and call-elements over 3 and 2 forked workers: byte-identical outputs."""
    sim, store, run = sim_store
    base = ["predict", "--store", str(store), "--device", "cpu", "--model", str(run),
            "--batch-size", "4"]
    three = _run([*base, "--workers", "3"])
    assert three.stdout == _run([*base, "--workers", "1"]).stdout
    assert three.stdout.count("\n") > 20
    assert "in 3 worker processes (forked)" in three.stderr
    raw = ["predict", "--fasta", str(sim / "genome.fa"), "--genes", str(sim / "genes.tsv"),
           "--h3k27ac", str(sim / "h3k27ac.bw"), "--dnase", str(sim / "dnase.bw"),
           "--hic", str(sim / "contacts.hic"), "--device", "cpu", "--model", str(run),
           "--batch-size", "4"]
    assert _run([*raw, "--workers", "2"]).stdout == _run([*raw, "--workers", "1"]).stdout
    el = ["call-elements", "--store", str(store), "--device", "cpu", "--model", str(run),
          "--merged", "--batch-size", "4", "--cutoff", "0", "--top-bases", "0.1"]
    _run([*el, "--workers", "1", "-o", str(tmp_path / "one.bed"),
          "--bigwig", str(tmp_path / "one.bw")])
    _run([*el, "--workers", "2", "-o", str(tmp_path / "two.bed"),
          "--bigwig", str(tmp_path / "two.bw")])
    assert (tmp_path / "two.bed").read_text() == (tmp_path / "one.bed").read_text()
    assert (tmp_path / "two.bw").read_bytes() == (tmp_path / "one.bw").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.bed", "one.bw", "two.bed", "two.bw"]


def test_spawned_workers_reopen_their_sources(sim_store, monkeypatch):
    """Where fork is unsafe the workers are spawned: a source travels as its paths."""
    import pickle

    from _worker_tasks import window_sums
    from seq2exp_cli.api import open_source
    from seq2exp_cli.inference import workers
    from seq2exp_cli.store import Store

    sim, store, _ = sim_store
    raw = open_source(None, genes=sim / "genes.tsv", fasta=sim / "genome.fa",
                      dnase=sim / "dnase.bw", h3k27ac=sim / "h3k27ac.bw",
                      hic=sim / "contacts.hic", window_bp=W, quiet=True)
    from seq2exp_cli.store import inputs

    # a reopened source reuses the scales measured at opening: no second genome-wide sampling
    monkeypatch.setattr(inputs, "track_scale", lambda *a: pytest.fail("track sampled again"))
    for src in (raw, Store(store)):
        blob = pickle.dumps(src)
        assert len(blob) < 10_000  # paths, not arrays or open handles
        back = pickle.loads(blob)
        assert back.track_scales == src.track_scales
        for i in (0, len(src) - 1):
            a, b = src.window(i, W), back.window(i, W)
            np.testing.assert_array_equal(a.seq, b.seq)
            np.testing.assert_array_equal(a.signals, b.signals)
    monkeypatch.setattr(workers, "_fork_is_safe", lambda: False)
    parts = workers.split_by_chromosome(raw.genes["chrom"].to_numpy(), np.arange(len(raw)), 2)
    got = workers.run_parts(window_sums, raw, None, parts, label="t", progress=False, width=W)
    assert got == [window_sums(raw, None, p, lambda n: None, W) for p in parts]


def _fails_with_input_error(source, model, part, advance):
    raise Seq2ExpError(f"genes.tsv: line {int(part[0])}: bad")


def _dies(source, model, part, advance):
    os._exit(9)


def test_worker_errors_reach_the_parent(sim_store):
    from seq2exp_cli.inference.workers import run_parts
    from seq2exp_cli.store import Store

    src = Store(sim_store[1])
    with pytest.raises(Seq2ExpError, match=r"^genes.tsv: line 7: bad$"):
        run_parts(_fails_with_input_error, src, None, [np.array([7])], label="t", progress=False)
    with pytest.raises(Seq2ExpError, match="worker 1 of 2 died \\(exit code 9"):
        run_parts(_dies, src, None, [np.array([1]), np.array([2])], label="t", progress=False)


def test_auto_workers(monkeypatch):
    import torch

    from seq2exp_cli.inference import workers

    monkeypatch.setattr(workers, "available_cores", lambda: 2)
    cpu = torch.device("cpu")
    assert workers.auto_workers(20_000, cpu) == 2
    assert workers.auto_workers(127, cpu) == 1  # under 64 genes a worker
    assert workers.auto_workers(20_000, cpu, threads=2) == 1
    assert workers.auto_workers(20_000, torch.device("cuda", 0)) == 1
    monkeypatch.setattr(workers, "available_cores", lambda: 64)
    assert workers.auto_workers(20_000, cpu) == workers.MAX_AUTO_WORKERS
    r = CliRunner().invoke(app, ["predict", "--workers", "0"])
    assert r.exit_code == 2 and "--workers" in r.output
    from seq2exp_cli.cli.options import worker_count

    assert worker_count(3, 20_000, cpu) == 3
    assert worker_count(None, 20_000, cpu) == workers.auto_workers(20_000, cpu, torch.get_num_threads())
    assert worker_count(3, 20_000, torch.device("cuda", 0)) == 1  # a GPU runs one process
    # a pool that does not survive a fork is running: spawn instead
    monkeypatch.setitem(sys.modules, "hictkpy", object())
    assert not workers._fork_is_safe()


def test_predict_elements_in_one_pass_equals_the_two_commands(sim_store, tmp_path):
    import shutil

    from seq2exp_cli.models.checkpoint import update_meta

    sim, store, run = sim_store
    run = shutil.copytree(run / "best", tmp_path / "model")
    base = ["--store", str(store), "--device", "cpu", "--model", str(run), "--batch-size", "4"]
    pred = _run(["predict", *base]).stdout
    # a cutoff that most genes' masks cross: the 0.2 quantile of the per-gene maxima
    from seq2exp_cli.inference.elements import gene_masks
    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.store import Store

    maxima = [m.max() for _, _, m in gene_masks(Store(store), load_model(run, "cpu"),
                                                 progress=False)]
    cut = float(np.quantile(maxima, 0.2))
    bed = _run(["call-elements", *base, "--cutoff", repr(cut)]).stdout
    assert bed.count("\n") > 25
    update_meta(run, element_cutoff=cut)  # --elements uses the model's cutoff
    for w in ("1", "2"):
        out = tmp_path / f"both{w}"
        r = _run(["predict", *base, "--workers", w, "-o", f"{out}.tsv", "--elements", f"{out}.bed"])
        assert (tmp_path / f"both{w}.tsv").read_text() == pred
        assert (tmp_path / f"both{w}.bed").read_text() == bed
        assert f"elements (mask >= {cut:.4g}, the model's calibrated cutoff" in r.stderr
