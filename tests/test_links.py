"""call-links and scale-free inputs, through the CLI on a tiny model with the additive readout.

Independent truth: each link's Score is recomputed here from the model's per-token shares
(summed over the element's tokens by a loop), and the x10 bigWigs are written here with
pyBigWig from the originals.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyBigWig
import pytest
import torch
from typer.testing import CliRunner

from seq2exp_cli.cli import app
from seq2exp_cli.io.links import LINK_COLUMNS
from seq2exp_cli.models.checkpoint import load_model
from seq2exp_cli.models.presets import preset
from seq2exp_cli.store import Store
from seq2exp_cli.training.loop import train

from _fixtures import RES, TINY_GATE, tiny_gate_run

TINY = TINY_GATE  # the cpu preset's own mask (the gate form with the additive readout)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return tiny_gate_run(tmp_path_factory)


def _run(args):
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, (r.output, r.exception)
    return r.stdout


def test_call_links_scores_are_the_elements_share_of_the_drive(setup, tmp_path):
    d, store, run, _ = setup
    out = _run(["call-links", "--store", str(store), "--model", str(run), "--device", "cpu",
                "--cutoff", "0.1", "--bedpe", str(tmp_path / "links.bedpe")])
    links = pd.read_csv(io.StringIO(out), sep="\t")
    assert list(links.columns) == LINK_COLUMNS
    assert len(links) > 0
    st = Store(store)
    net, cfg, _ = load_model(run / "best", device="cpu")
    for gid, sub in links.groupby("TargetGeneEnsembl_ID"):
        i = st.gene_index(gid)
        w = st.window(i, cfg.window_bp)
        b = st.batch([i], cfg.window_bp)
        m, share = net.token_shares(torch.from_numpy(b["seq"]).long(),
                                    torch.from_numpy(b["signals"]).float(),
                                    torch.from_numpy(b["blacklist"]))
        share = w.to_genome(np.repeat(share[0].numpy(), cfg.bin_size)) / cfg.bin_size
        tss = int(st.genes.iloc[i]["tss"])
        for r in sub.itertuples(index=False):
            # the element's share: a loop over its bases
            total = sum(float(share[x - w.start]) for x in range(r.start, r.end))
            assert r.Score == pytest.approx(total, rel=1e-3, abs=1e-6)
            assert not (r.start < tss + cfg.promoter_bp // 2 and r.end > tss - cfg.promoter_bp // 2)
            assert r.TargetGeneTSS == tss and r.distance == (r.start + r.end) // 2 - tss
    bedpe = pd.read_csv(tmp_path / "links.bedpe", sep="\t", header=None)
    assert len(bedpe) == len(links)
    np.testing.assert_array_equal(bedpe[4].to_numpy(), links["TargetGeneTSS"].to_numpy())
    assert (bedpe[5] - bedpe[4] == 1).all()


def test_call_links_needs_the_additive_readout(setup, tmp_path):
    d, store, _, _ = setup
    m, t = preset("cpu", **{**TINY, "readout": "promoter", "beta_product": "paper",
                            "sparsity": "beta_kl"})
    run = train(store, tmp_path / "run", m, t, device="cpu", show_progress=False)
    r = CliRunner().invoke(app, ["call-links", "--store", str(store), "--model", str(run)])
    assert r.exit_code != 0 and "no additive readout" in str(r.exception)


def _times_ten(src, dst, tracks_for_name):
    bw = pyBigWig.open(str(dst), "w")
    bw.addHeader([(c, len(v)) for c, v in tracks_for_name.items()])
    for c, v in tracks_for_name.items():
        bw.addEntries(c, 0, values=(10.0 * v.astype(np.float64)).tolist(), span=1, step=1)
    bw.close()


def test_bigwigs_times_ten_change_no_prediction_and_no_mask_value(setup, tmp_path):
    d, _, run, tracks = setup
    for name in ("h3k27ac", "dnase"):
        _times_ten(d / f"{name}.bw", tmp_path / f"{name}.bw", tracks[name])
    outs = []
    for folder in (d, tmp_path):
        files = ["--fasta", str(d / "genome.fa"), "--genes", str(d / "genes.tsv"),
                 "--h3k27ac", str(folder / "h3k27ac.bw"), "--dnase", str(folder / "dnase.bw"),
                 "--blacklist", str(d / "blacklist.bed"), "--resolution", str(RES),
                 "--model", str(run), "--device", "cpu"]
        pred = pd.read_csv(io.StringIO(_run(["predict", *files])), sep="\t")
        mask_bw = folder / "mask.bw" if folder == tmp_path else tmp_path / "mask_orig.bw"
        _run(["call-elements", *files, "--bigwig", str(mask_bw)])
        bw = pyBigWig.open(str(mask_bw))
        mask = {c: np.nan_to_num(np.array(bw.values(c, 0, n))) for c, n in bw.chroms().items()}
        outs.append((pred, mask))
    (p0, m0), (p1, m1) = outs
    assert np.abs(p0["prediction"].to_numpy() - p1["prediction"].to_numpy()).max() <= 1e-4
    assert m0.keys() == m1.keys()
    for c in m0:
        assert np.abs(m0[c] - m1[c]).max() <= 1e-4
