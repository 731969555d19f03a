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
from .resolve import find_input, resolve_fasta

READS_INPUTS = True
EXAMPLES = """
seq2exp preprocess store/     # in a folder whose seq2exp.toml names the inputs
seq2exp preprocess store/ --fasta hg38.fa --genes gencode.gtf --dnase dnase.bw --h3k27ac h3k27ac.bw --hic k562.hic --targets cage.tsv
seq2exp preprocess -o store/ --window 100000 --val-chroms chr8 --test-chroms chr9 --force
"""


@input_options(FILE_OPTIONS)
def main(
    inputs: InputOptions,
    out: Annotated[Optional[Path], typer.Argument(help="Store directory to create (or give -o).",
                                                  callback=writable_output, show_default=False,
                                                  metavar="STORE")] = None,
    output: Annotated[Optional[Path], output_option("Store directory to create.",
                                                    metavar="STORE")] = None,
    window: WindowOpt = 200_000,
    val_chroms: Annotated[str, typer.Option(help="Validation chromosomes, comma-separated.",
                                            metavar="CHROMS")] = ",".join(DEFAULT_VAL_CHROMS),
    test_chroms: Annotated[str, typer.Option(help="Test chromosomes, comma-separated.",
                                             metavar="CHROMS")] = ",".join(DEFAULT_TEST_CHROMS),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store.")] = False,
    no_checksums: Annotated[bool, typer.Option("--no-checksums", help="Skip the sha256 of the "
                                               "inputs recorded in the manifest.")] = False,
) -> None:
    """Read FASTA, genes, bigWigs, Hi-C and targets once; write a dataset store.

    Without any track flag, --dnase and --h3k27ac are looked up as every other input is
    (environment, then seq2exp.toml).
    """
    from ..store import preprocess

    if out is not None and output is not None and out != output:
        raise Seq2ExpError(f"store given twice ({out} and -o {output}); give one")
    out = out if out is not None else output
    if out is None:
        raise Seq2ExpError("no store to write: give STORE or -o STORE")
    genes = find_input("genes", inputs.genes)
    if genes is None:
        raise Seq2ExpError("no genes: pass --genes FILE (TSV, BED6 or GTF/GFF3 of genes/TSSs), "
                           "set SEQ2EXP_GENES, or add 'genes = ...' to seq2exp.toml")
    dnase, h3k27ac = inputs.dnase, inputs.h3k27ac
    if dnase is None and h3k27ac is None and not inputs.track:
        dnase, h3k27ac = find_input("dnase", None), find_input("h3k27ac", None)
    preprocess(
        out, fasta=resolve_fasta(inputs.fasta), genes=genes,
        tracks=collect_tracks(dnase, h3k27ac, inputs.track), hic=find_input("hic", inputs.hic),
        targets=find_input("targets", inputs.targets),
        blacklist=find_input("blacklist", inputs.blacklist), window_bp=window,
        resolution=inputs.resolution, normalization=inputs.normalization,
        val_chroms=parse_chroms(val_chroms), test_chroms=parse_chroms(test_chroms),
        overwrite=force, checksums=not no_checksums,
    )
    print(f"seq2exp: wrote store {out}", file=sys.stderr)
