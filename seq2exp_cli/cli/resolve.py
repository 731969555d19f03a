"""Find inputs a command was not given: flag, then environment, then project config.

The project config is ``seq2exp.toml`` in the working directory or one of its parents::

    [inputs]
    fasta = "genome.fa"
    genes = "genes.tsv"
    dnase = "dnase.bw"
    h3k27ac = "h3k27ac.bw"
    hic = "contacts.hic"
    targets = "cage.tsv"
    blacklist = "blacklist.bed"
    model = "../weights"

Relative paths are relative to the config file.  Environment variables
``SEQ2EXP_<NAME>`` (e.g. ``SEQ2EXP_FASTA``) override the config.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from ..errors import Seq2ExpError

CONFIG_NAME = "seq2exp.toml"


@lru_cache(maxsize=8)
def _config(cwd: str) -> tuple[Path | None, dict]:
    d = Path(cwd).resolve()
    for folder in (d, *d.parents):
        p = folder / CONFIG_NAME
        if p.is_file():
            try:
                data = tomllib.loads(p.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise Seq2ExpError(f"{p}: not valid TOML ({exc}); fix or remove it") from None
            return p, data.get("inputs", {})
    return None, {}


def find_input(name: str, given: str | os.PathLike | None) -> Path | None:
    """Return the path for input ``name``: ``given``, else ``$SEQ2EXP_<NAME>``, else the config."""
    if given is not None:
        return Path(given)
    env = os.environ.get(f"SEQ2EXP_{name.upper()}")
    if env:
        p = Path(env)
        if not p.exists():
            raise Seq2ExpError(f"{p}: file not found (from SEQ2EXP_{name.upper()}); fix the variable")
        return p
    cfg_path, cfg = _config(os.getcwd())
    if name in cfg:
        p = Path(cfg[name])
        if not p.is_absolute():
            p = cfg_path.parent / p
        if not p.exists():
            raise Seq2ExpError(f"{cfg_path}: '{name} = {cfg[name]}' points to a missing file; fix it")
        return p
    return None


def resolve_fasta(given: str | os.PathLike | None) -> Path:
    """Return the genome FASTA or a clear error saying the three ways to give it."""
    p = find_input("fasta", given)
    if p is None:
        raise Seq2ExpError(
            "no genome FASTA: pass --fasta genome.fa, set SEQ2EXP_FASTA, or add "
            f"'fasta = ...' under [inputs] in {CONFIG_NAME}"
        )
    return p
