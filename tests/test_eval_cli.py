"""``seq2exp evaluate`` and ``seq2exp compare-peaks`` end to end.

compare-peaks runs on a small ``ci`` simulation (chr1 + chr22, 300 kb each) with
hand-made inputs whose answers are known: peaks = the planted enhancers themselves
(precision = recall = AUPRC = 1, no decoy hit) and learned elements = every other
enhancer (precision 1, recall about 1/2).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.inference.elements import BED_HEADER, ELEMENT_COLUMNS
from seq2exp_cli.errors import MissingDependencyError
from seq2exp_cli.evaluation import evaluate_predictions
from seq2exp_cli.evaluation.peaks import find_macs3
from seq2exp_cli.io.bed import read_interval_table
from seq2exp_cli.io.bigwig import write_bigwig



# --------------------------------------------------------------------------- evaluate
PRED = pd.DataFrame({
    "gene_id": ["a", "b", "c", "d", "e"], "prediction": [1.0, 2.0, 3.0, 0.0, 5.0],
    "target": [1.0, 2.0, 4.0, 1.0, np.nan], "split": ["test", "test", "test", "train", "train"],
})


def test_evaluate_hand_case(tmp_path, cli):
    path = tmp_path / "pred.tsv"
    PRED.to_csv(path, sep="\t", index=False)
    r = cli("evaluate", path, "-o", tmp_path / "ev", "--plot", tmp_path / "ev.png", check=True)
    assert "| split | n | mse |" in r.stdout
    t = pd.read_csv(tmp_path / "ev.tsv", sep="\t").set_index("split")
    assert t.index.tolist() == ["train", "test", "all"]
    # test: errors 0, 0, -1 -> MSE 1/3, MAE 1/3; targets 1, 2, 4 (mean 7/3, SS 14/3)
    assert t.loc["test", "n"] == 3
    assert t.loc["test", "mse"] == pytest.approx(1 / 3)
    assert t.loc["test", "mae"] == pytest.approx(1 / 3)
    assert t.loc["test", "r2"] == pytest.approx(1 - 1 / (14 / 3))
    assert t.loc["test", "spearman"] == pytest.approx(1.0)
    assert t.loc["train", "n"] == 1                      # gene e has no target
    assert t.loc["all", "mse"] == pytest.approx(2 / 4)  # errors 0, 0, -1, -1
    assert (tmp_path / "ev.md").read_text().startswith("| split |")
    assert (tmp_path / "ev.png").stat().st_size > 1000
    r = cli("evaluate", path, "--tsv", check=True)
    assert r.stdout.splitlines()[0].split("\t") == ["split", "n", "mse", "mae", "pearson",
                                                    "spearman", "r2"]


def test_evaluate_split_and_target_from_genes():
    genes = pd.DataFrame({"gene_id": ["a", "b", "c", "d"], "split": ["val", "val", "test", "test"],
                          "target": [0.0, 1.0, 2.0, 9.0], "has_target": [True, True, True, False]})
    pred = pd.DataFrame({"gene_id": ["a", "b", "c", "d"], "prediction": [0.0, 3.0, 2.0, 0.0]})
    t = evaluate_predictions(pred, genes).set_index("split")
    assert t.index.tolist() == ["val", "test", "all"]
    assert t.loc["val", "mse"] == pytest.approx(2.0)    # errors 0, 2
    assert t.loc["test", "n"] == 1                      # d has no target
    assert t.loc["all", "mae"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- compare-peaks
@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from seq2exp_cli.simulate import simulate

    d = tmp_path_factory.mktemp("sim") / "sim"
    simulate(d, preset="ci", seed=3, chrom_sizes={"chr1": 300_000, "chr22": 300_000})
    truth = read_interval_table(d / "truth_elements.bed")
    enh = truth[truth["name"] == "enhancer"].reset_index(drop=True)
    # peaks = the enhancers (BED5, score = 10)
    enh.assign(name="p", score=10)[["chrom", "start", "end", "name", "score"]].to_csv(
        d / "peaks.bed", sep="\t", header=False, index=False)
    # learned elements = every other enhancer, mean_mask 0.7, owned by its gene
    half = enh.iloc[::2]
    el = pd.DataFrame({"chrom": half["chrom"], "start": half["start"], "end": half["end"],
                       "name": "x", "score": 700, "strand": ".", "mean_mask": 0.7,
                       "max_mask": 0.7, "gene_id": half["gene_id"], "tss_distance": 0})
    with open(d / "elements.bed", "w") as fh:
        fh.write(BED_HEADER + "\n")
        el[ELEMENT_COLUMNS].to_csv(fh, sep="\t", header=False, index=False)
    sizes = dict(pd.read_csv(d / "chrom.sizes", sep="\t", header=None).values)
    tracks = {}
    for c, n in sizes.items():
        v = np.zeros(n, np.float32)
        for s, e in el.loc[el["chrom"] == c, ["start", "end"]].itertuples(index=False):
            v[s:e] = 0.7
        tracks[c] = v
    write_bigwig(d / "mask.bw", sizes, tracks)
    return d


def _report(prefix) -> dict:
    t = pd.read_csv(f"{prefix}.tsv", sep="\t")
    assert t.columns.tolist()[:4] == ["method", "metric", "value", "scope"]
    return {(m, k, s): v for m, k, v, s in t[["method", "metric", "value", "scope"]]
            .itertuples(index=False)}


def test_compare_peaks_known_answers(sim, tmp_path, cli):
    d = sim
    r = cli("compare-peaks", "--elements", d / "elements.bed", "--truth",
              d / "truth_elements.bed", "--peaks", d / "peaks.bed", "--genes", d / "genes.tsv",
              "--chrom-sizes", d / "chrom.sizes", "--split", "all", "--crispri",
              d / "truth_crispri.tsv", "--dnase", d / "dnase.bw", "-o", tmp_path / "cmp",
              "--plot-dir", tmp_path / "plots", check=True)
    assert "## Against planted enhancers" in r.stdout and "| seq2exp |" in r.stdout
    got = _report(tmp_path / "cmp")
    for k in ("bp_precision", "bp_recall", "interval_precision", "interval_recall", "bp_auprc"):
        assert got[("peaks", k, "overall")] == pytest.approx(1.0), k
    assert got[("peaks", "decoy_fpr", "overall")] == 0.0
    assert got[("seq2exp", "bp_precision", "overall")] == pytest.approx(1.0)
    assert 0.3 < got[("seq2exp", "bp_recall", "overall")] < 0.7
    # one score level with precision 1: AP = 1 * R + prevalence * (1 - R)
    rec, prev = got[("seq2exp", "bp_recall", "overall")], got[("random", "bp_auprc", "overall")]
    assert got[("seq2exp", "bp_auprc", "overall")] == pytest.approx(rec + prev * (1 - rec))
    ubp = got[("universe", "covered_bp", "overall")]
    assert got[("seq2exp", "coverage", "overall")] == pytest.approx(
        got[("seq2exp", "covered_bp", "overall")] / ubp)
    assert got[("seq2exp vs peaks", "bp_frac_elements_in_peaks", "overall")] == 1.0
    assert 0 < got[("DNase", "bp_auprc", "overall")] <= 1
    for m in ("seq2exp", "ABC", "ABC-tracks", "distance", "random"):
        assert 0 <= got[(m, "auprc", "all")] <= 1
    genes = pd.read_csv(d / "genes.tsv", sep="\t")
    assert all((("seq2exp", "coverage", g) in got) for g in genes["gene_id"])
    assert (tmp_path / "cmp.md").read_text() == r.stdout
    assert (tmp_path / "plots" / "pr_bp.png").exists()
    assert (tmp_path / "plots" / "pr_links.png").exists()


def test_mask_bigwig_equals_elements(sim, tmp_path, cli):
    d = sim
    common = ["--truth", d / "truth_elements.bed", "--peaks", d / "peaks.bed", "--genes",
              d / "genes.tsv", "--chrom-sizes", d / "chrom.sizes", "--split", "test"]
    cli("compare-peaks", "--elements", d / "elements.bed", *common, "-o", tmp_path / "a", check=True)
    cli("compare-peaks", "--mask", d / "mask.bw", *common, "-o", tmp_path / "b", check=True)
    a, b = _report(tmp_path / "a"), _report(tmp_path / "b")
    for k in ("bp_precision", "bp_recall", "bp_f1", "bp_auprc", "decoy_fpr"):
        assert a[("seq2exp", k, "overall")] == pytest.approx(b[("seq2exp", k, "overall")]), k
    assert a[("seq2exp", "coverage", "overall")] == b[("seq2exp", "coverage", "overall")]


def test_compare_peaks_calls_macs3(sim, tmp_path, cli):
    d = sim
    r = cli("compare-peaks", "--elements", d / "elements.bed", "--truth",
              d / "truth_elements.bed", "--call-peaks", "--dnase", d / "dnase.bw",
              "--genes", d / "genes.tsv", "--split", "all", "-o", tmp_path / "m", check=True)
    assert "macs3 bdgpeakcall -i" in r.stderr and " -l 150 -g 50" in r.stderr
    got = _report(tmp_path / "m")
    assert got[("MACS3", "n_intervals", "overall")] > 0
    assert 0 < got[("MACS3", "coverage", "overall")] < 0.5
    assert got[("MACS3", "bp_recall", "overall")] > 0.5  # planted enhancers are DNase peaks
    peaks = pd.read_csv(tmp_path / "m.macs3.narrowPeak", sep="\t", header=None)
    assert peaks.shape[1] == 10


def test_missing_macs3_names_the_install(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingDependencyError, match="pip install macs3"):
        find_macs3()


def test_compare_peaks_input_errors(sim, cli):
    d = sim
    r = cli("compare-peaks", "--peaks", str(d / "peaks.bed"),
                                 "--call-peaks", "--genes", str(d / "genes.tsv"))
    assert r.exit_code != 0 and "not both" in str(r.exception)
    r = cli("compare-peaks", "--peaks", str(d / "peaks.bed"),
                                 "--genes", str(d / "genes.tsv"), "--split", "nope")
    assert "no genes in split 'nope'" in str(r.exception)


def test_report_layouts_and_later_sections(tmp_path):
    from seq2exp_cli.evaluation import Report

    rep = Report("t")
    rep.section("per gene", layout="gene")
    rep.add("per gene", "seq2exp", "coverage", 0.5, "g1")
    rep.add("coverage", "seq2exp", "covered_bp", 1234.0)
    rep.section("links", layout="scope")
    rep.add("links", "ABC", "auprc", 0.25, "all")
    rep.add("links", "ABC", "auprc", float("nan"), "0-25kb")
    rep.add("matched sparsity", "seq2exp-retrain", "pearson", 0.87)  # a section added later
    md = rep.to_markdown()
    assert md.index("## coverage") < md.index("## links") < md.index("## matched sparsity") \
        < md.index("## per gene")
    assert "| seq2exp | 1,234 |" in md
    assert "| ABC | 0.25 | - |" in md
    assert "| g1 | 0.5 |" in md
    tsv, _ = rep.write(tmp_path / "r")
    t = pd.read_csv(tsv, sep="\t")
    assert t.columns.tolist() == ["method", "metric", "value", "scope", "section"]
    assert len(t) == 5 and t["scope"].tolist()[:2] == ["g1", "overall"]


def test_abc_activity_runs_is_the_500bp_geometric_mean_around_each_bp():
    from seq2exp_cli.evaluation.peaks import abc_activity_runs

    rng = np.random.default_rng(3)

    class Arr:  # a track: per-bp values, 0 outside
        def __init__(self, v):
            self.v = v

        def fetch(self, chrom, lo, hi):
            out = np.zeros(hi - lo, dtype=np.float32)
            a, b = max(lo, 0), min(hi, self.v.size)
            out[a - lo:b - lo] = self.v[a:b]
            return out

    n = 3_000
    dn = np.where(rng.random(n) < 0.3, rng.gamma(1, 2, n), 0).astype(np.float32)
    ac = np.where(rng.random(n) < 0.5, rng.gamma(1, 2, n), 0).astype(np.float32)
    regions = {"c": np.array([[600, 1_700], [2_000, 2_400]])}
    runs = abc_activity_runs(Arr(dn), Arr(ac), regions, half=250, step=10, chunk=400)
    s, e, v = runs["c"]
    for a, b, val in zip(s, e, v):
        x = a + 5  # the bp the 10-bp step is evaluated at
        lo, hi = x - 250, x + 250
        want = np.sqrt(dn[max(lo, 0):hi].sum() / 500 * (ac[max(lo, 0):hi].sum() / 500))
        assert val == pytest.approx(want, rel=1e-6)
        assert b - a == 10 and regions["c"][:, 0].min() <= a


def test_compare_peaks_scores_call_links_against_crispri(sim, tmp_path, cli):
    # links that name exactly the regulated pairs (Score 1) rank them perfectly: AUPRC 1
    d = sim
    cr = pd.read_csv(d / "truth_crispri.tsv", sep="\t")
    reg = cr[cr["Regulated"].astype(bool)]
    links = pd.DataFrame({"chr": reg["chrom"], "start": reg["chromStart"],
                          "end": reg["chromEnd"], "TargetGeneEnsembl_ID":
                          reg["measuredGeneEnsemblId"], "Score": 1.0})
    links.to_csv(tmp_path / "links.tsv", sep="\t", index=False)
    cli("compare-peaks", "--elements", d / "elements.bed", "--genes", d / "genes.tsv",
        "--chrom-sizes", d / "chrom.sizes", "--split", "all", "--crispri",
        d / "truth_crispri.tsv", "--dnase", d / "dnase.bw", "--links", tmp_path / "links.tsv",
        "-o", tmp_path / "cmp", check=True)
    got = _report(tmp_path / "cmp")
    assert got[("seq2exp links", "auprc", "all")] == pytest.approx(1.0)
    (tmp_path / "bad.tsv").write_text("a\tb\n1\t2\n")
    r = cli("compare-peaks", "--elements", d / "elements.bed", "--genes", d / "genes.tsv",
            "--split", "all", "--crispri", d / "truth_crispri.tsv", "--links",
            tmp_path / "bad.tsv")
    assert r.exit_code != 0 and "call-links" in str(r.exception)
