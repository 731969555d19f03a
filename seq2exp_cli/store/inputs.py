"""Open the raw inputs once: genome, gene table (+ targets, split), tracks, Hi-C, blacklist.

Shared by :func:`~seq2exp_cli.store.preprocess` (which writes a store) and
:class:`~seq2exp_cli.store.live.FileWindows` (which reads windows straight from the files).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, Seq2ExpError
from . import layout

log = logging.getLogger(__name__)

@dataclass
class Inputs:
    """Opened inputs.  ``genes`` has gene_id, name, chrom, tss, strand, target_raw, target,
    split, has_target and one column per feature."""

    genome: Any
    genes: pd.DataFrame
    feature_names: list[str]
    tracks: dict[str, Any]
    contacts: Any | None
    blacklist: pd.DataFrame | None
    paths: dict[str, Path] = field(default_factory=dict)

    def close(self) -> None:
        for t in self.tracks.values():
            t.close()


def _check_exists(path, flag: str) -> None:
    if path is not None and not Path(path).exists():
        raise InputError(f"{path}: file not found (given as {flag}); check the path")


def open_inputs(
    fasta: str | Path,
    genes: str | Path,
    tracks: Mapping[str, str | Path],
    hic: str | Path | None = None,
    targets: str | Path | None = None,
    blacklist: str | Path | None = None,
    resolution: int = 5000,
    normalization: str = "VC",
    val_chroms: Sequence[str] = layout.DEFAULT_VAL_CHROMS,
    test_chroms: Sequence[str] = layout.DEFAULT_TEST_CHROMS,
    quiet: bool = False,
) -> Inputs:
    """Validate and open every input; raise :class:`InputError` naming the bad file."""
    from ..io.bed import read_blacklist
    from ..io.bigwig import BigWigTrack
    from ..io.fasta import Genome
    from ..io.genes import read_genes
    from ..io.hic import open_contacts
    from ..io.targets import read_targets, transform_target

    if not tracks:
        raise Seq2ExpError("no signal tracks given; pass at least --dnase or --track NAME=FILE")
    for name in tracks:
        if name == layout.CONTACT_TRACK:
            raise Seq2ExpError(f"--track {name}=...: the name '{name}' is reserved for Hi-C")
    _check_exists(fasta, "--fasta")
    _check_exists(genes, "--genes")
    for name, p in tracks.items():
        _check_exists(p, f"--track {name}")
    _check_exists(hic, "--hic")
    _check_exists(targets, "--targets")
    _check_exists(blacklist, "--blacklist")

    genome = Genome(fasta)
    chroms = genome.chroms
    gdf = read_genes(genes, chroms).reset_index(drop=True)
    log.info("read %d genes from %s", len(gdf), genes)
    gdf["target_raw"] = np.nan
    feature_cols: list[str] = []
    if targets is not None:
        tdf = read_targets(targets, list(gdf["gene_id"]))
        feature_cols = [c for c in tdf.columns if c not in ("gene_id", "value")]
        tdf = tdf.set_index("gene_id")
        gdf["target_raw"] = gdf["gene_id"].map(tdf["value"]).astype(float)
        for c in feature_cols:
            gdf[c] = gdf["gene_id"].map(tdf[c]).astype(float)
        n_missing = int(gdf["target_raw"].isna().sum())
        if n_missing and not quiet:
            print(
                f"seq2exp: {n_missing} of {len(gdf)} genes have no target in {targets}; "
                "they are kept for prediction and left out of training and evaluation",
                file=sys.stderr,
            )
    gdf["target"] = transform_target(gdf["target_raw"].to_numpy(dtype=float))
    gdf["has_target"] = gdf["target_raw"].notna()
    gdf["split"] = layout.assign_split(gdf["chrom"].tolist(), val_chroms, test_chroms, chroms.get)

    opened = {name: BigWigTrack(p, chroms, name=name) for name, p in tracks.items()}
    source = None
    if hic is not None:
        source = open_contacts(hic, resolution=resolution, normalization=normalization, chroms=chroms)
    elif not quiet:
        print(
            "seq2exp: no Hi-C given; using the ABC power-law contact fallback "
            "exp(5.96 - 1.024 ln(d+1))",
            file=sys.stderr,
        )
    bl = read_blacklist(blacklist, chroms) if blacklist is not None else None
    paths = {"fasta": Path(fasta), "genes": Path(genes)}
    paths.update({f"track:{k}": Path(v) for k, v in tracks.items()})
    for role, p in (("hic", hic), ("targets", targets), ("blacklist", blacklist)):
        if p is not None:
            paths[role] = Path(p)
    return Inputs(genome, gdf, feature_cols, opened, source, bl, paths)


def blacklist_intervals(bl: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """chrom -> sorted (n, 2) int64 array of [start, end) intervals."""
    out: dict[str, np.ndarray] = {}
    if bl is None or not len(bl):
        return out
    for chrom, sub in bl.groupby("chrom"):
        arr = sub[["start", "end"]].to_numpy(dtype=np.int64)
        out[str(chrom)] = arr[np.argsort(arr[:, 0], kind="mergesort")]
    return out
