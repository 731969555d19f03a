"""``seq2exp simulate OUTDIR``: write a synthetic cell type with known truth."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import Seq2ExpError
from ..progress import progress_bar, stderr_console
from .options import output_option, writable_output

#: stages reported by the simulator (generation, then writing)
_STAGES = (
    "layout",
    "sequence",
    "motifs",
    "signals",
    "contacts",
    "expression",
    "genome.fa",
    "genes",
    "bigWigs",
    "Hi-C",
    "truth",
)


def main(
    outdir: Annotated[
        Optional[Path],
        typer.Argument(help="Output folder (created; must not exist unless --force); or -o.",
                       callback=writable_output, show_default=False),
    ] = None,
    output: Annotated[Optional[Path], output_option("Output folder (instead of OUTDIR).")] = None,
    size: Annotated[
        str,
        typer.Option(
            "--size",
            help="Size of the cell type: ci (~3.5 Mb, ~35 genes), example (~5 Mb), "
            "train (~60 Mb, ~600 genes), large (hg38's chromosomes at 22 %: 667 Mb, "
            "~6,700 genes).",
        ),
    ] = "ci",
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="Random seed; the same seed gives identical data.")
    ] = 0,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Replace OUTDIR if it exists.")
    ] = False,
    genes_per_mb: Annotated[
        float | None,
        typer.Option("--genes-per-mb", help="Override the gene density (default ~10 per Mb)."),
    ] = None,
    track_units: Annotated[
        str,
        typer.Option(
            "--track-units",
            help="Units of the DNase/H3K27ac bigWigs: signal (the model's own), rpm (reads per "
            "million coverage) or counts (Poisson read coverage): another lab's pipeline.",
        ),
    ] = "signal",
    track_scale: Annotated[
        float,
        typer.Option("--track-scale", help="Multiply both bigWigs by this factor (e.g. 10)."),
    ] = 1.0,
) -> None:
    """Simulate a cell type: FASTA, genes, DNase/H3K27ac bigWigs, .hic/.cool, CAGE and truth."""
    from ..simulate import PRESETS as SIZES
    from ..simulate import simulate

    if size not in SIZES:
        raise Seq2ExpError(f"--size {size}: choose one of {', '.join(SIZES)}")

    if outdir is not None and output is not None and outdir != output:
        raise Seq2ExpError(f"output folder given twice ({outdir} and -o {output}); give one")
    outdir = outdir if outdir is not None else output
    if outdir is None:
        raise Seq2ExpError("no output folder: give OUTDIR or -o OUTDIR")
    overrides = {}
    if genes_per_mb is not None:
        if genes_per_mb <= 0:
            raise typer.BadParameter("must be > 0", param_hint="--genes-per-mb")
        overrides["gene_spacing"] = int(1e6 / genes_per_mb)
    if track_units != "signal":
        overrides["track_units"] = track_units
    if track_scale != 1.0:
        overrides["track_scale"] = track_scale
    console = stderr_console()
    argv = sys.argv[1:]
    command = None  # simulate() then writes the equivalent command itself
    if "simulate" in argv:
        command = "seq2exp simulate " + " ".join(
            shlex.quote(a) for a in argv[argv.index("simulate") + 1 :]
        )
    with progress_bar() as bar:
        task = bar.add_task("simulate", total=len(_STAGES))

        def step(name: str) -> None:
            bar.update(
                task, advance=0 if name == _STAGES[0] else 1, description=f"simulate: {name}"
            )

        res = simulate(
            outdir, preset=size, seed=seed, force=force, command=command, step=step, **overrides
        )
        bar.update(task, completed=len(_STAGES), description="simulate: done")
    s = res.summary
    console.print(
        f"[bold]wrote[/bold] {res.outdir} ({len(res.files)} files, "
        f"{s['seconds']['total']:.1f} s; noise ceiling "
        f"{s['noise_ceiling']['pearson_log10_all']:.3f})"
    )
    for f in res.files:
        size = f.stat().st_size if f.exists() else 0
        console.print(f"  {f}  [dim]{size / 1e6:.2f} MB[/dim]")
