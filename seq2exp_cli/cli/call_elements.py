"""``seq2exp call-elements``: learned regulatory elements as BED on stdout (or -o FILE)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (BatchOpt, ChromsOpt, GeneOpt, InputOptions, OutOpt, ShardOpt, SplitOpt,
                      WorkersOpt, worker_count,
                      input_options, writable_output)


READS_INPUTS = True
EXAMPLES = """
seq2exp call-elements > elements.bed         # inputs from seq2exp.toml, the bundled model
seq2exp call-elements --store store/ --model run/ --bigwig mask.bw -o elements.bed
seq2exp call-elements --split test --top-bases 0.1 --merged | bedtools merge -i - > top10.bed
"""


@input_options()
def main(
    inputs: InputOptions,
    output: OutOpt = None,
    cutoff: Annotated[Optional[float], typer.Option(help="Minimum mask value of an element's bases (default: the cutoff the model was calibrated with at the end of training, else 0.5; 0.02 for the element scores of epinformer and abc, ABC's usual threshold).")] = None,
    min_length: Annotated[int, typer.Option("--min-length", help="Shortest element kept, bp.")] = 50,
    merge_gap: Annotated[int, typer.Option("--merge-gap", help="Join runs closer than this, bp.")] = 100,
    top_bases: Annotated[Optional[float], typer.Option("--top-bases", help="Keep only each gene's top fraction of bases (e.g. 0.1).")] = None,
    per_gene: Annotated[bool, typer.Option("--per-gene/--merged", help="One row per gene and element, or elements merged across genes.")] = True,
    bigwig: Annotated[Optional[Path], typer.Option("--bigwig", help="Also write the per-bp mask (max over genes) as bigWig.", callback=writable_output)] = None,
    gene: GeneOpt = None,
    split: SplitOpt = None,
    batch_size: BatchOpt = 8,
    chroms: ChromsOpt = None,
    shard: ShardOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Run the mask generator over each gene's window and write its elements as BED6+4."""
    from ..inference.elements import cutoff_note, gene_elements, write_elements
    from ..shard import select_genes
    from .sources import model_and_source

    model, source = model_and_source(inputs)
    idx = select_genes(source.genes, source.select(split, gene), chroms, shard,
                       source.chrom_sizes)
    n_workers = worker_count(workers, len(source) if idx is None else len(idx), model.device)
    df = gene_elements(source, model, indices=idx, cutoff=cutoff,
                       min_length=min_length, merge_gap=merge_gap, top_fraction=top_bases,
                       merged=not per_gene, bigwig=bigwig, batch_size=batch_size,
                       workers=n_workers)
    write_elements(df, output)
    n = len(df)
    where = output if output is not None else "stdout"
    mask = f"; wrote the per-bp mask to {bigwig}" if bigwig is not None else ""
    print(f"seq2exp: wrote {n:,} element{'' if n == 1 else 's'} ({cutoff_note(model, cutoff)}) "
          f"to {where}{mask}", file=sys.stderr)
