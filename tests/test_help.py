"""Help for people: every subcommand's ``--help`` shows examples, real metavars (no
``<bool>``/``<path>``), a description on every option and, where inputs are read, the
flag > environment > seq2exp.toml rule; ``-v`` adds debug messages and ``-vv`` times and
module names.  Each input found in the environment or seq2exp.toml is named once.
"""

from __future__ import annotations

import re

import pytest

from seq2exp_cli.cli import COMMANDS, app

NAMES = [name for name, _ in COMMANDS]
TYPE_TOKEN = re.compile(r"<(bool|int|float|str|path|text|list\[[a-z]+\])>", re.I)


def _help(cli, *args) -> str:
    r = cli(*args, "--help", terminal_width=120)
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.mark.parametrize("name", NAMES)
def test_every_subcommand_help_has_examples_and_metavars(cli, name):
    text = _help(cli, name)
    assert "Examples" in text
    assert f"seq2exp {name}" in text.split("Examples", 1)[1], "no example of the command itself"
    assert not TYPE_TOKEN.search(text), TYPE_TOKEN.search(text).group(0)
    assert "{" not in text.split("\n", 3)[1], "a positional argument shown as {name}"


def test_top_level_help_has_no_type_tokens(cli):
    text = _help(cli)
    assert not TYPE_TOKEN.search(text) and "Examples" in text and "SEQ2EXP_PROGRESS" in text


def test_every_option_has_a_description():
    import typer

    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        for p in cmd.params:
            if getattr(p, "hidden", False) or p.param_type_name != "option":
                continue
            assert (p.help or "").strip(), f"seq2exp {name} {p.opts[0]} has no description"


@pytest.mark.parametrize("name", ["predict", "call-elements", "plot-locus", "preprocess",
                                  "compare-peaks", "igv", "call-links"])
def test_input_rule_is_stated(cli, name):
    text = " ".join(_help(cli, name).split())
    assert "flag > environment > seq2exp.toml" in text
    assert "SEQ2EXP_FASTA" in text


def test_verbosity_levels_and_sources_named_once(tmp_path, seq2exp):
    """In a folder whose seq2exp.toml names the inputs (written by simulate), plain runs say
    where each input came from once; -v adds the debug lines; -vv stamps time and module."""
    r = seq2exp("simulate", tmp_path / "sim", "--size", "ci", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "seq2exp.toml" in r.stderr and (tmp_path / "sim" / "seq2exp.toml").is_file()
    sim = tmp_path / "sim"
    args = ["compare-peaks", "--peaks", "truth_elements.bed", "--split", "all"]
    plain = seq2exp(*args, cwd=sim)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stderr.splitlines()
    assert lines.count("seq2exp: using --genes genes.tsv from ./seq2exp.toml") == 1, lines
    assert not any("DEBUG" in ln for ln in lines)
    env = seq2exp(*args, cwd=sim, env={"SEQ2EXP_GENES": str(sim / "genes.gtf")})
    assert f"seq2exp: using --genes {sim / 'genes.gtf'} from $SEQ2EXP_GENES" in env.stderr
    flag = seq2exp(*args, "--genes", "genes.gtf", cwd=sim)
    assert "using --genes" not in flag.stderr
    vv = seq2exp("-vv", *args, cwd=sim)
    assert re.search(r"^seq2exp \d\d:\d\d:\d\d seq2exp_cli\.cli INFO: using --genes",
                     vv.stderr, re.M), vv.stderr
