"""``seq2exp plot-training RUN -o curve.png``: a run's loss and validation curves."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import Seq2ExpError
from .options import output_option


def main(
    run: Annotated[Path, typer.Argument(help="Run folder written by `seq2exp train`.")],
    output: Annotated[Path, output_option("PNG to write.")],
) -> None:
    """Draw training loss and validation MSE / Pearson against step."""
    from ..plot import plot_training_curve

    if not (run / "train_metrics.tsv").exists():
        raise Seq2ExpError(f"{run}: no train_metrics.tsv; is it a run folder of `seq2exp train`?")
    plot_training_curve(run, output)
    print(f"seq2exp: wrote {output}", file=sys.stderr)
