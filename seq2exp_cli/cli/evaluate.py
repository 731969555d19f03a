"""``seq2exp evaluate``: MSE, MAE, Pearson, Spearman, R² of predictions per split."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import output_option, writable_output


def main(
    predictions: Annotated[Path, typer.Argument(help="Predictions TSV from `seq2exp predict` "
                                                "(gene_id, prediction[, target, split]).")],
    store: Annotated[Path | None, typer.Option(
        "--store", help="Dataset store: split (and target) of each gene by gene_id.",
        show_default=False)] = None,
    output: Annotated[Path | None, output_option("Write PREFIX.tsv and PREFIX.md (atomically).")] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Predicted-vs-measured scatter PNG.", show_default=False,
        callback=writable_output)] = None,
    tsv: Annotated[bool, typer.Option("--tsv", help="TSV on stdout instead of Markdown.")] = False,
) -> None:
    """Regression metrics per split (train, val, test) and over all genes.

    Split per gene: the predictions' `split` column, else the store's genes.tsv.

    Genes without a measured target are skipped.
    """
    from ..evaluation.report import evaluate_files, frame_to_markdown, write_table

    table = evaluate_files(predictions, store, output, plot)
    if tsv:
        write_table(table, None)
    else:
        sys.stdout.write(frame_to_markdown(table))
    n = int(table.loc[table["split"] == "all", "n"].iloc[0])
    print(f"seq2exp: evaluated {n} genes with a target", file=sys.stderr)
