"""``seq2exp call-links``: element–gene links (ENCODE layout TSV on stdout, or -o FILE)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (BatchOpt, GeneOpt, InputOptions, OutOpt, SplitOpt, input_options,
                      writable_output)


@input_options()
def main(
    inputs: InputOptions,
    output: OutOpt = None,
    bedpe: Annotated[Optional[Path], typer.Option("--bedpe", help="Also write the links as BEDPE (element, TSS) for IGV's interaction track.", callback=writable_output)] = None,
    cutoff: Annotated[float, typer.Option(help="Minimum mask value of an element's bases.")] = 0.5,
    min_score: Annotated[float, typer.Option("--min-score", help="Drop links whose Score (the element's share of the gene's predicted enhancer drive) is lower.")] = 0.0,
    min_length: Annotated[int, typer.Option("--min-length", help="Shortest element kept, bp.")] = 50,
    merge_gap: Annotated[int, typer.Option("--merge-gap", help="Join runs closer than this, bp.")] = 100,
    gene: GeneOpt = None,
    split: SplitOpt = None,
    cell_type: Annotated[str, typer.Option("--cell-type", help="The CellType column.")] = "seq2exp",
    batch_size: BatchOpt = 8,
) -> None:
    """Score each gene's learned elements by their share of its predicted enhancer drive."""
    from ..inference.links import gene_links
    from ..io.links import write_bedpe, write_links
    from .sources import model_and_source

    model, source = model_and_source(inputs)
    df = gene_links(source, model, indices=source.select(split, gene), cutoff=cutoff,
                    min_length=min_length, merge_gap=merge_gap, min_score=min_score,
                    batch_size=batch_size, cell_type=cell_type)
    write_links(df, output)
    if bedpe is not None:
        write_bedpe(df, bedpe)
    where = f" to {output}" if output is not None else ""
    extra = f" and {bedpe}" if bedpe is not None else ""
    print(f"seq2exp: wrote {len(df)} element-gene links{where}{extra}", file=sys.stderr)
