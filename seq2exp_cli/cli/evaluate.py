"""``seq2exp evaluate``: MSE, MAE, Pearson, Spearman, R² of predictions per split."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import output_option, writable_output

EXAMPLES = """
seq2exp evaluate predictions.tsv                    # the target and split columns of predict
seq2exp evaluate pred_test.tsv --store store/ --plot pred_vs_measured.png
seq2exp evaluate predictions.tsv --tsv -o metrics   # writes metrics.tsv and metrics.md
"""


def main(
    predictions: Annotated[Path, typer.Argument(help="Predictions TSV from `seq2exp predict` "
                                                "(gene_id, prediction, then optional target, "
                                                "split).", metavar="FILE")],
    store: Annotated[Path | None, typer.Option(
        "--store", help="Dataset store: split (and target) of each gene by gene_id.",
        show_default=False, metavar="STORE")] = None,
    output: Annotated[Path | None, output_option("Write PREFIX.tsv and PREFIX.md (atomically).",
                                                 metavar="PREFIX")] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Predicted-vs-measured scatter, coloured by split: .png, .svg or .pdf.",
        show_default=False, callback=writable_output, metavar="FILE")] = None,
    tsv: Annotated[bool, typer.Option("--tsv", help="TSV on stdout instead of Markdown.")] = False,
) -> None:
    """Regression metrics per split (train, val, test) and over all genes.

    Split per gene: the predictions' `split` column, else the store's genes.tsv.

    Genes without a measured target are skipped.
    """
    from ..evaluation.report import evaluate_files, frame_to_markdown, write_table

    if plot is not None:
        from ..plot import figure_format

        figure_format(plot)
    table = evaluate_files(predictions, store, output, plot)
    if tsv:
        write_table(table, None)
    else:
        sys.stdout.write(frame_to_markdown(table))
    n = int(table.loc[table["split"] == "all", "n"].iloc[0])
    wrote = [f"{output}.tsv", f"{output}.md"] if output is not None else []
    wrote += [str(plot)] if plot is not None else []
    print(f"seq2exp: evaluated {n:,} gene{'' if n == 1 else 's'} with a target"
          + (f"; wrote {', '.join(wrote)}" if wrote else ""), file=sys.stderr)
