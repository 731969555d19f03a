"""``seq2exp call-links``: element–gene links (ENCODE layout TSV on stdout, or -o FILE)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (BatchOpt, GeneOpt, InputOptions, OutOpt, SplitOpt, input_options,
                      writable_output)


READS_INPUTS = True
EXAMPLES = """
seq2exp call-links > links.tsv               # needs a model with the additive readout
seq2exp call-links --store store/ --model run/ --bedpe links.bedpe -o links.tsv
seq2exp call-links --candidates peaks.narrowPeak -o links.tsv   # score every peak, as ABC
seq2exp call-links --candidates peaks.narrowPeak --score mask-abc -o links.tsv
seq2exp compare-peaks --links links.tsv --crispri truth_crispri.tsv --genes genes.tsv
"""


@input_options()
def main(
    inputs: InputOptions,
    output: OutOpt = None,
    bedpe: Annotated[Optional[Path], typer.Option("--bedpe", help="Also write the links as BEDPE (element, TSS) for IGV's interaction track.", callback=writable_output)] = None,
    cutoff: Annotated[Optional[float], typer.Option(help="Minimum mask value of an element's bases (default: the model's calibrated cutoff, else 0.5).")] = None,
    candidates: Annotated[Optional[Path], typer.Option("--candidates", metavar="BED", help="Score these candidate elements (BED or narrowPeak: MACS3 peaks, ENCODE cCREs) as ABC does, every candidate in a gene's window whatever its mask, instead of the mask's own elements.", show_default=False)] = None,
    score: Annotated[str, typer.Option("--score", metavar="share|mask-abc|abc", help="What a link's Score is: 'share', the element's share of the model's predicted drive; 'mask-abc', ABC's activity x contact weighted by the element's mean mask, normalised over the gene's links; 'abc', the same without the mask (ABC itself, a baseline).")] = "share",
    min_score: Annotated[float, typer.Option("--min-score", help="Drop links whose Score (the element's share of the gene's predicted enhancer drive) is lower.")] = 0.0,
    min_length: Annotated[int, typer.Option("--min-length", help="Shortest element kept, bp.")] = 50,
    merge_gap: Annotated[int, typer.Option("--merge-gap", help="Join runs closer than this, bp.")] = 100,
    gene: GeneOpt = None,
    split: SplitOpt = None,
    cell_type: Annotated[str, typer.Option("--cell-type", help="The CellType column.")] = "seq2exp",
    batch_size: BatchOpt = 8,
) -> None:
    """Score each gene's learned elements by their share of its predicted enhancer drive."""
    from ..inference.elements import cutoff_note
    from ..inference.links import gene_links
    from ..io.links import write_bedpe, write_links
    from .sources import model_and_source

    model, source = model_and_source(inputs)
    idx = source.select(split, gene)
    cand = None
    if candidates is not None:
        from ..io.bed import read_bed

        cand = read_bed(candidates)
    df = gene_links(source, model, indices=idx, cutoff=cutoff,
                    min_length=min_length, merge_gap=merge_gap, min_score=min_score,
                    batch_size=batch_size, cell_type=cell_type, candidates=cand, score=score)
    write_links(df, output)
    if bedpe is not None:
        write_bedpe(df, bedpe)
    where = f" to {output}" if output is not None else " to stdout"
    extra = f" and {bedpe}" if bedpe is not None else ""
    n = len(df)
    how = (f"{score} scores of the {len(cand):,} candidates of {candidates}" if cand is not None
           else f"{score} scores of the elements at {cutoff_note(model, cutoff)}")
    print(f"seq2exp: wrote {n:,} element-gene link{'' if n == 1 else 's'} ({how}){where}{extra}",
          file=sys.stderr)
