"""A synthetic cell type with known truth, written in the real formats.

``simulate(outdir, preset="ci", seed=0, **overrides)`` generates a genome (order-4 Markov
background from real human sequence, soft-masked repeats, N gaps), genes, enhancers carrying
real JASPAR 2024 motifs, motif-free decoys with enhancer-like DNase, CTCF-bounded domains and
loops, DNase/H3K27ac bigWigs, Hi-C (.hic and .cool), CAGE counts from an ABC-like model, and
the truth (elements, CRISPRi-style effects, noise ceiling).  Modules:

``config`` presets, ``sequence`` background, ``motifs`` JASPAR matrices, ``layout``
placement, ``elements`` motif planting, ``signals`` tracks, ``contacts`` Hi-C,
``expression`` CAGE and effects, ``generate`` the whole model in memory, ``write`` files.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import Seq2ExpError
from ..io.atomic import atomic_dir
from .config import PRESETS, SimConfig, make_config
from .generate import SimData, generate

__all__ = ["PRESETS", "SimConfig", "SimData", "SimResult", "generate", "make_config", "simulate"]


@dataclass
class SimResult:
    """What :func:`simulate` wrote.

    Attributes
    ----------
    outdir: the data set's folder.
    files: the written files (paths inside ``outdir``).
    summary: the ``truth.json`` summary (counts, noise ceiling, timings).
    data: the in-memory model (arrays and truth tables).
    """

    outdir: Path
    files: list[Path]
    summary: dict
    data: SimData | None = field(default=None, repr=False)


def simulate(
    outdir: str | os.PathLike,
    preset: str = "ci",
    seed: int = 0,
    force: bool = False,
    command: str | None = None,
    step: Callable[[str], None] | None = None,
    **overrides,
) -> SimResult:
    """Simulate a cell type and write it to ``outdir`` atomically.

    The data set is built in a temporary sibling folder and renamed onto ``outdir`` when
    complete.

    Parameters
    ----------
    outdir: output folder; must not exist (or be empty) unless ``force``.
    preset: ``ci`` (~3.5 Mb, ~35 genes), ``example`` (~5 Mb, ~50 genes) or ``train``
        (~60 Mb, ~600 genes).
    seed: master seed; the same seed gives identical data.
    force: replace an existing ``outdir``.
    command: the command line recorded in ``README.md`` / ``truth.json``.
    step: progress callback, called with a description before each stage.
    **overrides: :class:`SimConfig` fields.

    Raises
    ------
    Seq2ExpError
        If ``outdir`` exists (and is not an empty folder) without ``force``, or for an
        unknown preset / parameter.
    """
    outdir = Path(outdir)
    cfg = make_config(preset, **overrides)
    if outdir.exists() and not force:
        if not outdir.is_dir() or any(outdir.iterdir()):
            raise Seq2ExpError(f"{outdir} already exists; use --force to replace it")
    if command is None:
        extra = "".join(f" {k}={v}" for k, v in overrides.items())
        command = f"seq2exp simulate {outdir} --size {preset} --seed {seed}{extra}"
    t0 = time.perf_counter()
    data = generate(cfg, seed, step)
    from .write import write_all

    with atomic_dir(outdir, overwrite=True) as tmp:
        files = write_all(data, tmp, command, step)
    data.summary["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    files = [outdir / f.name for f in files]
    return SimResult(outdir, files, data.summary, data)
