"""``seq2exp predict``: expression per gene, as TSV on stdout (or -o FILE)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (BatchOpt, ChromsOpt, GeneOpt, InputOptions, OutOpt, ShardOpt, SplitOpt,
                      WorkersOpt, input_options, worker_count, writable_output)

READS_INPUTS = True
EXAMPLES = """
seq2exp predict > predictions.tsv           # inputs from seq2exp.toml, the bundled model
seq2exp predict --genes genes.tsv --dnase dnase.bw --h3k27ac h3k27ac.bw --hic contacts.hic --fasta genome.fa > predictions.tsv
seq2exp predict --store store/ --model run/ --split test -o pred_test.tsv
seq2exp predict --gene MYC --gene GATA1
seq2exp predict -o predictions.tsv --elements elements.bed   # one pass for both
"""


@input_options()
def main(
    inputs: InputOptions,
    output: OutOpt = None,
    elements: Annotated[Optional[Path], typer.Option("--elements", metavar="FILE", help="Also write the elements call-elements writes by default (per gene, the model's cutoff) to FILE, from the same forward pass.", callback=writable_output)] = None,
    batch_size: BatchOpt = 8,
    split: SplitOpt = None,
    gene: GeneOpt = None,
    chroms: ChromsOpt = None,
    shard: ShardOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Predict log10(1 + expression) for every gene.

    Columns: gene_id, name, chrom, tss, strand, prediction (+ target when known).
    """
    from ..inference.predict import predict_expression, predict_with_elements
    from ..io.tables import write_tsv
    from ..shard import select_genes
    from .sources import model_and_source

    model, source = model_and_source(inputs)
    idx = select_genes(source.genes, source.select(split, gene), chroms, shard,
                       source.chrom_sizes)
    n_workers = worker_count(workers, len(source) if idx is None else len(idx), model.device)
    also = ""
    if elements is not None:
        from ..inference.elements import cutoff_note, write_elements

        df, found = predict_with_elements(source, model, indices=idx, batch_size=batch_size,
                                          workers=n_workers)
        write_elements(found, elements)
        also = f"; {len(found):,} elements ({cutoff_note(model, None)}) to {elements}"
    else:
        df = predict_expression(source, model, indices=idx, batch_size=batch_size,
                                workers=n_workers)
    write_tsv(df, output, float_format="%.6f")
    n = len(df)
    print(f"seq2exp: predicted {n:,} gene{'' if n == 1 else 's'} on {model.device}, written "
          f"to {output if output is not None else 'stdout'}{also}", file=sys.stderr)
