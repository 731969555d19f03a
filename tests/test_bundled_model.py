"""The bundled model (weights/) on the bundled example, through the card's commands."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.models.checkpoint import load_model, sha256_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"
WEIGHTS = ROOT / "weights"


def _seq2exp(*args, cwd=EXAMPLE):
    r = subprocess.run([sys.executable, "-m", "seq2exp_cli", *args], cwd=cwd, capture_output=True,
                       text=True, env={**os.environ, "SEQ2EXP_PROGRESS": "0"})
    assert r.returncode == 0, r.stderr
    return r


def test_manifest_matches_the_weights():
    manifest = json.loads((WEIGHTS / "manifest.json").read_text())
    assert manifest["weights_sha256"] == sha256_file(WEIGHTS / "model.safetensors")
    net, cfg, meta = load_model(WEIGHTS, device="cpu")
    assert cfg.to_dict() == manifest["model_config"]


def test_card_predict_command_on_the_example():
    r = _seq2exp("predict", "--genes", "genes.tsv", "--dnase", "dnase.bw")
    df = pd.read_csv(io.StringIO(r.stdout), sep="\t")
    genes = pd.read_csv(EXAMPLE / "genes.tsv", sep="\t")
    assert list(df["gene_id"]) == list(genes["gene_id"])
    assert df["prediction"].notna().all() and "target" in df
    # h3k27ac and Hi-C came from seq2exp.toml, as the docs say
    assert "power-law" not in r.stderr


def test_bare_call_elements_on_the_example():
    r = _seq2exp("call-elements")
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    assert lines and all(len(l.split("\t")) == 10 for l in lines)


def test_tampered_weights_are_refused(tmp_path):
    bad = tmp_path / "w"
    shutil.copytree(WEIGHTS, bad)
    blob = bytearray((bad / "model.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (bad / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(Seq2ExpError, match="sha256"):
        load_model(bad, device="cpu")
    r = subprocess.run([sys.executable, "-m", "seq2exp_cli", "predict", "--model", str(bad)],
                       cwd=EXAMPLE, capture_output=True, text=True)
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
