"""The bundled model gives today what it gave before the CPU speed-ups (stored outputs).

``tests/data/bundled_expected/`` was written by ``scripts/make_bundled_expected.py`` with
seq2exp at commit 0f13592 (the motif scanner as a one-hot convolution, the scan before
issue 15): predictions of the 47 genes of ``examples/sim_example`` from its raw files, the
generator's mask of the first 8 genes and the elements ``call-elements`` writes.  Any faster
formulation must reproduce them within 1e-5.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"
EXPECTED = Path(__file__).resolve().parent / "data" / "bundled_expected"


@pytest.fixture(scope="module")
def model_and_source():
    from seq2exp_cli.predict import load_predictor
    from seq2exp_cli.store.live import FileWindows

    net, cfg, _meta, dev = load_predictor(ROOT / "weights", "cpu")
    e = EXAMPLE
    src = FileWindows(fasta=e / "genome.fa", genes=e / "genes.tsv",
                      tracks={"h3k27ac": e / "h3k27ac.bw", "dnase": e / "dnase.bw"},
                      hic=e / "contacts.hic", targets=e / "cage.tsv",
                      blacklist=e / "blacklist.bed", window_bp=cfg.window_bp, quiet=True)
    yield net, cfg, dev, src
    src.close()


def test_predictions_equal_the_stored_ones(model_and_source):
    from seq2exp_cli.predict import predict

    net, cfg, dev, src = model_and_source
    want = pd.read_csv(EXPECTED / "predictions.tsv", sep="\t")
    got = predict(src, net, cfg, dev, show_progress=False)
    assert list(got["gene_id"]) == list(want["gene_id"])
    np.testing.assert_allclose(got["prediction"], want["prediction"], rtol=0, atol=1e-5)


def test_generator_masks_equal_the_stored_ones(model_and_source):
    from seq2exp_cli.store.windows import stack_windows
    from seq2exp_cli.training.batches import check_compatible, to_tensors

    net, cfg, dev, src = model_and_source
    want = np.load(EXPECTED / "masks.npy")
    sig = check_compatible(src, cfg, "example")
    b = to_tensors(stack_windows([src.window(i, cfg.window_bp) for i in range(len(want))]),
                   dev, sig)
    with torch.no_grad():
        got = net.generate_mask(b["seq"], b["signals"], b["blacklist"]).float().numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_elements_equal_the_stored_ones(model_and_source):
    from seq2exp_cli.elements import call_elements, write_elements

    net, cfg, dev, src = model_and_source
    buf = io.StringIO()
    write_elements(call_elements(src, net, cfg, dev, show_progress=False), buf)
    got = pd.read_csv(io.StringIO(buf.getvalue()), sep="\t")
    want = pd.read_csv(EXPECTED / "elements.bed", sep="\t")
    assert len(got) == len(want) > 100
    exact = ["#chrom", "start", "end", "name", "strand", "gene_id", "tss_distance"]
    pd.testing.assert_frame_equal(got[exact], want[exact])
    # written rounded to 4 decimals (scores to 1/1000): a 1e-5 change may move the last digit
    np.testing.assert_allclose(got[["mean_mask", "max_mask"]], want[["mean_mask", "max_mask"]],
                               rtol=0, atol=1.01e-4)
    assert (got["score"] - want["score"]).abs().max() <= 1
