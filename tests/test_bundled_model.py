"""The bundled model (weights/) on the bundled example, through the card's commands.

Its predictions are held to the stored ones in ``tests/data/expected/bundled_predictions.tsv``
within 1e-5.  After retraining the bundled model, refresh that file with
``python scripts/make_expected_outputs.py`` and commit it with the new weights.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.models.checkpoint import load_model, sha256_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"
WEIGHTS = ROOT / "weights"
EXPECTED = Path(__file__).resolve().parent / "data" / "expected" / "bundled_predictions.tsv"


def _expected() -> pd.DataFrame:
    return pd.read_csv(EXPECTED, sep="\t")


def test_manifest_matches_the_weights():
    manifest = json.loads((WEIGHTS / "manifest.json").read_text())
    assert manifest["weights_sha256"] == sha256_file(WEIGHTS / "model.safetensors")
    net, cfg, meta = load_model(WEIGHTS, device="cpu")
    assert cfg.to_dict() == manifest["model_config"]


def test_card_predict_command_on_the_example(seq2exp):
    r = seq2exp("predict", "--genes", "genes.tsv", "--dnase", "dnase.bw", cwd=EXAMPLE)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(io.StringIO(r.stdout), sep="\t")
    genes = pd.read_csv(EXAMPLE / "genes.tsv", sep="\t")
    assert list(df["gene_id"]) == list(genes["gene_id"])
    want = _expected()
    assert list(df["gene_id"]) == list(want["gene_id"]) and "target" in df
    # the TSV has 6 significant digits; predictions are below 10, so 1e-5 is above rounding
    np.testing.assert_allclose(df["prediction"], want["prediction"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(df["target"], want["target"], rtol=0, atol=1e-5)
    # h3k27ac, Hi-C, targets and blacklist came from seq2exp.toml, as the docs say
    assert "power-law" not in r.stderr


def test_api_predictions_equal_the_stored_ones():
    """The API at full precision, on the inputs of the example's seq2exp.toml."""
    got, want = _scripts().bundled_predictions(), _expected()
    assert list(got["gene_id"]) == list(want["gene_id"])
    np.testing.assert_allclose(got["prediction"], want["prediction"], rtol=0, atol=1e-5)


def _scripts():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_expected_outputs
    finally:
        sys.path.pop(0)
    return make_expected_outputs


def test_generator_masks_equal_the_stored_ones():
    """The generator's mask per token of 8 genes (the fused motif scanner and the vectorised
    scan must give what the stored network gave)."""
    got = _scripts().bundled_masks()
    want = np.load(EXPECTED.parent / "bundled_masks.npy")
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_elements_equal_the_stored_ones():
    from seq2exp_cli.inference.elements import write_elements

    buf = io.StringIO()
    write_elements(_scripts().bundled_elements(), buf)
    got = pd.read_csv(io.StringIO(buf.getvalue()), sep="\t")
    want = pd.read_csv(EXPECTED.parent / "bundled_elements.bed", sep="\t")
    assert len(got) == len(want) > 20
    exact = ["#chrom", "start", "end", "name", "strand", "gene_id", "tss_distance"]
    pd.testing.assert_frame_equal(got[exact], want[exact])
    # written rounded to 4 decimals (scores to 1/1000): a 1e-5 change may move the last digit
    np.testing.assert_allclose(got[["mean_mask", "max_mask"]], want[["mean_mask", "max_mask"]],
                               rtol=0, atol=1.01e-4)
    assert (got["score"] - want["score"]).abs().max() <= 1


def test_bare_call_elements_on_the_example(seq2exp):
    r = seq2exp("call-elements", cwd=EXAMPLE)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    assert lines and all(len(l.split("\t")) == 10 for l in lines)


def test_tampered_weights_are_refused(tmp_path, seq2exp):
    bad = tmp_path / "w"
    shutil.copytree(WEIGHTS, bad)
    blob = bytearray((bad / "model.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (bad / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(Seq2ExpError, match="sha256"):
        load_model(bad, device="cpu")
    r = seq2exp("predict", "--model", bad, cwd=EXAMPLE)
    assert r.returncode == 2 and "sha256" in r.stderr and "Traceback" not in r.stderr


def test_predict_from_files_does_not_import_hictkpy():
    """Reading the example's .hic must not import hictkpy (its import starts a thread that
    keeps a core busy); only writing .hic needs it."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('hictkpy imported:', 'hictkpy' in sys.modules,"
            " file=sys.stderr))\n"
            "from seq2exp_cli.cli import main\n"
            "main(['predict', '--gene', 'SIMG000001', '--hic', 'contacts.hic'])\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=EXAMPLE, capture_output=True, text=True,
                       env={**os.environ, "SEQ2EXP_PROGRESS": "0"})
    assert r.returncode == 0, r.stderr
    assert "SIMG000001" in r.stdout and "power-law" not in r.stderr
    assert "hictkpy imported: False" in r.stderr
