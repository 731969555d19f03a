"""``seq2exp benchmark STORE -o OUTDIR``: Table 1 (models x seeds) and Table 2 (MACS3)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import Seq2ExpError
from .options import DeviceOpt, output_option
from .train import KeepOpt, SetOpt, set_overrides


def _ints(text: str, flag: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise Seq2ExpError(f"{flag} {text}: expected comma-separated integers, e.g. 2,22,222") from None


def _file(path: Optional[Path], flag: str) -> Optional[Path]:
    if path is not None and not path.is_file():
        raise Seq2ExpError(f"{path}: file not found (given as {flag}); check the path")
    return path


def main(
    store: Annotated[Path, typer.Argument(help="Dataset store from `seq2exp preprocess` (test genes need targets).")],
    output: Annotated[Path, output_option("Benchmark folder (created; rerunning continues it).")],
    models: Annotated[str, typer.Option(help="Comma-separated, any of: seq2exp-soft, seq2exp-hard, caduceus-signals, caduceus-seq, epinformer, epiexpr-1d, epiexpr-3d, simplechrome, abc.")] = "seq2exp-soft,seq2exp-hard,caduceus-signals,caduceus-seq",
    seeds: Annotated[str, typer.Option(help="Comma-separated random seeds, one run per model and seed.")] = "2,22,222",
    preset: Annotated[str, typer.Option(help="Configuration preset (cpu or paper); seq2exp-hard uses its -hard counterpart.")] = "cpu",
    steps: Annotated[Optional[int], typer.Option(help="Optimiser steps per run (default: the preset's).")] = None,
    set_: SetOpt = None,
    device: DeviceOpt = "auto",
    truth: Annotated[Optional[Path], typer.Option(help="Known elements (truth_elements.bed) for Table 2.")] = None,
    dnase: Annotated[Optional[Path], typer.Option(help="DNase bigWig that MACS3 calls peaks on (Table 2).")] = None,
    h3k27ac: Annotated[Optional[Path], typer.Option(help="H3K27ac bigWig (optional, passed to compare-peaks).")] = None,
    keep_fraction: KeepOpt = 0.10,
    resume: Annotated[bool, typer.Option("--resume", help="Continue interrupted runs from their last checkpoint.")] = False,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Predicted-vs-measured PNG of each model's best seed.")] = True,
) -> None:
    """Train each model x seed, then print Table 1 (and Table 2 with --truth/--dnase)."""
    from ..evaluation.benchmark import run_benchmark

    if steps is not None and steps < 1:
        raise Seq2ExpError(f"--steps {steps}: must be at least 1")
    res = run_benchmark(
        store, output, models=[m.strip() for m in models.split(",") if m.strip()],
        seeds=_ints(seeds, "--seeds"), preset=preset, steps=steps,
        overrides=set_overrides(set_), device=device, truth=_file(truth, "--truth"),
        dnase=_file(dnase, "--dnase"), h3k27ac=_file(h3k27ac, "--h3k27ac"), top=keep_fraction,
        resume=resume, plots=plots,
    )
    print(f"seq2exp: benchmark written to {output} ({res.trained} run(s) trained this time)",
          file=sys.stderr)
    sys.stdout.write(res.markdown)
    sys.stdout.flush()
