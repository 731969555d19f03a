"""The calibrated element cutoff and candidate links, on a tiny gate-form model.

Independent truth: region maxima by a plain loop over tokens, the calibrated cutoff as
``np.quantile`` of those, computed here from the model's own mask and gate window by
window; candidate link Scores as sums of the model's per-bp shares over each candidate's
bases, by a loop.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from seq2exp_cli.cli import app
from seq2exp_cli.inference.calibrate import calibrate_cutoff, region_maxima
from seq2exp_cli.inference.elements import cutoff_note, default_cutoff
from seq2exp_cli.models.beta_mask import promoter_token_span
from seq2exp_cli.models.checkpoint import load_model, sha256_file, update_meta
from seq2exp_cli.models.presets import preset
from seq2exp_cli.models.seq2exp import Seq2Exp
from seq2exp_cli.store import Store
from seq2exp_cli.training.loop import calibrate_best

from _fixtures import TINY_GATE, tiny_gate_run

TINY = TINY_GATE


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return tiny_gate_run(tmp_path_factory)[:3]


def _call_links(store, run, *extra):
    """``seq2exp call-links`` on the store; its links as a DataFrame."""
    r = CliRunner().invoke(app, ["call-links", "--store", str(store), "--model", str(run),
                                 "--device", "cpu", *extra])
    assert r.exit_code == 0, (r.output, r.exception)
    return pd.read_csv(io.StringIO(r.stdout), sep="\t")


def _loop_region_maxima(mask, gate, open_gate, skip):
    out, cur = [], None
    for m, g, s in zip(mask, gate, skip):
        if g >= open_gate and not s:
            cur = m if cur is None else max(cur, m)
        elif cur is not None:
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out


def test_region_maxima_match_a_loop():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 60))
        mask, gate = rng.random(n), rng.random(n)
        skip = rng.random(n) < 0.1
        got = region_maxima(mask, gate, 0.4, skip)
        np.testing.assert_allclose(got, _loop_region_maxima(mask, gate, 0.4, skip))
    assert len(region_maxima(np.ones(5), np.zeros(5))) == 0


def test_calibrated_cutoff_is_the_quantile_of_the_models_own_regions(setup):
    _, store, run = setup
    st = Store(store)
    model = load_model(run / "best", device="cpu")
    idx = np.arange(len(st))
    got = calibrate_cutoff(st, model, idx, quantile=0.6, open_gate=0.3, progress=False)
    net, cfg, _ = model
    t0, t1 = promoter_token_span(cfg.window_bp, cfg.bin_size, cfg.promoter_bp)
    scores = []
    for i in idx:
        b = st.batch([int(i)], cfg.window_bp)
        mean, g = net.mask_and_gate(torch.from_numpy(b["seq"]).long(),
                                    torch.from_numpy(b["signals"]).float(),
                                    torch.from_numpy(b["blacklist"]))
        mean, g = mean[0].numpy(), g[0].numpy()
        skip = np.zeros(len(mean), dtype=bool)
        skip[t0:t1] = True
        skip |= mean <= 0
        scores += _loop_region_maxima(mean, g, 0.3, skip)
    assert got["element_cutoff_rule"]["n_regions"] == len(scores) > 0
    assert got["element_cutoff"] == pytest.approx(np.quantile(scores, 0.6), abs=1e-6)
    # the paper's mask has no gate: no calibrated cutoff
    m, _ = preset("cpu-paper", **TINY)
    assert calibrate_cutoff(st, (Seq2Exp(m), m, {}), idx, progress=False) is None


def test_recorded_cutoff_is_what_call_elements_uses(setup, tmp_path):
    _, store, run = setup
    best = run / "best"
    sha = sha256_file(best / "model.safetensors")
    st = Store(store)
    value = calibrate_best(run, st, np.arange(len(st)), "cpu", 2)
    assert value is not None
    doc = json.loads((best / "config.json").read_text())
    assert doc["meta"]["element_cutoff"] == value
    assert sha256_file(best / "model.safetensors") == sha == doc["weights_sha256"]
    model = load_model(run, device="cpu")
    assert default_cutoff(model) == value
    assert f"{value:.4g}" in cutoff_note(model, None) and "calibrated" in cutoff_note(model, None)
    assert cutoff_note(model, 0.3) == "mask >= 0.3, from --cutoff"

    def call(*extra):
        r = CliRunner().invoke(app, ["call-elements", "--store", str(store), "--model",
                                     str(run), "--device", "cpu", *extra])
        assert r.exit_code == 0, (r.output, r.exception)
        return r.stdout

    by_default, explicit = call(), call("--cutoff", repr(value))
    assert by_default == explicit
    rows = pd.read_csv(io.StringIO(by_default), sep="\t", comment="#", header=None)
    if len(rows):
        assert (rows[7] >= value - 1e-6).all()  # max_mask of every element reaches the cutoff
    # a model without the entry falls back to 0.5
    update_meta(best, element_cutoff=None)
    assert default_cutoff(load_model(run, device="cpu")) == 0.5
    update_meta(best, element_cutoff=value)


def test_candidate_links_score_every_candidate_by_its_share(setup, tmp_path):
    _, store, run = setup
    cand = tmp_path / "cand.bed"
    # "1" is chr1 (the alias rule); one candidate crosses the window's edge, one lies
    # on a chromosome the genome lacks, one in g1's promoter
    cand.write_text("1\t30000\t30400\nchr1\t14500\t15600\nchr22\t20000\t20300\n"
                    "chr9\t100\t200\nchr1\t24800\t25200\n")
    links = _call_links(store, run, "--candidates", str(cand))
    st = Store(store)
    net, cfg, _ = load_model(run / "best", device="cpu")
    expected = set()
    for i in range(len(st)):
        g = st.genes.iloc[i]
        w = st.window(i, cfg.window_bp)
        lo, hi = max(w.start, 0), min(w.end, st.chrom_sizes[w.chrom])
        b = st.batch([i], cfg.window_bp)
        _, share = net.token_shares(torch.from_numpy(b["seq"]).long(),
                                    torch.from_numpy(b["signals"]).float(),
                                    torch.from_numpy(b["blacklist"]))
        share = w.to_genome(np.repeat(share[0].numpy(), cfg.bin_size)) / cfg.bin_size
        tss, half = int(g["tss"]), cfg.promoter_bp // 2
        for c, s, e in (("chr1", 30000, 30400), ("chr1", 14500, 15600), ("chr22", 20000, 20300),
                        ("chr1", 24800, 25200)):
            a, z = max(s, lo), min(e, hi)
            if c != w.chrom or z <= a or (a < tss + half and z > tss - half):
                continue
            expected.add((str(g["gene_id"]), a, z))
            row = links[(links.TargetGeneEnsembl_ID == g["gene_id"]) & (links.start == a)
                        & (links.end == z)]
            assert len(row) == 1
            total = sum(float(share[x - w.start]) for x in range(a, z))
            assert row.Score.iloc[0] == pytest.approx(total, rel=1e-3, abs=1e-6)
    got = set(zip(links.TargetGeneEnsembl_ID.astype(str), links.start, links.end))
    assert got == expected and len(expected) >= 3


def test_mask_abc_links_are_mask_times_abc_over_the_genes_sum(setup, tmp_path):
    _, store, run = setup
    cand = tmp_path / "cand.bed"
    cand.write_text("chr1\t30000\t30400\nchr1\t14500\t15600\nchr1\t33000\t33500\n"
                    "chr22\t20000\t20300\nchr22\t23000\t23200\n")
    links = _call_links(store, run, "--candidates", str(cand), "--score", "mask-abc")
    st = Store(store)
    net, cfg, _ = load_model(run / "best", device="cpu")
    names = list(cfg.signal_names)
    assert len(links) >= 4
    for gid, sub in links.groupby("TargetGeneEnsembl_ID"):
        i = st.gene_index(gid)
        w = st.window(i, cfg.window_bp)
        b = st.batch([i], cfg.window_bp)
        mask = net.generate_mask(torch.from_numpy(b["seq"]).long(),
                                 torch.from_numpy(b["signals"]).float(),
                                 torch.from_numpy(b["blacklist"]))[0].numpy()
        mask = w.to_genome(np.repeat(mask, cfg.bin_size))
        sig = {n: w.to_genome(b["signals"][0][:, names.index(n)]) for n in names}
        raw = []
        for row in sub.itertuples(index=False):
            bases = range(row.start - w.start, row.end - w.start)
            m = np.mean([mask[x] for x in bases])
            dn = np.mean([sig["dnase"][x] for x in bases])
            ac = np.mean([sig["h3k27ac"][x] for x in bases])
            c = 10.0 ** sig["contact"][(row.start + row.end) // 2 - w.start] - 1.0
            raw.append(m * np.sqrt(dn * ac) * c)
            assert row.mean_mask == pytest.approx(m, abs=6e-5)  # written with 4 decimals
        raw = np.array(raw)
        np.testing.assert_allclose(sub.Score.to_numpy(), raw / raw.sum(), rtol=1e-3, atol=1e-6)
    bad = CliRunner().invoke(app, ["call-links", "--store", str(store), "--model", str(run),
                                   "--score", "nonsense"])
    assert bad.exit_code != 0 and "unknown link score 'nonsense'" in str(bad.exception)
    # --score abc is the same without the mask
    plain = _call_links(store, run, "--candidates", str(cand), "--score", "abc")
    for gid, sub in plain.groupby("TargetGeneEnsembl_ID"):
        weighted = links[links.TargetGeneEnsembl_ID == gid]
        raw = weighted.Score.to_numpy() / np.maximum(weighted.mean_mask.to_numpy(), 1e-9)
        np.testing.assert_allclose(sub.Score.to_numpy(), raw / raw.sum(), rtol=2e-3, atol=1e-5)
