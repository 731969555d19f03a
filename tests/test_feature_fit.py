"""``train --init-from RUN --fit-features``: a closed-form linear gene-feature term on a trained model."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import torch

from _fixtures import make_tiny_inputs, tiny_store
from conftest import tiny_run
from seq2exp_cli.training.feature_fit import FEATURE_LAMBDAS, solve_ridge
from seq2exp_cli.training.loop import train

TINY = dict(steps=3, warmup=1, eval_every=3, checkpoint_every=3, seed=5)
#: log10(1 + value) = 1 + 0.5 * half_life exactly, for the three genes with targets
HALF_LIFE = {"g1": 0.5, "g2": 1.5, "g3": -0.2}


def test_solve_ridge_matches_independent_forms():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(40, 3))
    r = f @ [0.3, -1.0, 2.0] + 0.7 + rng.normal(0, 0.1, 40)
    w, c = solve_ridge(f, r, 0.0)
    ref = np.linalg.lstsq(np.c_[np.ones(40), f], r, rcond=None)[0]
    np.testing.assert_allclose(np.r_[c, w], ref, atol=1e-10)
    # ridge as ordinary least squares on rows augmented with sqrt(lam) I (no row for c)
    lam = 5.0
    w, c = solve_ridge(f, r, lam)
    A = np.r_[np.c_[np.ones(40), f], np.c_[np.zeros((3, 1)), np.sqrt(lam) * np.eye(3)]]
    ref = np.linalg.lstsq(A, np.r_[r, np.zeros(3)], rcond=None)[0]
    np.testing.assert_allclose(np.r_[c, w], ref, atol=1e-10)


def _planted_store(tmp_path):
    d, _, _ = make_tiny_inputs(tmp_path)
    rows = "".join(f"{g}\t{10 ** (1 + 0.5 * h) - 1:.9f}\t{h}\n" for g, h in HALF_LIFE.items())
    (d / "targets.tsv").write_text("gene_id\tvalue\thalf_life\n" + rows)
    return tiny_store(d, tmp_path / "store", val_chroms=["chr22"], test_chroms=["chrX"])


def _constant_source(store_path, tmp_path):
    """A trained tiny model whose output no longer depends on the window: its prediction is
    the head's bias for every gene, so the residuals the fit sees are the planted line."""
    from seq2exp_cli.models.checkpoint import load_model, save_model

    m, t = tiny_run(**TINY)
    run = train(store_path, tmp_path / "a", m, t, device="cpu", show_progress=False)
    model, cfg, _ = load_model(run / "best", device="cpu")
    with torch.no_grad():
        model.head.out.weight.zero_()
        model.readout.weight.zero_()
    save_model(tmp_path / "source", model, cfg, {"step": 3})
    return tmp_path / "source", model, m, t


def test_fit_features_recovers_a_planted_linear_effect(tmp_path):
    """Targets planted on a line in the feature: the fit finds it (validation gene exact),
    chooses no penalty, and changes no other weight and no mask value."""
    from seq2exp_cli.inference.forward import check_compatible, load_batch, to_tensors
    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.store import Store

    store_path = _planted_store(tmp_path)
    st = Store(store_path)
    assert st.feature_names == ["half_life"]
    source, src_model, m, t = _constant_source(store_path, tmp_path)
    feat = dataclasses.replace(m, n_gene_features=1, feature_term="linear")
    fit = dataclasses.replace(t, fit_features=True)
    run = train(store_path, tmp_path / "b", feat, fit, device="cpu", show_progress=False,
                init_from=source)
    best, cfg, meta = load_model(run / "best", device="cpu")
    assert meta["feature_fit"]["ridge_lambda"] == 0.0 and meta["feature_fit"]["genes"] == 2
    # w . (f - mean) / scale + c + bias == 1 + 0.5 f  =>  w / scale == 0.5
    assert abs(meta["feature_fit"]["weights"][0] / cfg.feature_scale[0] - 0.5) < 1e-4
    rows = (run / "val_metrics.tsv").read_text().splitlines()
    assert len(rows) == 1 + len(FEATURE_LAMBDAS)  # a header, then one row per penalty tried
    # every weight but the feature term is the source's, bit for bit
    sa, sb = src_model.state_dict(), best.state_dict()
    assert set(sb) - set(sa) == {"head.feature_linear.weight", "head.feature_linear.bias"}
    for k, v in sa.items():
        torch.testing.assert_close(sb[k], v, rtol=0, atol=0, msg=k)
    idx = np.r_[st.indices("train"), st.indices("val")]
    b = to_tensors(load_batch(st, idx, best), torch.device("cpu"),
                   check_compatible(st, cfg, "s", False))
    src_model.eval()
    best.eval()
    with torch.no_grad():
        o_src = src_model(b["seq"], b["signals"], None, b["blacklist"])
        o = best(b["seq"], b["signals"], b["features"], b["blacklist"])
    torch.testing.assert_close(o.mask, o_src.mask, rtol=0, atol=0)
    planted = 1 + 0.5 * np.array([HALF_LIFE[g] for g in st.genes.gene_id.to_numpy()[idx]])
    np.testing.assert_allclose(o.pred.numpy(), planted, atol=1e-4)
    rec = json.loads((run / "run.json").read_text())
    assert rec["train"]["fit_features"] and rec["model"]["feature_term"] == "linear"
    assert rec["init_from"]["fresh"] == ["head.feature_linear.bias", "head.feature_linear.weight"]
