"""``seq2exp workflow``: set up the Snakemake workflow for many samples."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The Snakemake workflow: many cell types from one sample sheet (docs/workflow.md).",
    no_args_is_help=True,
)


EXAMPLES = """
seq2exp workflow init lab_run/                 # config.yaml, samples.tsv, Snakefile, profiles
seq2exp workflow init lab_run/ --force         # rewrite the workflow files (keeps results)
cd lab_run && snakemake --profile profiles/slurm   # on SLURM (--cores 4 on one machine)
"""


@app.command("init")
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to write (created when missing).")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace workflow files that exist.")
    ] = False,
) -> None:
    """Write config.yaml, samples.tsv, a Snakefile and profiles (local, SLURM) into FOLDER."""
    from ..workflow import init_workflow

    written = init_workflow(folder, force=force)
    for p in written:
        print(f"seq2exp: wrote {p}", file=sys.stderr)
    print(f"seq2exp: fill {folder / 'samples.tsv'}, then run `snakemake --cores 4` in {folder} "
          "(needs pip install 'seq2exp[workflow]')", file=sys.stderr)


@app.command("snakefile")
def snakefile() -> None:
    """Print the path of the packaged Snakefile (for snakemake -s)."""
    from ..workflow import snakefile as path

    print(path())
