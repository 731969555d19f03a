"""The workflow's sample sheet: one cell type (biosample) per row, checked before any job.

A tab-separated file with a header.  Required columns, in any order:

=========  ==================================================================
sample     name used for the output folder (letters, digits, ``.``, ``_``, ``-``)
fasta      genome FASTA
genes      gene table: TSV, BED6 or GTF/GFF3
dnase      DNase-seq (or ATAC) bigWig
h3k27ac    H3K27ac bigWig
hic        Hi-C: ``.hic``, ``.cool`` or ``.mcool`` (empty: ABC's power law)
targets    measured expression TSV (empty: no evaluation, no training)
model      ``bundled``, a run or checkpoint folder, or ``train``
=========  ==================================================================

Optional columns: ``blacklist`` (BED), ``peaks`` (narrowPeak to compare with instead of
calling MACS3 on the DNase), ``truth`` (planted or validated elements, BED, for
``compare-peaks --truth``), ``crispri`` (CRISPRi table, ENCODE layout) and ``gpus`` (GPUs
for ``train``; 0 or empty: the CPU).  An empty cell, ``-`` or ``NA`` means "not given"
(empty cells at the end of a row may be left out).
Relative paths are read from the sample sheet's folder.  Every problem is one
:class:`~seq2exp_cli.errors.InputError` naming the file and line and saying what to fix.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

REQUIRED = ("sample", "fasta", "genes", "dnase", "h3k27ac", "hic", "targets", "model")
OPTIONAL = ("blacklist", "peaks", "truth", "crispri", "gpus")
#: columns that name input files
FILE_COLUMNS = ("fasta", "genes", "dnase", "h3k27ac", "hic", "targets", "blacklist", "peaks",
                "truth", "crispri")
EMPTY = {"", "-", "na", "none"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Sample:
    """One row of the sample sheet, with absolute paths (None = not given).

    ``model`` is ``"bundled"``, ``"train"`` or ``"path"``; ``model_dir`` is the checkpoint
    folder (config.json + model.safetensors) for ``bundled`` and ``path``, else None, and
    ``readout`` that model's readout (``"additive"`` scores element-gene links).
    """

    name: str
    fasta: Path
    genes: Path
    dnase: Path | None
    h3k27ac: Path | None
    hic: Path | None
    targets: Path | None
    model: str
    model_dir: Path | None
    blacklist: Path | None = None
    peaks: Path | None = None
    truth: Path | None = None
    crispri: Path | None = None
    gpus: int = 0
    line: int = 0
    readout: str | None = None

    @property
    def trains(self) -> bool:
        """True when the workflow trains this sample's model."""
        return self.model == "train"

    def tracks(self) -> dict[str, Path]:
        """Return the bigWig tracks given, in the reference's order (H3K27ac, DNase)."""
        return {k: v for k, v in (("h3k27ac", self.h3k27ac), ("dnase", self.dnase)) if v}


def _model_config(model_dir: Path) -> dict:
    """Read the ``model_config`` of a saved model's config.json ({} when unreadable)."""
    try:
        cfg = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return dict(cfg.get("model_config") or cfg)


def bundled_model_dir() -> Path | None:
    """Find the bundled model's folder, or None.

    The search of :func:`seq2exp_cli.models.checkpoint.bundled_weights` (``weights/`` in the
    package or the repository), without importing torch, so that Snakemake parses the workflow in a
    second.
    """
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "weights", here.parent / "weights"):
        if (cand / "config.json").exists():
            return cand
    return None


def checkpoint_dir(path: Path) -> Path | None:
    """Find the checkpoint folder of a run or checkpoint path, or None.

    As :func:`seq2exp_cli.models.checkpoint.find_model_dir` does: the folder itself,
    ``best/``, then ``last/``.
    """
    for cand in (path, path / "best", path / "last"):
        if (cand / "config.json").exists() and (cand / "model.safetensors").exists():
            return cand
    return None


def _resolve_model(value: str, base: Path, where: str) -> tuple[str, Path | None]:
    low = value.lower()
    if low == "train":
        return "train", None
    if low == "bundled":
        found = bundled_model_dir()
        ckpt = checkpoint_dir(found) if found is not None else None
        if ckpt is None:
            raise InputError(f"{where}: model 'bundled': no bundled model in this installation "
                             "(weights/ is missing); give a run folder or 'train'")
        return "bundled", ckpt
    path = Path(value) if Path(value).is_absolute() else base / value
    if not path.exists():
        raise InputError(f"{where}: model '{value}' not found; give 'bundled', 'train' or a "
                         "run folder from `seq2exp train`")
    ckpt = checkpoint_dir(path.resolve())
    if ckpt is None:
        raise InputError(f"{where}: model '{value}' is not a seq2exp model (no config.json + "
                         "model.safetensors, nor best/ or last/ with them); give a run folder "
                         "from `seq2exp train`")
    return "path", ckpt


def read_samples(path: str | os.PathLike, check_files: bool = True) -> list[Sample]:
    """Read and check a sample sheet.

    Parameters
    ----------
    path:
        The TSV (header + one row per sample).
    check_files:
        Check that every named file exists.

    Returns
    -------
    list of :class:`Sample`, in the sheet's order.

    Raises
    ------
    InputError
        One line naming the file, the line and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: sample sheet not found; write one with "
                         "`seq2exp workflow init DIR` or set `samples:` in config.yaml")
    base = path.resolve().parent
    rows = [(i, line.rstrip("\r\n")) for i, line in enumerate(path.read_text().splitlines(), 1)]
    rows = [(i, x) for i, x in rows if x.strip() and not x.lstrip().startswith("#")]
    if not rows:
        raise InputError(f"{path}: empty sample sheet; the header must be: {chr(9).join(REQUIRED)}")
    head_line, header = rows[0][0], [h.strip().lower() for h in rows[0][1].split("\t")]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{path}: line {head_line}: missing column '{missing[0]}'; the header "
                         f"needs {', '.join(REQUIRED)} (tab-separated)")
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputError(f"{path}: line {head_line}: unknown column '{unknown[0]}'; columns are "
                         f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}")
    dup = [c for c in header if header.count(c) > 1]
    if dup:
        raise InputError(f"{path}: line {head_line}: column '{dup[0]}' given twice; keep one")
    if len(rows) == 1:
        raise InputError(f"{path}: no samples below the header; add one row per sample")
    out: list[Sample] = []
    seen: dict[str, int] = {}
    for n, text in rows[1:]:
        where = f"{path}: line {n}"
        cells = text.split("\t")
        if len(cells) > len(header):
            raise InputError(f"{where}: {len(cells)} tab-separated fields, the header has "
                             f"{len(header)}; separate columns with one tab each")
        cells += [""] * (len(header) - len(cells))  # trailing empty cells may be left out
        row = {h: c.strip() for h, c in zip(header, cells)}
        out.append(_sample(row, base, where, n, check_files, seen))
    return out


def _sample(row: dict[str, str], base: Path, where: str, n: int, check_files: bool,
            seen: dict[str, int]) -> Sample:
    name = row["sample"]
    if not _NAME.match(name):
        raise InputError(f"{where}: sample name '{name}' is not usable as a folder name; use "
                         "letters, digits, '.', '_' and '-' only")
    if name in seen:
        raise InputError(f"{where}: sample '{name}' already on line {seen[name]}; give each "
                         "sample its own name")
    seen[name] = n
    files: dict[str, Path | None] = {}
    for col in FILE_COLUMNS:
        value = row.get(col, "")
        if value.lower() in EMPTY:
            files[col] = None
            continue
        p = Path(value) if Path(value).is_absolute() else base / value
        if check_files and not p.exists():
            raise InputError(f"{where}: {col} '{value}' not found; fix the path (relative "
                             f"paths are read from {base})")
        files[col] = p.resolve() if p.exists() else p
    for col in ("fasta", "genes"):
        if files[col] is None:
            raise InputError(f"{where}: the {col} column is empty; every sample needs a {col}")
    if files["dnase"] is None and files["h3k27ac"] is None:
        raise InputError(f"{where}: neither dnase nor h3k27ac given; give at least one bigWig")
    value = row["model"]
    if value.lower() in EMPTY:
        raise InputError(f"{where}: the model column is empty; give 'bundled', 'train' or a "
                         "run folder")
    model, model_dir = _resolve_model(value, base, where)
    if model == "train" and files["targets"] is None:
        raise InputError(f"{where}: model 'train' needs targets; fill the targets column or "
                         "use model 'bundled'")
    mcfg = _model_config(model_dir) if model_dir is not None else {}
    if model_dir is not None:
        for sig in mcfg.get("signal_names") or []:
            if sig != "contact" and sig in ("dnase", "h3k27ac") and files[sig] is None:
                raise InputError(f"{where}: model '{value}' reads the {sig} track; fill the "
                                 f"{sig} column or train a model on this sample's tracks")
    gpus_text = row.get("gpus", "")
    try:
        gpus = 0 if gpus_text.lower() in EMPTY else int(gpus_text)
    except ValueError:
        gpus = -1
    if gpus < 0:
        raise InputError(f"{where}: gpus '{gpus_text}' is not a whole number >= 0; give e.g. "
                         "0 (CPU), 1 or 4")
    if gpus and model != "train":
        raise InputError(f"{where}: gpus is {gpus} but model is '{value}'; GPUs are used by "
                         "train only, set gpus to 0 or model to train")
    return Sample(name=name, model=model, model_dir=model_dir, gpus=gpus, line=n,
                  readout=mcfg.get("readout"), **files)
