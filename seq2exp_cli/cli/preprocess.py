"""``seq2exp preprocess STORE`` (or ``-o STORE``): raw inputs -> dataset store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import Seq2ExpError
from ..store.layout import DEFAULT_TEST_CHROMS, DEFAULT_VAL_CHROMS
from .options import (FILE_OPTIONS, InputOptions, WindowOpt, collect_tracks, input_options,
                      output_option, parse_chroms, writable_output)
from .resolve import resolve_fasta


@input_options(FILE_OPTIONS)
def main(
    inputs: InputOptions,
    out: Annotated[Optional[Path], typer.Argument(help="Store directory to create (or give -o).",
                                                  callback=writable_output, show_default=False)] = None,
    output: Annotated[Optional[Path], output_option("Store directory to create.")] = None,
    window: WindowOpt = 200_000,
    val_chroms: Annotated[str, typer.Option(help="Validation chromosomes, comma-separated.")] = ",".join(DEFAULT_VAL_CHROMS),
    test_chroms: Annotated[str, typer.Option(help="Test chromosomes, comma-separated.")] = ",".join(DEFAULT_TEST_CHROMS),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store.")] = False,
    no_checksums: Annotated[bool, typer.Option("--no-checksums", help="Skip sha256 of inputs.")] = False,
) -> None:
    """Read FASTA, genes, bigWigs, Hi-C and targets once; write a dataset store."""
    from ..store import preprocess

    if out is not None and output is not None and out != output:
        raise Seq2ExpError(f"store given twice ({out} and -o {output}); give one")
    out = out if out is not None else output
    if out is None:
        raise Seq2ExpError("no store to write: give STORE or -o STORE")
    if inputs.genes is None:
        raise Seq2ExpError("--genes is required (TSV, BED6 or GTF/GFF3 of genes/TSSs)")
    path = preprocess(
        out, fasta=resolve_fasta(inputs.fasta), genes=inputs.genes,
        tracks=collect_tracks(inputs.dnase, inputs.h3k27ac, inputs.track), hic=inputs.hic,
        targets=inputs.targets, blacklist=inputs.blacklist, window_bp=window,
        resolution=inputs.resolution, normalization=inputs.normalization,
        val_chroms=parse_chroms(val_chroms), test_chroms=parse_chroms(test_chroms),
        overwrite=force, checksums=not no_checksums,
    )
    print(f"seq2exp: wrote store {path}", file=sys.stderr)
