"""One CLI vocabulary: ``--version``, ``-o/--output`` everywhere (``preprocess -o STORE``),
blocked output paths and bad ``--set`` values as one-line errors with exit code 2, and the
input precedence flag > environment > seq2exp.toml.

Inputs: the hand-made files of _fixtures.py (tiny genome, four genes) and, for the
precedence, the bundled model on the bundled example (one gene predicted).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from seq2exp_cli import __version__
from seq2exp_cli.store import Store

from _fixtures import RES, W, make_tiny_inputs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d, _, _ = make_tiny_inputs(tmp_path_factory.mktemp("cli"))
    return d


def _files(d: Path) -> list:
    return ["--fasta", d / "genome.fa", "--genes", d / "genes.tsv", "--dnase", d / "dnase.bw",
            "--targets", d / "targets.tsv", "--window", W, "--resolution", RES]


def _one_line_error(r, *needles: str) -> str:
    """The single ``seq2exp: error`` line of a failed run (exit code 2, no traceback)."""
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seq2exp: error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def test_version(seq2exp):
    r = seq2exp("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"seq2exp {__version__}"


def test_preprocess_output_option_equals_positional(inputs, tmp_path, cli):
    cli("preprocess", tmp_path / "pos", *_files(inputs), check=True)
    cli("preprocess", "-o", tmp_path / "opt", *_files(inputs), check=True)
    a, b = Store(tmp_path / "pos"), Store(tmp_path / "opt")
    assert a.genes.equals(b.genes) and a.signal_names == b.signal_names
    for i in range(len(a)):
        np.testing.assert_array_equal(a.window(i).signals, b.window(i).signals)
    r = cli("preprocess", tmp_path / "x", "-o", tmp_path / "y", *_files(inputs))
    assert r.exit_code != 0 and "given twice" in str(r.exception)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_preprocess_into_a_path_under_a_file(inputs, tmp_path, seq2exp):
    (tmp_path / "plain.txt").write_text("not a folder\n")
    for args in (["preprocess", tmp_path / "plain.txt" / "store"],
                 ["preprocess", "-o", tmp_path / "plain.txt" / "store"]):
        r = seq2exp(*args, *_files(inputs))
        _one_line_error(r, "plain.txt", "is a file")
    assert (tmp_path / "plain.txt").read_text() == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt"]


def test_output_in_an_unwritable_folder(inputs, tmp_path, seq2exp):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        r = seq2exp("preprocess", "-o", ro / "store", *_files(inputs))
        _one_line_error(r, str(ro), "not writable")
    finally:
        ro.chmod(0o755)


def test_blocked_output_of_a_model_command(tmp_path, seq2exp):
    (tmp_path / "f").write_text("x")
    r = seq2exp("predict", "-o", tmp_path / "f" / "pred.tsv", "--gene", "SIMG000001", cwd=EXAMPLE)
    _one_line_error(r, "pred.tsv", "is a file", "-o")
    r = seq2exp("call-elements", "--bigwig", tmp_path / "f" / "m.bw", cwd=EXAMPLE)
    _one_line_error(r, "m.bw", "--bigwig")


@pytest.fixture(scope="module")
def store(inputs, tmp_path_factory):
    from seq2exp_cli.store import preprocess

    out = tmp_path_factory.mktemp("st") / "store"
    preprocess(out, fasta=inputs / "genome.fa", genes=inputs / "genes.tsv",
               tracks={"dnase": inputs / "dnase.bw"}, targets=inputs / "targets.tsv",
               window_bp=W, resolution=RES, show_progress=False)
    return out


@pytest.mark.parametrize("setting, needles", [
    ("compact=no", ("compact", "true or false")),
    ("d_model=wide", ("d_model", "whole number")),
    ("no_such_field=1", ("no_such_field", "unknown config field")),
    ("n_elements=8", ("n_elements", "has no field")),  # EPInformer's / ABC's, not Seq2Exp's
    ("d_model", ("FIELD=VALUE",)),
])
def test_bad_set_is_one_line_error(store, tmp_path, seq2exp, setting, needles):
    r = seq2exp("train", store, "-o", tmp_path / "run", "--model", "seq2exp", "--set", setting,
                "--device", "cpu")
    _one_line_error(r, *needles)
    assert not (tmp_path / "run").exists()


def test_set_values_are_typed(store, tmp_path):
    from seq2exp_cli.models.build import build_configs

    mc, tc = build_configs("seq2exp", "cpu", overrides={
        "compact": "false", "d_model": "16", "kl_weight": "0.5", "signal_names": "dnase,contact",
        "signal_weights": "[0.5, 0.5]", "signal_betas": "0.2,1", "lr": "1e-3"})
    assert mc.compact is False and mc.d_model == 16 and mc.kl_weight == 0.5 and tc.lr == 1e-3
    assert mc.signal_names == ("dnase", "contact") and mc.signal_weights == (0.5, 0.5)
    assert mc.signal_betas == (0.2, 1.0)
    mc, _ = build_configs("seq2exp", "cpu", overrides={"compact": "TRUE"})
    assert mc.compact is True


def test_build_rules(store):
    """The rules of one place: warm-up from steps, reference signal constants, the flags
    win over --set for seed/steps, --set wins over the derived defaults."""
    from seq2exp_cli.models.build import build_configs

    mc, tc = build_configs("seq2exp-hard", "cpu", signal_names=["h3k27ac", "atac", "x"],
                           n_gene_features=3, seed=4, steps=200, overrides={"seed": "9"})
    assert (tc.seed, tc.steps, tc.warmup) == (4, 200, 20)
    assert mc.variant == "hard" and mc.n_gene_features == 3
    assert mc.signal_weights == (0.4, 0.4, 0.4) and mc.signal_betas == (1.5, 0.2, 0.2)
    mc, tc = build_configs("seq2exp", "cpu", steps=200, n_gene_features=3,
                           overrides={"warmup": "7", "n_gene_features": "0"})
    assert tc.warmup == 7 and mc.n_gene_features == 0
    abc, tc = build_configs("abc", "cpu", signal_names=["dnase", "contact"], steps=10,
                            overrides={"n_elements": 8}, shared_with=["seq2exp-soft"])
    assert abc.n_elements == 8 and abc.signal_names == ("dnase", "contact") and tc.steps == 10


# ----------------------------------------------------------------- input precedence
def test_find_input_flag_then_environment_then_toml(tmp_path, monkeypatch):
    from seq2exp_cli.cli import resolve

    for name in ("flag.fa", "env.fa", "toml.fa"):
        (tmp_path / name).write_text(">c\nA\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "seq2exp.toml").write_text('[inputs]\nfasta = "toml.fa"\n')
    monkeypatch.chdir(tmp_path / "sub")  # the config is found in a parent
    resolve._config.cache_clear()
    monkeypatch.delenv("SEQ2EXP_FASTA", raising=False)
    assert resolve.find_input("fasta", None) == tmp_path / "toml.fa"
    monkeypatch.setenv("SEQ2EXP_FASTA", str(tmp_path / "env.fa"))
    assert resolve.find_input("fasta", None) == tmp_path / "env.fa"
    assert resolve.find_input("fasta", tmp_path / "flag.fa") == tmp_path / "flag.fa"
    assert resolve.find_input("genes", None) is None
    resolve._config.cache_clear()


def test_model_precedence_through_the_command(tmp_path, seq2exp):
    """``--model`` beats ``$SEQ2EXP_MODEL``, which beats ``model =`` in seq2exp.toml."""
    weights = ROOT / "weights"
    toml = "[inputs]\n" + "".join(f'{k} = "{EXAMPLE / v}"\n' for k, v in (
        ("fasta", "genome.fa"), ("genes", "genes.tsv"), ("dnase", "dnase.bw"),
        ("h3k27ac", "h3k27ac.bw"), ("hic", "contacts.hic")))
    (tmp_path / "seq2exp.toml").write_text(toml + 'model = "no_such_run"\n')
    one = ["predict", "--gene", "SIMG000001", "--device", "cpu"]
    r = seq2exp(*one, cwd=tmp_path)  # the toml's model: a missing folder, named
    _one_line_error(r, "seq2exp.toml", "no_such_run")
    r = seq2exp(*one, cwd=tmp_path, env={"SEQ2EXP_MODEL": str(weights)})
    assert r.returncode == 0 and "SIMG000001" in r.stdout, r.stderr
    r = seq2exp(*one, "--model", weights, cwd=tmp_path,
                env={"SEQ2EXP_MODEL": str(tmp_path / "missing")})
    assert r.returncode == 0 and "SIMG000001" in r.stdout, r.stderr
    r = seq2exp(*one, cwd=tmp_path, env={"SEQ2EXP_MODEL": str(tmp_path / "missing")})
    _one_line_error(r, "SEQ2EXP_MODEL")
