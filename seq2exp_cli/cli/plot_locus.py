"""``seq2exp plot-locus GENE -o locus.png``: tracks, contact, learned mask and elements."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import InputOptions, input_options, output_option


@input_options()
def main(
    inputs: InputOptions,
    gene: Annotated[str, typer.Argument(help="Gene id or name.")],
    output: Annotated[Path, output_option("PNG to write.")],
    peaks: Annotated[Optional[Path], typer.Option("--peaks", help="Peaks to draw (narrowPeak/BED, e.g. MACS3).")] = None,
    truth: Annotated[Optional[Path], typer.Option("--truth", help="Known elements to draw (BED, e.g. truth_elements.bed).")] = None,
    cutoff: Annotated[float, typer.Option(help="Mask cutoff for the drawn elements.")] = 0.5,
) -> None:
    """Draw one gene's window: each signal, the contact, the learned mask and its elements."""
    from ..inference.elements import locus_view
    from ..io.bed import read_bed
    from ..plot import plot_locus
    from .sources import model_and_source

    model, source = model_and_source(inputs)
    view = locus_view(source, model, gene, cutoff)
    extra = {}
    if peaks is not None:
        extra["peaks"] = read_bed(peaks)
    if truth is not None:
        extra["truth"] = read_bed(truth)
    plot_locus(output, **view, intervals=extra)
    lo = view["start"]
    hi = min(lo + len(view["mask"]), source.chrom_sizes[view["chrom"]])
    print(f"seq2exp: wrote {output} ({view['chrom']}:{lo}-{hi})", file=sys.stderr)
