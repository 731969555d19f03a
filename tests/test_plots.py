"""Figures: the locus plot's units, legend, gene models and blacklist (y scales that ignore
a blacklisted artefact), figure formats by extension, gene models read from a hand-written
GTF, and plot-locus on the bundled example (the PNG of docs/img/ is made the same way).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.colors import COLORS, color_of
from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.io.gene_models import read_gene_models
from seq2exp_cli.plot import plot_locus, plot_pr_curves, plot_pred_vs_measured

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"

#   bp 0 .. 10,000 of chrZ; DNase peaks of 5 at 2,000 and 7,000; an artefact of 100 over
#   the blacklisted 4,000-5,000; gene A (+, exons 1,000-1,500 and 3,000-3,500), B (-)
GTF = """\
chrZ\tt\tgene\t1001\t3500\t.\t+\t.\tgene_id "gA"; gene_name "A";
chrZ\tt\ttranscript\t1001\t3500\t.\t+\t.\tgene_id "gA"; transcript_id "tA1"; gene_name "A";
chrZ\tt\texon\t1001\t1500\t.\t+\t.\tgene_id "gA"; transcript_id "tA1";
chrZ\tt\texon\t3001\t3500\t.\t+\t.\tgene_id "gA"; transcript_id "tA1";
chrZ\tt\ttranscript\t1001\t9000\t.\t+\t.\tgene_id "gA"; transcript_id "tA2"; tag "Ensembl_canonical";
chrZ\tt\texon\t1001\t1200\t.\t+\t.\tgene_id "gA"; transcript_id "tA2";
chrZ\tt\texon\t8001\t9000\t.\t+\t.\tgene_id "gA"; transcript_id "tA2";
chrZ\tt\tgene\t6001\t8000\t.\t-\t.\tgene_id "gB"; gene_name "B";
chrZ\tt\texon\t6001\t8000\t.\t-\t.\tgene_id "gB"; transcript_id "tB1";
chrQ\tt\tgene\t1\t100\t.\t+\t.\tgene_id "gQ"; gene_name "Q";
"""


def test_gene_models_from_gtf(tmp_path):
    (tmp_path / "g.gtf").write_text(GTF)
    m = read_gene_models(tmp_path / "g.gtf", "chrZ", 0, 10_000).set_index("gene_id")
    assert list(m.index) == ["gA", "gB"]
    assert m.at["gA", "exons"] == [(1000, 1200), (8000, 9000)]  # the canonical transcript
    assert (m.at["gA", "start"], m.at["gA", "end"], m.at["gA", "name"]) == (1000, 9000, "A")
    assert m.at["gB", "strand"] == "-" and m.at["gB", "exons"] == [(6000, 8000)]
    assert read_gene_models(tmp_path / "g.gtf", "chrZ", 9500, 9600).empty


def _locus(tmp_path, name):
    L = 10_000
    dnase = np.zeros(L)
    dnase[1950:2050] = 5
    dnase[6950:7050] = 5
    dnase[4000:5000] = 100
    (tmp_path / "g.gtf").write_text(GTF)
    genes = read_gene_models(tmp_path / "g.gtf", "chrZ", 0, L)
    truth = pd.DataFrame({"chrom": "chrZ", "start": [1900, 6900, 3000], "end": [2100, 7100, 3200],
                          "name": ["enhancer", "decoy", "promoter"]})
    bl = pd.DataFrame({"chrom": ["chrZ"], "start": [4000], "end": [5000]})
    mask = np.full(L, 0.1)
    mask[1950:2050] = 0.9
    elements = pd.DataFrame({"chrom": ["chrZ"], "start": [1950], "end": [2050]})
    return plot_locus(tmp_path / name, "chrZ", 0, 1000, "A", {"dnase": dnase}, mask, elements,
                      truth=truth, blacklist=bl, genes=genes, strand="+", gene_id="gA",
                      cutoff=0.5)


def test_locus_units_legend_genes_and_blacklist(tmp_path):
    fig = _locus(tmp_path, "l.png")
    axes = fig.axes
    assert "DNase" in axes[0].get_ylabel() and "(bigWig value)" in axes[0].get_ylabel()
    assert "0–1" in axes[1].get_ylabel()
    top = axes[0].get_ylim()[1]
    assert 5 <= top <= 6, top  # the blacklisted 100 is left out of the scale
    assert axes[-1].get_xlabel() == "position on chrZ (kb)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    for want in ("truth: enhancer", "truth: decoy", "truth: promoter", "seq2exp elements"):
        assert want in legend, legend
    assert any(t.startswith("blacklisted") for t in legend)
    # the truth boxes carry their kind's colour
    from matplotlib.colors import to_hex

    lane = axes[2]
    colours = {to_hex(p.get_facecolor()) for p in lane.patches}
    assert {COLORS["enhancer"].lower(), COLORS["decoy"].lower()} <= colours
    texts = [t.get_text() for t in axes[3].texts]
    assert "A (+)" in texts and "B (−)" in texts
    assert (tmp_path / "l.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_formats_by_extension(tmp_path):
    _locus(tmp_path, "l.svg")
    _locus(tmp_path, "l.pdf")
    assert b"<svg" in (tmp_path / "l.svg").read_bytes()[:400]
    assert (tmp_path / "l.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(Seq2ExpError, match=r"\.png, \.svg or \.pdf"):
        _locus(tmp_path, "l.jpg")
    assert not (tmp_path / "l.jpg").exists()


def test_stable_colours_across_figures(tmp_path):
    from matplotlib.colors import to_hex

    curves = {"DNase": (np.array([1.0, 0.5]), np.array([0.5, 1.0])),
              "seq2exp": (np.array([1.0, 0.4]), np.array([0.4, 1.0]))}
    fig = plot_pr_curves(curves, tmp_path / "pr.png", baseline=0.1)
    got = {ln.get_label().split(" (")[0]: to_hex(ln.get_color()) for ln in fig.axes[0].lines}
    assert got["DNase"] == COLORS["dnase"].lower() == color_of("DNase").lower()
    assert got["seq2exp"] == COLORS["mask"].lower()
    df = pd.DataFrame({"prediction": [1.0, 2.0, 1.5, 0.5], "target": [1.1, 1.9, 1.2, 0.4],
                       "split": ["train", "val", "test", "test"]})
    fig = plot_pred_vs_measured(df, tmp_path / "s.png")
    ax = fig.axes[0]
    assert "log10(1 + CAGE)" in ax.get_xlabel() and "log10(1 + CAGE)" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [lb.split(":")[0] for lb in labels[:3]] == ["train", "val", "test"]
    assert labels[2].startswith("test: n=2, ")


def test_plot_locus_command_on_the_example(tmp_path, seq2exp):
    out = tmp_path / "sim1.png"
    r = seq2exp("plot-locus", "SIM1", "-o", out, "--truth", "truth_elements.bed",
                "--annotation", "genes.gtf", "--width", "120000", cwd=EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert f"seq2exp: wrote {out} (SIM1, chr1:0-112,203)" in r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = seq2exp("plot-locus", "SIM1", "-o", tmp_path / "x.png", "--region", "chr2:1-10",
                cwd=EXAMPLE)
    assert r.returncode == 2 and "lies on chr1" in r.stderr
