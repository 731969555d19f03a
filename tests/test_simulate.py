"""The simulator: planted truth read back through the real libraries.

One ``ci``-preset data set (~3.5 Mb, ~35 genes, ~2 s) is written once per module; each test
reads its files with pyBigWig / pyfaidx / hicstraw / cooler and compares with the in-memory
model that generated them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.simulate import generate, make_config, simulate
from seq2exp_cli.simulate.elements import DECOY_MAX_SCORE
from seq2exp_cli.simulate.motifs import best_score, load_motifs, max_score
from seq2exp_cli.simulate.sequence import load_markov, markov_sequence, rng_for


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "ci"
    return simulate(out, preset="ci", seed=7)


def _elements(sim) -> pd.DataFrame:
    return pd.read_csv(sim.outdir / "truth_elements.bed", sep="\t").rename(
        columns={"#chrom": "chrom"}
    )


def test_files_and_chromosomes(sim):
    names = {p.name for p in sim.files}
    for f in (
        "genome.fa",
        "genome.fa.fai",
        "genes.gtf",
        "genes.tsv",
        "dnase.bw",
        "h3k27ac.bw",
        "contacts.hic",
        "contacts.cool",
        "cage.tsv",
        "blacklist.bed",
        "truth_elements.bed",
        "truth_crispri.tsv",
        "truth.json",
        "README.md",
    ):
        assert f in names and (sim.outdir / f).stat().st_size > 0
    chroms = list(sim.data.cfg.chrom_sizes)
    assert {"chr1", "chr2", "chr3", "chr21", "chr22", "chrX"} <= set(chroms)
    assert "seq2exp simulate" in (sim.outdir / "README.md").read_text()


def test_bigwig_matches_generated_arrays_at_enhancers(sim):
    import pyBigWig

    el = _elements(sim)
    enh = el[el.name == "enhancer"].head(20)
    assert len(enh)
    for fname, track in (("dnase.bw", sim.data.dnase), ("h3k27ac.bw", sim.data.h3k27ac)):
        bw = pyBigWig.open(str(sim.outdir / fname))
        for r in enh.itertuples():
            lo, hi = r.start - 1000, r.end + 1000
            got = np.nan_to_num(np.asarray(bw.values(r.chrom, lo, hi), dtype=np.float32))
            np.testing.assert_array_equal(got, track[r.chrom][lo:hi])
        bw.close()
    # peaks are there: DNase over every enhancer is clearly above background
    bw = pyBigWig.open(str(sim.outdir / "dnase.bw"))
    peak = [bw.stats(r.chrom, r.start, r.end, type="max")[0] for r in enh.itertuples()]
    assert min(peak) > 0.5
    bw.close()


def test_fasta_has_planted_motifs_softmask_and_gaps(sim):
    import pyfaidx

    fa = pyfaidx.Fasta(str(sim.outdir / "genome.fa"), sequence_always_upper=False)
    mot = pd.read_csv(sim.outdir / "truth_motifs.tsv", sep="\t")
    assert len(mot) > 50
    for r in mot.sample(40, random_state=0).itertuples():
        assert str(fa[r.chrom][r.start : r.end]) == r.sequence
    seq = str(fa["chr1"][:])
    assert seq.startswith("N" * 1000)  # telomere-like gap
    lower = sum(c.islower() for c in seq) / len(seq)
    assert 0.05 < lower < 0.5
    # elements are upper case (repeats were cleared there)
    el = _elements(sim).head(5)
    for r in el.itertuples():
        assert str(fa[r.chrom][r.start : r.end]).isupper()


def test_hic_and_cool_agree_and_decay(sim):
    import cooler
    import hicstraw

    c = cooler.Cooler(str(sim.outdir / "contacts.cool"))
    assert c.binsize == 5000
    mc = c.matrix(balance=False).fetch("chr2:100000-300000")
    hic = hicstraw.HiCFile(str(sim.outdir / "contacts.hic"))
    assert 5000 in hic.getResolutions()
    zd = hic.getMatrixZoomData("chr2", "chr2", "observed", "NONE", "BP", 5000)
    mh = zd.getRecordsAsMatrix(100000, 295000, 100000, 295000)
    np.testing.assert_array_equal(mh, mc)
    assert mc[3, 5] == mh[3, 5] and mc.sum() > 0
    # decay with distance: mean count per diagonal falls
    px = sim.data.pixels
    d = (px.start2 - px.start1) // 5000
    mean = px.groupby(d)["count"].sum() / px.groupby(d).size()
    diag = [float(px["count"][d == k].sum()) for k in (0, 2, 10, 40)]
    assert diag[0] > diag[1] > diag[2] > diag[3]
    assert mean.index.min() == 0


def test_crispri_effects(sim):
    cr = pd.read_csv(sim.outdir / "truth_crispri.tsv", sep="\t")
    for col in (
        "chrom",
        "chromStart",
        "chromEnd",
        "name",
        "EffectSize",
        "chrTSS",
        "startTSS",
        "endTSS",
        "measuredGeneSymbol",
        "measuredGeneEnsemblId",
        "Significant",
        "pValueAdjusted",
        "Regulated",
    ):
        assert col in cr.columns
    el = _elements(sim)
    genes = pd.read_csv(sim.outdir / "genes.tsv", sep="\t").set_index("gene_id")
    reach = sim.data.cfg.reach
    pairs = cr.set_index(["elementId", "measuredGeneEnsemblId"]).EffectSize
    enh = el[el.name == "enhancer"]
    n = 0
    for r in enh.itertuples():
        tss = genes.tss[r.gene_id]
        if abs((r.start + r.end) // 2 - tss) <= reach:
            assert pairs[(r.element_id, r.gene_id)] < 0  # silencing reduces expression
            n += 1
    assert n == len(enh)
    assert (cr.EffectSize[cr.elementKind.isin(["decoy", "ctcf"])] == 0).all()
    assert cr.Regulated.sum() > 0 and not cr.Regulated[cr.elementKind == "decoy"].any()


def test_expression_truth_and_heldout(sim):
    truth = json.loads((sim.outdir / "truth.json").read_text())
    nc = truth["noise_ceiling"]
    assert 0 < nc["pearson_log10_all"] < 1 and 0 < nc["pearson_log10_test"] < 1
    assert truth["seed"] == 7 and truth["config"]["reach"] == 100_000
    cage = pd.read_csv(sim.outdir / "cage.tsv", sep="\t")
    genes = pd.read_csv(sim.outdir / "genes.tsv", sep="\t")
    missing = set(genes.gene_id) - set(cage.gene_id)
    assert 1 <= len(missing) <= max(2, 0.1 * len(genes))
    assert list(cage.columns[:2]) == ["gene_id", "value"] and len(cage.columns) == 11
    assert (cage.value >= 0).all() and cage.value.max() > 100
    # TSSs near a chromosome end exist on purpose (padding), the others keep >= 5 kb
    sizes = sim.data.cfg.chrom_sizes
    end_dist = np.minimum(genes.tss, genes.chrom.map(sizes) - genes.tss)
    assert (end_dist < 5000).sum() == sim.data.cfg.near_end_genes


def test_decoys_lack_activating_motifs_but_look_open(sim):
    d = sim.data
    el = d.elements
    acts = [m for m in load_motifs() if m.role == "activator"]
    for r in el[el.kind == "decoy"].head(15).itertuples():
        seq = d.codes[r.chrom][r.start : r.end]
        for m in acts:
            assert best_score(seq, m) < DECOY_MAX_SCORE * max_score(m)
    enh, dec = el[el.kind == "enhancer"], el[el.kind == "decoy"]
    # DNase does not separate them much; H3K27ac is informative
    assert abs(np.log(enh.dnase.median() / dec.dnase.median())) < 0.5
    assert enh.h3k27ac.median() > 1.3 * dec.h3k27ac.median()
    assert (enh.activity > 0).all() and (dec.activity == 0).all()


def test_determinism_by_seed():
    cfg = make_config("ci", chrom_sizes={"chr1": 300_000, "chr3": 250_000, "chr22": 250_000})
    a, b, c = generate(cfg, 3), generate(cfg, 3), generate(cfg, 4)
    for chrom in cfg.chrom_sizes:
        np.testing.assert_array_equal(a.codes[chrom], b.codes[chrom])
        np.testing.assert_array_equal(a.masked[chrom], b.masked[chrom])
        np.testing.assert_array_equal(a.dnase.bins[chrom], b.dnase.bins[chrom])
    pd.testing.assert_frame_equal(a.pixels, b.pixels)
    pd.testing.assert_frame_equal(a.crispri, b.crispri)
    pd.testing.assert_frame_equal(a.genes, b.genes)
    assert not np.array_equal(a.codes["chr1"], c.codes["chr1"])


def test_markov_background_composition():
    seq = markov_sequence(200_000, rng_for(0, "t"), load_markov())
    frac = np.bincount(seq, minlength=4) / len(seq)
    assert 0.36 < frac[1] + frac[2] < 0.56  # human-like GC
    cg = np.mean((seq[:-1] == 1) & (seq[1:] == 2))
    assert cg < 0.5 * frac[1] * frac[2]  # CpG depletion learnt from real sequence


def test_refuses_overwrite_and_cli(tmp_path):
    import typer
    from typer.testing import CliRunner

    from seq2exp_cli.cli import simulate as cli_simulate

    out = tmp_path / "x"
    out.mkdir()
    (out / "keep").write_text("x")
    with pytest.raises(Seq2ExpError):
        simulate(out, preset="ci", chrom_sizes={"chr1": 200_000, "chr22": 200_000})
    app = typer.Typer()
    app.command()(cli_simulate.main)
    res = CliRunner().invoke(app, [str(out), "--seed", "1", "--force"])
    assert res.exit_code == 0, res.output
    assert not (out / "keep").exists() and (out / "truth.json").exists()


def test_same_seed_same_bytes(tmp_path):
    """Files are byte-identical for one seed; only the .cool's creation-date attribute
    (a timestamp) may differ."""
    kw = dict(preset="ci", seed=5, chrom_sizes={"chr1": 250_000, "chr22": 250_000})
    a = simulate(tmp_path / "a" / "x", command="c", **kw)
    b = simulate(tmp_path / "b" / "x", command="c", **kw)
    for fa, fb in zip(a.files, b.files):
        if fa.name != "contacts.cool":
            assert fa.read_bytes() == fb.read_bytes(), fa.name


def test_large_preset_has_hg38_proportions_and_enough_genes():
    from seq2exp_cli.simulate.config import HG38_SIZES, TEST_CHROMS, VALID_CHROMS

    cfg = make_config("large")
    assert list(cfg.chrom_sizes) == list(HG38_SIZES)
    for c, n in cfg.chrom_sizes.items():
        assert abs(n - 0.22 * HG38_SIZES[c]) <= 500
    # the genes the layout places (no sequence needed): >= 4,000 train, >= 400 test with
    # targets once the 5 % held out of cage.tsv are removed
    from seq2exp_cli.simulate.layout import place_gaps, place_genes

    rl = rng_for(1, "layout")
    genes = place_genes(cfg, place_gaps(cfg, rl), rl)
    keep = 1 - cfg.heldout_fraction
    test = genes.chrom.isin(TEST_CHROMS).sum() * keep
    train = (~genes.chrom.isin(TEST_CHROMS + VALID_CHROMS)).sum() * keep
    assert train >= 4_000 and test >= 400, (train, test)


def test_track_units_rpm_counts_and_scale(tmp_path):
    import pyBigWig

    from seq2exp_cli.simulate.signals import BinnedTrack, in_units

    trk = BinnedTrack({"c": 1_000}, 20)
    trk.bins["c"][:] = np.linspace(0, 4, 50, dtype=np.float32)
    rng = np.random.default_rng(0)
    rpm = in_units(trk, "rpm", 1.0, rng, read_length=50)
    # reads of 50 bp covering sum(v) bp in all: per-bp coverage in reads per million
    np.testing.assert_allclose(rpm.bins["c"], trk.bins["c"] * 1e6 * 50 / trk.total(), rtol=1e-4)
    cnt = in_units(trk, "counts", 1.0, rng, read_depth=8.0)
    assert np.all(cnt.bins["c"] == np.round(cnt.bins["c"]))  # integers
    assert abs(cnt.total() / (8.0 * trk.total()) - 1) < 0.05  # Poisson around the depth
    ten = in_units(trk, "signal", 10.0, rng)
    np.testing.assert_allclose(ten.bins["c"], 10 * trk.bins["c"], rtol=1e-5)
    # end to end: --track-scale 10 writes 10x the bigWig values of the same seed
    a = simulate(tmp_path / "a", preset="ci", seed=3)
    b = simulate(tmp_path / "b", preset="ci", seed=3, track_scale=10.0)
    for name in ("dnase", "h3k27ac"):
        x = pyBigWig.open(str(a.outdir / f"{name}.bw"))
        y = pyBigWig.open(str(b.outdir / f"{name}.bw"))
        c, n = next(iter(x.chroms().items()))
        vx = np.nan_to_num(np.array(x.values(c, 0, n)))
        vy = np.nan_to_num(np.array(y.values(c, 0, n)))
        np.testing.assert_allclose(vy, 10 * vx, rtol=1e-4, atol=1e-3)
    assert "times 10" in (b.outdir / "README.md").read_text()
    with pytest.raises(Seq2ExpError, match="track_units"):
        make_config("ci", track_units="fold")
