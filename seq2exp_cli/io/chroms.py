"""Chromosome names and their aliases, resolved once for every input.

The FASTA (or a chromosome-sizes table) defines the canonical names.  Other inputs may
use ``chr1`` or ``1``, ``chrM``/``chrMT``/``M``/``MT``; :class:`ChromNames` maps each of
them to the canonical name, or raises an :class:`~seq2exp_cli.errors.InputError` naming
the file and the fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from ..errors import InputError


def _variants(name: str) -> list[str]:
    """All spellings that refer to the same chromosome as ``name``."""
    base = name[3:] if name.lower().startswith("chr") else name
    bases = {base}
    if base.upper() in ("M", "MT"):
        bases |= {"M", "MT"}
    out = []
    for b in bases:
        out += [b, "chr" + b]
    return out


class ChromNames:
    """Canonical chromosome names and sizes with alias resolution.

    Parameters
    ----------
    sizes:
        Mapping of canonical chromosome name to length in bp (insertion order is kept).
    """

    def __init__(self, sizes: Mapping[str, int]):
        self.sizes: dict[str, int] = {str(k): int(v) for k, v in sizes.items()}
        self._alias: dict[str, str] = {}
        for name in self.sizes:
            self._alias[name] = name
        for name in self.sizes:
            for v in _variants(name):
                self._alias.setdefault(v, name)

    @property
    def names(self) -> list[str]:
        """Return the canonical chromosome names, in genome order."""
        return list(self.sizes)

    def get(self, name: str) -> str | None:
        """Return the canonical name for ``name``, or ``None`` when it matches nothing."""
        return self._alias.get(str(name))

    def resolve(self, name: str, source: str = "input", what: str = "") -> str:
        """Return the canonical name for ``name``; raise :class:`InputError` naming ``source``."""
        canon = self.get(name)
        if canon is None:
            shown = ", ".join(self.names[:6]) + (" ..." if len(self.names) > 6 else "")
            where = f" ({what})" if what else ""
            raise InputError(
                f"{source}: chromosome '{name}'{where} matches no chromosome of the genome "
                f"({shown}) nor an alias (chr1/1, chrM/MT); rename it or use the matching genome"
            )
        return canon

    def map_names(self, names: Iterable[str], source: str) -> dict[str, str]:
        """Map each name of another file to a canonical name.

        Names matching nothing are left out.  Raise when *none* match (wrong genome or
        naming scheme).
        """
        names = list(names)
        out = {n: self.get(n) for n in names}
        out = {k: v for k, v in out.items() if v is not None}
        if names and not out:
            raise InputError(
                f"{source}: none of its chromosomes ({', '.join(names[:4])}...) match the "
                f"genome's ({', '.join(self.names[:4])}...); check the genome build / naming"
            )
        return out

    def __contains__(self, name: str) -> bool:
        """Tell whether ``name`` (or an alias of it) is a known chromosome."""
        return self.get(name) is not None

    def __len__(self) -> int:
        """Return the number of chromosomes."""
        return len(self.sizes)


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Read a two-column ``chrom<TAB>size`` file (UCSC ``chrom.sizes``, or a FASTA ``.fai``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: chromosome sizes file not found")
    df = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1], dtype={0: str},
                     comment="#")
    if df.empty or not pd.api.types.is_integer_dtype(df[1]):
        raise InputError(f"{path}: expected 'chrom<TAB>size' lines (a chrom.sizes file)")
    return dict(zip(df[0], df[1].astype(int)))
