"""seq2exp's Snakemake workflow: many cell types, one sample sheet, any cluster.

The rules are in the ``Snakefile`` shipped in this package (:func:`snakefile`);
:func:`init_workflow` (``seq2exp workflow init DIR``) writes a folder to run them from:
``config.yaml`` (:mod:`.config`), ``samples.tsv`` (:mod:`.samples`), a ``Snakefile`` that
includes the packaged one, and profiles for a local machine and for SLURM.  Snakemake
(``pip install 'seq2exp[workflow]'``) schedules the jobs; each job is one seq2exp command
(:mod:`.commands`), and the last writes a summary over the samples (:mod:`.summary`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import Seq2ExpError

_FILES = Path(__file__).resolve().parent / "files"
#: what ``seq2exp workflow init`` writes, relative to the folder
INIT_FILES = ("config.yaml", "samples.tsv", "Snakefile", "profiles/local/config.yaml",
              "profiles/slurm/config.yaml")


def snakefile() -> str:
    """Absolute path of the packaged Snakefile (for ``include:`` or ``snakemake -s``)."""
    return str(Path(__file__).resolve().parent / "Snakefile")


def init_workflow(folder: str | os.PathLike, force: bool = False) -> list[Path]:
    """Write a workflow folder: config.yaml, samples.tsv, Snakefile, profiles/.

    Parameters
    ----------
    folder:
        Created when missing.
    force:
        Replace files that exist; otherwise an existing file is an error (nothing written).

    Returns
    -------
    The files written.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise Seq2ExpError(f"{folder}: exists and is not a folder; choose another DIR")
    targets = [folder / f for f in INIT_FILES]
    present = [t for t in targets if t.exists()]
    if present and not force:
        raise Seq2ExpError(f"{present[0]}: exists; pass --force to replace the workflow files "
                           "(results are kept) or choose another DIR")
    from ..io.atomic import atomic_path

    for rel, dst in zip(INIT_FILES, targets):
        with atomic_path(dst) as tmp:
            shutil.copyfile(_FILES / rel, tmp)
    return targets
