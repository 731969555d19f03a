"""Training loop: schedule, batch order, metrics, checkpoints and resuming after SIGKILL."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from seq2exp_cli.training.batches import batch_indices
from seq2exp_cli.training.loop import train
from seq2exp_cli.training.metrics import regression_metrics, spearman
from seq2exp_cli.training.schedule import lr_at

from _fixtures import W, make_tiny_inputs, tiny_store
from conftest import TINY_RUN, tiny_run

#: the scaffold's tiny 20 kb model (conftest.TINY_RUN) with this file's schedule
TINY = dict(steps=8, warmup=2, eval_every=3, checkpoint_every=2, seed=5)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    d, _, _ = make_tiny_inputs(tmp_path_factory.mktemp("tin"))
    # chr1 genes train; put chr22 in validation so model selection runs
    return tiny_store(d, tmp_path_factory.mktemp("st") / "store", val_chroms=["chr22"],
                      test_chroms=["chrX"])


def test_schedule_closed_form():
    kw = dict(lr=5e-4, steps=100, warmup=10, warmup_start_lr=1e-5, min_lr=1e-4)
    assert lr_at(0, **kw) == pytest.approx(1e-5)
    assert lr_at(5, **kw) == pytest.approx(1e-5 + 0.5 * (5e-4 - 1e-5))
    assert lr_at(10, **kw) == pytest.approx(5e-4)
    assert lr_at(55, **kw) == pytest.approx(1e-4 + 0.5 * 4e-4 * (1 + math.cos(math.pi * 0.5)))
    assert lr_at(100, **kw) == pytest.approx(1e-4) and lr_at(500, **kw) == pytest.approx(1e-4)


def test_batches_cover_each_epoch_and_are_keyed_by_step():
    pool = np.array([3, 5, 7, 11, 13])
    first = np.concatenate([batch_indices(pool, 2, seed=1, step=s) for s in range(5)])
    # 10 draws = two epochs: each a permutation of the pool
    assert sorted(first[:5]) == sorted(pool) and sorted(first[5:]) == sorted(pool)
    np.testing.assert_array_equal(batch_indices(pool, 2, 1, 3), batch_indices(pool, 2, 1, 3))
    assert not np.array_equal(
        np.concatenate([batch_indices(pool, 5, 1, s) for s in range(3)]),
        np.concatenate([batch_indices(pool, 5, 2, s) for s in range(3)]))


def test_metrics_hand_computed():
    pred, y = [1.0, 2.0, 4.0], [1.0, 3.0, 3.0]
    m = regression_metrics(pred, y)
    assert m["n"] == 3 and m["mse"] == pytest.approx(2 / 3) and m["mae"] == pytest.approx(2 / 3)
    # Pearson by hand: pred centred (-4/3, -1/3, 5/3), y centred (-4/3, 2/3, 2/3)
    num = 16 / 9 - 2 / 9 + 10 / 9
    den = math.sqrt((16 + 1 + 25) / 9 * (16 + 4 + 4) / 9)
    assert m["pearson"] == pytest.approx(num / den)
    assert m["r2"] == pytest.approx(1 - 2 / (24 / 9))
    assert spearman([1, 2, 3, 4], [10, 20, 20, 40]) == pytest.approx(np.corrcoef([1, 2, 3, 4], [1, 2.5, 2.5, 4])[0, 1])


def test_train_writes_run_and_selects_best(store_path, tmp_path):
    m, t = tiny_run(**TINY)
    run = train(store_path, tmp_path / "run", m, t, device="cpu", log_every=1, show_progress=False)
    tr = (run / "train_metrics.tsv").read_text().splitlines()
    assert tr[0].split("\t")[:3] == ["step", "loss", "lr"] and len(tr) == 1 + 8
    va = (run / "val_metrics.tsv").read_text().splitlines()
    assert [int(r.split("\t")[0]) for r in va[1:]] == [3, 6, 8]
    mses = [float(r.split("\t")[va[0].split("\t").index("mse")]) for r in va[1:]]
    import json

    best = json.loads((run / "best" / "config.json").read_text())
    assert best["meta"]["val"]["mse"] == pytest.approx(min(mses))
    assert (run / "last" / "train_state.pt").exists()


def test_resume_after_sigkill_matches_uninterrupted(store_path, tmp_path):
    m, t = tiny_run(**TINY)
    full = train(store_path, tmp_path / "full", m, t, device="cpu", show_progress=False)
    killed = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import os, signal
        from seq2exp_cli.models.presets import preset
        from seq2exp_cli.training.loop import train
        m, t = preset("cpu", **{dict(TINY_RUN, **TINY)!r})
        def on_step(s):
            if s == 5:
                os.kill(os.getpid(), signal.SIGKILL)
        train({str(store_path)!r}, {str(killed)!r}, m, t, device="cpu", log_every=1,
              on_step=on_step, show_progress=False)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert r.returncode == -9, r.stderr
    import json

    last = json.loads((killed / "last" / "config.json").read_text())
    assert last["meta"]["step"] == 4
    train(store_path, killed, m, t, device="cpu", resume=True, log_every=1, show_progress=False)
    a = load_file(str(full / "last" / "model.safetensors"))
    b = load_file(str(killed / "last" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    steps = [int(r.split("\t")[0]) for r in (killed / "train_metrics.tsv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 9))  # the row of step 5 written before the kill is not repeated


def test_top_fraction_mask_hand_case():
    from seq2exp_cli.training.fixed_mask import top_fraction_mask

    s = torch.tensor([[0.1, 0.9, 0.5, 0.0, 0.7, 0.2, 0.0, 0.0, 0.0, 0.3]])
    # top 30 % of 10 tokens = 3: 0.9, 0.7, 0.5
    assert top_fraction_mask(s, 0.3).tolist() == [[0, 1, 1, 0, 1, 0, 0, 0, 0, 0]]
    # tokens with score 0 are never selected, even inside the top fraction
    assert top_fraction_mask(s, 0.9).sum() == 6


def test_peak_token_scores_hand_case():
    import pandas as pd

    from seq2exp_cli.training.fixed_mask import PeakTopK

    peaks = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [1050, 1390], "end": [1120, 1400],
                          "score": [5, 9]})
    p = PeakTopK(peaks, top=0.5)
    # window chr1:1000-1400 in 100-bp tokens: token 0 <- peak 1 (5), token 3 <- peak 2 (9)
    np.testing.assert_array_equal(p.token_scores("chr1", 1000, 400, 100, False), [5, 5, 0, 9])
    np.testing.assert_array_equal(p.token_scores("chr1", 1000, 400, 100, True), [9, 0, 5, 5])


def test_retrain_on_peaks_and_on_generator(store_path, tmp_path):
    from seq2exp_cli.store import Store
    from seq2exp_cli.training.fixed_mask import GeneratorTopK, PeakTopK
    import pandas as pd

    m, t = tiny_run(**{**TINY, "steps": 3, "eval_every": 3, "checkpoint_every": 3})
    gen_run = train(store_path, tmp_path / "gen", m, t, device="cpu", show_progress=False)
    st = Store(store_path)
    fixed, _ = tiny_run(**{**TINY, "steps": 3, "mask_source": "fixed"})
    seen = []

    class Spy(GeneratorTopK):
        def __call__(self, batch, tensors, bin_size):
            mask = super().__call__(batch, tensors, bin_size)
            seen.append(mask)
            return mask

    prov = Spy(gen_run, 0.1, st.signal_names, torch.device("cpu"))
    run = train(store_path, tmp_path / "re", fixed, t, device="cpu", show_progress=False,
                mask_provider=prov)
    assert seen and all(float(s.sum(1).max()) <= 20 for s in seen)  # 10 % of 200 tokens
    assert (run / "val_metrics.tsv").exists()  # (this fixture has no test genes with targets)
    peaks = pd.DataFrame({"chrom": ["chr1"], "start": [20_000], "end": [21_000], "score": [1.0]})
    run2 = train(store_path, tmp_path / "pk", fixed, t, device="cpu", show_progress=False,
                 mask_provider=PeakTopK(peaks, 0.1))
    assert (run2 / "best" / "model.safetensors").exists()
    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.errors import Seq2ExpError
    from seq2exp_cli.inference.predict import predict_expression

    with pytest.raises(Seq2ExpError, match="mask-from"):
        predict_expression(st, load_model(run2 / "best", device="cpu"), progress=False)


def test_torchrun_two_processes_on_cpu(store_path, tmp_path):
    """The multi-GPU path (DistributedDataParallel) run with gloo on two CPU processes."""
    import os
    import shutil

    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    run = tmp_path / "ddp"
    r = subprocess.run(
        [torchrun, "--nproc_per_node", "2", "-m", "seq2exp_cli", "train", str(store_path),
         "-o", str(run), "--preset", "cpu", "--no-features", "--steps", "4", "--device", "cpu",
         "--set", f"window_bp={W}", "--set", "d_model=8", "--set", "n_layers_generator=1",
         "--set", "n_layers_predictor=1", "--set", "eval_every=2", "--set", "checkpoint_every=2",
         "--set", "promoter_bp=1000", "--batch-size", "2"],
        capture_output=True, text=True, env={**os.environ, "SEQ2EXP_PROGRESS": "0"}, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.count("run written") == 1  # one rank reports
    steps = [int(l.split("\t")[0]) for l in (run / "train_metrics.tsv").read_text().splitlines()[1:]]
    assert steps == [4] and (run / "best" / "model.safetensors").exists()
