"""``seq2exp preprocess``: raw inputs -> dataset store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import Seq2ExpError
from ..store import preprocess as run_preprocess
from ..store.layout import DEFAULT_TEST_CHROMS, DEFAULT_VAL_CHROMS
from .options import (
    BlacklistOpt, DnaseOpt, FastaOpt, GenesOpt, H3k27acOpt, HicOpt, NormOpt, ResolutionOpt,
    TargetsOpt, TrackOpt, WindowOpt, collect_tracks, parse_chroms,
)
from .resolve import resolve_fasta


def main(
    out: Annotated[Path, typer.Argument(help="Store directory to create.")],
    genes: GenesOpt = None,
    fasta: FastaOpt = None,
    dnase: DnaseOpt = None,
    h3k27ac: H3k27acOpt = None,
    track: TrackOpt = None,
    hic: HicOpt = None,
    targets: TargetsOpt = None,
    blacklist: BlacklistOpt = None,
    window: WindowOpt = 200_000,
    resolution: ResolutionOpt = 5000,
    normalization: NormOpt = "VC",
    val_chroms: Annotated[str, typer.Option(help="Validation chromosomes, comma-separated.")] = ",".join(DEFAULT_VAL_CHROMS),
    test_chroms: Annotated[str, typer.Option(help="Test chromosomes, comma-separated.")] = ",".join(DEFAULT_TEST_CHROMS),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store.")] = False,
    no_checksums: Annotated[bool, typer.Option("--no-checksums", help="Skip sha256 of inputs.")] = False,
) -> None:
    """Read FASTA, genes, bigWigs, Hi-C and targets once; write a dataset store."""
    if genes is None:
        raise Seq2ExpError("--genes is required (TSV, BED6 or GTF/GFF3 of genes/TSSs)")
    tracks = collect_tracks(dnase, h3k27ac, track)
    path = run_preprocess(
        out, fasta=resolve_fasta(fasta), genes=genes, tracks=tracks, hic=hic, targets=targets,
        blacklist=blacklist, window_bp=window, resolution=resolution,
        normalization=normalization.upper(), val_chroms=parse_chroms(val_chroms),
        test_chroms=parse_chroms(test_chroms), overwrite=force, checksums=not no_checksums,
    )
    print(f"seq2exp: wrote store {path}", file=sys.stderr)
