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
    # resumed with other settings given (as a user retyping the command might): the run's
    # recorded configs win, so the weights still match the uninterrupted run bit for bit
    import dataclasses

    other_m = dataclasses.replace(m, d_model=2 * m.d_model)
    other_t = dataclasses.replace(t, lr=10 * t.lr)
    train(store_path, killed, other_m, other_t, device="cpu", resume=True, log_every=1,
          show_progress=False)
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
    assert r.stderr.count("wrote run") == 1  # one rank reports
    steps = [int(l.split("\t")[0]) for l in (run / "train_metrics.tsv").read_text().splitlines()[1:]]
    assert steps == [4] and (run / "best" / "model.safetensors").exists()


def test_init_from_with_frozen_mask_keeps_the_mask(tmp_path):
    """Stage two (--init-from RUN --freeze-mask): the predictor learns, the mask is RUN's."""
    import dataclasses
    import json

    from seq2exp_cli.inference.forward import load_batch, to_tensors, check_compatible
    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.store import Store

    d, _, _ = make_tiny_inputs(tmp_path)
    # one per-gene feature column (as cage.tsv's half-life features), so stage two adds it
    (d / "targets.tsv").write_text("gene_id\tvalue\thalf_life\ng1\t10\t0.5\ng2\t0\t1.5\n"
                                   "g3\t5\t-0.2\n")
    store_path = tiny_store(d, tmp_path / "store", val_chroms=["chr22"], test_chroms=["chrX"])
    st = Store(store_path)
    assert st.feature_names == ["half_life"]
    m, t = tiny_run(**{**TINY, "steps": 3, "eval_every": 3, "checkpoint_every": 3})
    first = train(store_path, tmp_path / "a", m, t, device="cpu", show_progress=False)
    feat = dataclasses.replace(m, n_gene_features=len(st.feature_names))
    frozen = dataclasses.replace(t, freeze_mask=True, seed=9)
    second = train(store_path, tmp_path / "b", feat, frozen, device="cpu", show_progress=False,
                   init_from=first)
    a, _, _ = load_model(first / "best", device="cpu")
    b, cfg_b, _ = load_model(second / "last", device="cpu")
    assert cfg_b.n_gene_features == len(st.feature_names) and cfg_b.feature_mean
    sa, sb = a.state_dict(), b.state_dict()
    mask_names = {n for n, p in b.named_parameters()
                  if any(p is q for q in b.mask_parameters())}
    assert mask_names
    for n in mask_names:  # the generator is bit for bit the first run's
        torch.testing.assert_close(sb[n], sa[n], rtol=0, atol=0, msg=n)
    moved = [n for n in sb if n not in mask_names and n in sa and sa[n].shape == sb[n].shape
             and not torch.equal(sa[n], sb[n])]
    assert moved  # the predictor trained on
    rec = json.loads((second / "run.json").read_text())
    assert rec["init_from"]["widened"] == ["head.fc1.weight"] and rec["init_from"]["fresh"] == []
    assert not any(n in mask_names for n in rec["init_from"]["widened"])
    # the same mask on the same genes, in eval mode
    idx = st.indices("train")[:2]
    for net in (a, b):
        net.eval()
    ba = to_tensors(load_batch(st, idx, a), torch.device("cpu"), check_compatible(st, a.cfg, "s", False))
    with torch.no_grad():
        ma = a(ba["seq"], ba["signals"], None, ba["blacklist"]).mask
        mb = b(ba["seq"], ba["signals"], ba["features"], ba["blacklist"]).mask
    torch.testing.assert_close(ma, mb, rtol=0, atol=0)


def test_warm_start_widened_head_starts_as_the_source(tmp_path):
    """The head's new gene-feature inputs start at zero: the warm-started model predicts as
    its source does, whatever the features' values, before any step."""
    import dataclasses

    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.models.registry import build_model
    from seq2exp_cli.training.loop import warm_start
    from seq2exp_cli.store import Store

    d, _, _ = make_tiny_inputs(tmp_path)
    store_path = tiny_store(d, tmp_path / "store", val_chroms=["chr22"], test_chroms=["chrX"])
    m, t = tiny_run(**{**TINY, "steps": 2, "eval_every": 2, "checkpoint_every": 2})
    src = train(store_path, tmp_path / "a", m, t, device="cpu", show_progress=False)
    a, cfg, _ = load_model(src / "best", device="cpu")
    wide = dataclasses.replace(cfg, n_gene_features=3, feature_mean=(0.0,) * 3,
                               feature_scale=(1.0,) * 3)
    torch.manual_seed(3)
    b = build_model(wide)
    note = warm_start(b, wide, src)
    assert note["widened"] == ["head.fc1.weight"] and note["fresh"] == []
    w = b.state_dict()["head.fc1.weight"]
    assert torch.equal(w[:, : cfg.d_model], a.state_dict()["head.fc1.weight"])
    assert torch.count_nonzero(w[:, cfg.d_model:]) == 0
    st = Store(store_path)
    from seq2exp_cli.inference.forward import check_compatible, load_batch, to_tensors

    bt = to_tensors(load_batch(st, st.indices("train")[:2], a), torch.device("cpu"),
                    check_compatible(st, cfg, "s", False))
    a.eval()
    b.eval()
    with torch.no_grad():
        pa = a(bt["seq"], bt["signals"], None, bt["blacklist"]).pred
        pb = b(bt["seq"], bt["signals"], torch.randn(2, 3), bt["blacklist"]).pred
    torch.testing.assert_close(pa, pb, rtol=0, atol=1e-6)


def test_init_from_errors_are_one_line(store_path, tmp_path, seq2exp):
    r = seq2exp("train", store_path, "-o", tmp_path / "x", "--freeze-mask")
    assert r.returncode == 2 and "--init-from" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = seq2exp("train", store_path, "-o", tmp_path / "y", "--init-from", tmp_path / "nothing")
    assert r.returncode == 2 and "nothing" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "y" / "last").exists()
    r = seq2exp("train", store_path, "-o", tmp_path / "z", "--fit-features")
    assert r.returncode == 2 and "--init-from" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "z").exists()
