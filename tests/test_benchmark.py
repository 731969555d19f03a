"""``seq2exp benchmark``: Table 1 against hand-computed means/sds, skipping finished runs,
resuming interrupted ones, and Table 2 (MACS3 + matched-sparsity retraining) on a tiny
simulation whose test chromosome (chr22) has genes with targets."""

from __future__ import annotations

import csv
import math
import statistics

import pandas as pd
import pytest

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.evaluation import benchmark as bm

from _fixtures import simulated_store

W = 20_000
TINY = dict(window_bp=W, bin_size=100, d_model=8, n_layers_generator=1, n_layers_predictor=1,
            head_hidden=8, promoter_bp=1000, batch_size=2)
SETS = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
MODELS, SEEDS, STEPS = ("seq2exp-soft", "caduceus-seq"), (1, 2), 2


@pytest.fixture(scope="module")
def sim_store(tmp_path_factory):
    return simulated_store(tmp_path_factory.mktemp("bench"), seed=3)


def _lib_kwargs(d, out, **kw):
    base = dict(models=MODELS, seeds=SEEDS, preset="cpu", steps=STEPS, overrides=dict(TINY),
                device="cpu", truth=d / "sim" / "truth_elements.bed", dnase=d / "sim" / "dnase.bw",
                plots=False, show_progress=False)
    base.update(kw)
    return dict(store_path=d / "store", outdir=out, **base)


@pytest.fixture(scope="module")
def bench(sim_store, cli):
    d = sim_store
    out = d / "out"
    r = cli(
        "benchmark", str(d / "store"), "-o", str(out), "--models", ",".join(MODELS),
        "--seeds", ",".join(map(str, SEEDS)), "--steps", str(STEPS), "--device", "cpu",
        *SETS, "--truth", str(d / "sim" / "truth_elements.bed"),
        "--dnase", str(d / "sim" / "dnase.bw"))
    assert r.exit_code == 0, (r.output, r.exception)
    return d, out, r


def _test_row(run) -> dict:
    with open(run / "test_metrics.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 1
    return {k: float(v) for k, v in rows[0].items()}


def test_table1_is_mean_and_sd_of_the_runs(bench):
    _, out, r = bench
    t1 = pd.read_csv(out / "table1.tsv", sep="\t").set_index("model")
    assert list(t1.index) == list(MODELS)
    for m in MODELS:
        rows = [_test_row(out / "runs" / m / f"seed{s}") for s in SEEDS]
        for k in ("mse", "mae", "pearson"):
            vals = [x[k] for x in rows]
            if any(math.isnan(v) for v in vals):
                continue
            assert t1.loc[m, f"{k}_mean"] == pytest.approx(sum(vals) / len(vals), rel=1e-8)
            assert t1.loc[m, f"{k}_sd"] == pytest.approx(statistics.stdev(vals), rel=1e-8, abs=1e-12)
        assert t1.loc[m, "n_seeds"] == 2 and t1.loc[m, "n_genes"] == rows[0]["n"] == 2
    md = (out / "table1.md").read_text()
    assert "paper K562 MSE" in md and "different data" in md
    assert "| seq2exp-soft | 2 | 2 |" in md and "0.1856" in md and "0.2197" in md
    # stdout: the Markdown of both tables; progress on stderr
    assert r.stdout == md + "\n" + (out / "table2.md").read_text()
    assert "[1/4] seq2exp-soft seed 1: training" in r.stderr
    assert (out / "plots" / "seq2exp-soft.pred_vs_measured.png").stat().st_size > 0


def test_table2_rows_and_retraining(bench):
    _, out, _ = bench
    t2 = pd.read_csv(out / "table2.tsv", sep="\t")
    assert t2["model"].tolist() == ["seq2exp-soft"]  # caduceus-seq has no mask
    row = t2.iloc[0]
    for k in ("mask_coverage", "macs3_coverage", "auprc_mask", "auprc_macs3", "auprc_dnase",
              "auprc_random", "decoy_fpr_mask", "decoy_fpr_macs3"):
        assert 0 <= row[k] <= 1, k
    assert row["auprc_random"] < row["auprc_dnase"]
    peaks = pd.read_csv(out / "macs3.narrowPeak", sep="\t", header=None)
    assert peaks.shape[1] == 10 and len(peaks) > 0
    first = SEEDS[0]
    for kind in ("retrain", "macs3"):
        run = out / "runs" / f"seq2exp-soft-{kind}" / f"seed{first}"
        got = _test_row(run)
        assert row[f"{kind}_mse"] == pytest.approx(got["mse"], rel=1e-8)
        import json

        cfg = json.loads((run / "run.json").read_text())
        assert cfg["model"]["mask_source"] == "fixed" and cfg["train"]["seed"] == first
        assert cfg["train"]["steps"] == STEPS
    assert row["learned_mse"] == pytest.approx(_test_row(out / "runs" / "seq2exp-soft" / f"seed{first}")["mse"])
    md = (out / "table2.md").read_text()
    assert "MACS3 peaks, top 10%, retrained (seq2exp-soft config)" in md and "6.88%" in md


def test_rerun_skips_finished_runs(bench, monkeypatch):
    d, out, _ = bench
    weights = sorted(out.glob("runs/*/seed*/best/model.safetensors"))
    assert len(weights) == 6  # 2 models x 2 seeds + 2 retrained predictors
    before = {p: p.stat().st_mtime_ns for p in weights}
    t1_before = (out / "table1.tsv").read_text()

    def spy(*a, **k):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(bm, "train", spy)
    res = bm.run_benchmark(**_lib_kwargs(d, out))
    assert res.trained == 0
    assert {p: p.stat().st_mtime_ns for p in weights} == before
    assert (out / "table1.tsv").read_text() == t1_before
    # another configuration in the same folder is refused, not mixed in
    with pytest.raises(Seq2ExpError, match="another configuration"):
        bm.run_benchmark(**_lib_kwargs(d, out, steps=STEPS + 1))


def test_interrupted_run_is_resumed(sim_store, tmp_path, monkeypatch):
    calls = []

    class Stop(Exception):
        pass

    def spy(store, run, m, t, **kw):
        calls.append((run, kw["resume"]))
        raise Stop

    monkeypatch.setattr(bm, "train", spy)
    run = tmp_path / "runs" / "caduceus-seq" / "seed7"
    run.mkdir(parents=True)
    (run / "train_metrics.tsv").write_text("step\tloss\n")
    for resume in (True, False):
        with pytest.raises(Stop):
            bm.run_benchmark(**_lib_kwargs(sim_store, tmp_path, models=["caduceus-seq"],
                                           seeds=[7], truth=None, dnase=None, resume=resume))
    assert calls == [(run, True), (run, False)]


def test_model_configs_map_names_to_presets(sim_store):
    from seq2exp_cli.store import Store

    st = Store(sim_store / "store")
    assert bm.preset_for("seq2exp-hard", "cpu") == "cpu-hard"
    assert bm.preset_for("seq2exp-hard", "paper") == "paper-hard"
    assert bm.preset_for("seq2exp-soft", "cpu-hard") == "cpu"
    assert bm.preset_for("caduceus-seq", "paper") == "paper"
    soft, ts = bm.model_configs(st, "seq2exp-soft", "cpu", 5, 20, dict(TINY))
    hard, _ = bm.model_configs(st, "seq2exp-hard", "cpu", 5, 20, dict(TINY))
    seq, _ = bm.model_configs(st, "caduceus-seq", "cpu", 5, None, dict(TINY))
    sig, _ = bm.model_configs(st, "caduceus-signals", "cpu", 5, None, dict(TINY))
    assert soft.variant == "soft" and hard.variant == "hard" and soft.mask_source == "learned"
    assert (seq.mask_source, seq.use_signals) == ("none", False)
    assert (sig.mask_source, sig.use_signals) == ("none", True)
    assert ts.seed == 5 and ts.steps == 20 and ts.warmup == 2
    assert soft.signal_names == ("h3k27ac", "dnase", "contact")
    assert soft.n_gene_features == len(st.feature_names)
    with pytest.raises(Seq2ExpError, match="unknown model"):
        bm.model_configs(st, "enformer", "cpu", 5)


def test_summarise_hand_computed():
    runs = pd.DataFrame({"model": ["a", "a", "a", "b"], "seed": [1, 2, 3, 1], "n": [4] * 4,
                         "mse": [1.0, 2.0, 4.0, 0.5], "mae": [1.0, 1.0, 1.0, 0.1],
                         "pearson": [0.5, 0.6, 0.7, 0.9]})
    t = bm.summarise(runs).set_index("model")
    assert t.loc["a", "mse_mean"] == pytest.approx(7 / 3)
    # deviations -4/3, -1/3, 5/3: sum of squares 42/9, over n - 1 = 2
    assert t.loc["a", "mse_sd"] == pytest.approx(math.sqrt(42 / 18))
    assert t.loc["a", "mae_sd"] == 0.0 and t.loc["a", "pearson_sd"] == pytest.approx(0.1)
    assert t.loc["b", "n_seeds"] == 1 and math.isnan(t.loc["b", "mse_sd"])
    md = bm.table1_markdown(t.reset_index(), "S", [1, 2, 3])
    assert "| a | 3 | 4 | 2.3333 ± 1.5275 |" in md and "| b | 1 | 4 | 0.5000 |" in md


def test_bad_arguments_are_one_line_errors(sim_store, tmp_path, cli):
    r = cli("benchmark", str(sim_store / "store"), "-o", str(tmp_path / "o"),
                                 "--models", "seq2exp-soft,enformer")
    assert isinstance(r.exception, Seq2ExpError) and "unknown model 'enformer'" in str(r.exception)
    with pytest.raises(Seq2ExpError, match="both --truth and --dnase"):
        bm.run_benchmark(**_lib_kwargs(sim_store, tmp_path / "o", dnase=None))
    r = cli("benchmark", str(sim_store / "store"), "-o", str(tmp_path / "o"),
                                 "--seeds", "1,x")
    assert "expected comma-separated integers" in str(r.exception)
