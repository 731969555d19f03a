"""Every model of the registry through the same commands: ``train --model NAME`` on one
store, ``predict`` + ``evaluate`` on its test genes, ``call-elements`` for the models that
score elements (EPInformer, ABC; BED checked with bedtools), a clear error for the others,
and ``benchmark --models`` over several of them."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.models import registry
from seq2exp_cli.models.build import build_configs, model_fields

from _fixtures import simulated_store

W = 20_000
#: small sizes for every model (each model takes the fields it has: :func:`_tiny`)
TINY = dict(window_bp=W, bin_size=100, d_model=8, n_layers_generator=1, n_layers_predictor=1,
            head_hidden=8, promoter_bp=1000, batch_size=2, reach_bp=9000, element_bp=500,
            n_elements=8, channels=8, hic_bin_bp=5000, eval_every=2, checkpoint_every=2)
BASELINES = tuple(registry.BASELINES)


def _tiny(*models: str) -> dict:
    """The fields of :data:`TINY` that at least one of ``models`` has."""
    have = set().union(*(model_fields(m) for m in models))
    return {k: v for k, v in TINY.items() if k in have}


def _sets(*models: str) -> list[str]:
    return [a for k, v in _tiny(*models).items() for a in ("--set", f"{k}={v}")]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return simulated_store(d, seed=5, hic=d / "sim" / "contacts.hic")


@pytest.fixture(scope="module")
def trained(sim, cli):
    runs = {}
    for name in BASELINES:
        run = sim / "runs" / name
        r = cli("train", sim / "store", "-o", run, "--model", name, "--steps", 4,
                  "--device", "cpu", *_sets(name))
        assert r.exit_code == 0, (name, r.output, r.exception)
        runs[name] = run
    return runs


@pytest.mark.parametrize("name", BASELINES)
def test_train_predict_evaluate(sim, trained, name, tmp_path, cli):
    import json

    run = trained[name]
    doc = json.loads((run / "best" / "config.json").read_text())
    assert doc["model_type"] == name
    assert (run / "test_metrics.tsv").is_file()
    pred = tmp_path / "pred.tsv"
    r = cli("predict", "--store", sim / "store", "--model", run, "--split", "test",
              "--device", "cpu", "-o", pred)
    assert r.exit_code == 0, (r.output, r.exception)
    df = pd.read_csv(pred, sep="\t")
    assert len(df) > 0 and np.isfinite(df["prediction"]).all()
    # the run's own test metrics are those of the saved model's predictions
    tm = pd.read_csv(run / "test_metrics.tsv", sep="\t").iloc[-1]
    from seq2exp_cli.training.metrics import regression_metrics

    from seq2exp_cli.store import Store

    st = Store(sim / "store")
    keep = df["gene_id"].isin(st.genes.iloc[st.indices("test")]["gene_id"])
    m = regression_metrics(df.loc[keep, "prediction"].to_numpy(), df.loc[keep, "target"].to_numpy())
    assert m["mse"] == pytest.approx(float(tm["mse"]), rel=1e-4)
    r = cli("evaluate", pred, "--store", sim / "store")
    assert r.exit_code == 0, (r.output, r.exception)
    assert "pearson" in r.output.lower()


@pytest.mark.parametrize("name", ["epinformer", "abc"])
def test_call_elements_of_element_scoring_models(sim, trained, name, tmp_path, cli):
    bed = tmp_path / "el.bed"
    r = cli("call-elements", "--store", sim / "store", "--model", trained[name],
              "--split", "test", "--device", "cpu", "--cutoff", "0", "--min-length", 1,
              "-o", bed)
    assert r.exit_code == 0, (r.output, r.exception)
    df = pd.read_csv(bed, sep="\t")
    assert len(df) > 0
    assert (df["end"] > df["start"]).all() and (df["mean_mask"] <= 1.0 + 1e-6).all()
    if shutil.which("bedtools"):
        p = subprocess.run(["bedtools", "merge", "-i", str(bed)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


def test_element_score_track_hand_case():
    """Scores painted over their elements' bases, max where candidates overlap, padding
    ignored, clipped to the window."""
    import torch

    from seq2exp_cli.inference.elements import element_score_track
    from seq2exp_cli.models.baselines.base import ElementScores

    es = ElementScores(start=torch.tensor([[2, 5, 0], [8, 0, 0]]),
                       end=torch.tensor([[6, 8, 3], [12, 0, 0]]),
                       score=torch.tensor([[0.5, 0.25, 0.9], [0.75, 0.0, 0.0]]),
                       valid=torch.tensor([[True, True, False], [True, False, False]]))
    got = element_score_track(es, 10)
    want = np.zeros((2, 10), dtype=np.float32)
    want[0, 2:6] = 0.5
    want[0, 6:8] = 0.25
    want[0, 5] = 0.5  # overlap: the larger score
    want[1, 8:10] = 0.75
    np.testing.assert_array_equal(got, want)


def test_abc_elements_carry_their_scores(sim, trained, tmp_path, cli):
    """call-elements with an ABC model writes each candidate with its A*C / sum(A*C) score:
    the scores of one gene never sum above 1."""
    bed = tmp_path / "abc.bed"
    r = cli("call-elements", "--store", sim / "store", "--model", trained["abc"],
              "--device", "cpu", "--cutoff", "1e-9", "--min-length", 1, "--merge-gap", 0,
              "-o", bed)
    assert r.exit_code == 0, (r.output, r.exception)
    df = pd.read_csv(bed, sep="\t")
    assert len(df) > 0
    assert (df["max_mask"] > 0).all() and (df["max_mask"] <= 1).all()
    assert (df.groupby("gene_id")["max_mask"].sum() <= 1.0 + 1e-3).all()


@pytest.mark.parametrize("name", ["epiexpr-1d", "simplechrome"])
def test_call_elements_refuses_models_without_elements(sim, trained, name, seq2exp):
    r = seq2exp("call-elements", "--store", sim / "store", "--model", trained[name],
                  "--device", "cpu")
    assert r.returncode == 2, r.stderr
    assert "scores no elements" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_build_configs_per_model():
    for name in registry.MODEL_NAMES:
        mc, tc = build_configs(name, "cpu", seed=9, overrides=_tiny(name))
        assert tc.seed == 9 and tc.batch_size == 2
        assert mc.window_bp == W
        assert registry.model_type_of(mc) == ("seq2exp" if name in registry.SEQ2EXP_MODELS else name)
        net = registry.build_model(mc)
        assert isinstance(net, registry.model_class(mc))
        # what the inference code asks of a model, declared by its class
        assert net.needs_contact_matrix == (name == "epiexpr-3d")
        assert net.scores_elements == (name in ("epinformer", "abc"))
        assert net.has_learned_mask == (name in ("seq2exp", "seq2exp-soft", "seq2exp-hard"))
    with pytest.raises(Seq2ExpError, match="unknown config field"):
        build_configs("abc", "cpu", overrides={"no_such_field": 1})
    with pytest.raises(Seq2ExpError, match="has no field 'n_layers_generator'"):
        build_configs("abc", "cpu", overrides={"n_layers_generator": 1})
    with pytest.raises(Seq2ExpError, match="unknown model"):
        build_configs("enformer", "cpu")


def test_unknown_model_is_one_line_error(sim, tmp_path, seq2exp):
    r = seq2exp("train", sim / "store", "-o", tmp_path / "r", "--model", "enformer")
    assert r.returncode == 2 and "--model enformer" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_benchmark_over_baselines(sim, tmp_path, cli):
    out = tmp_path / "bench"
    r = cli("benchmark", sim / "store", "-o", out, "--models", "abc,epiexpr-1d",
              "--seeds", "1,2", "--steps", 2, "--device", "cpu", "--no-plots",
              *_sets("abc", "epiexpr-1d"))
    assert r.exit_code == 0, (r.output, r.exception)
    t1 = pd.read_csv(out / "table1.tsv", sep="\t")
    assert set(t1["model"]) == {"abc", "epiexpr-1d"}
    assert (t1["n_seeds"] == 2).all()
    runs = pd.read_csv(out / "runs.tsv", sep="\t")
    # ABC's ridge has no randomness: both seeds give the same test MSE
    abc = runs[runs["model"] == "abc"]["mse"].to_numpy()
    assert abc[0] == pytest.approx(abc[1])
