"""``seq2exp plot-locus GENE -o locus.png``: tracks, contact, learned mask and elements."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from .options import (
    BlacklistOpt, DeviceOpt, DnaseOpt, FastaOpt, GenesOpt, H3k27acOpt, HicOpt, ModelOpt,
    NormOpt, ResolutionOpt, TargetsOpt, TrackOpt,
)
from .predict import StoreOpt
from .sources import open_source


def main(
    gene: Annotated[str, typer.Argument(help="Gene id or name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG to write.")],
    genes: GenesOpt = None,
    dnase: DnaseOpt = None,
    h3k27ac: H3k27acOpt = None,
    track: TrackOpt = None,
    hic: HicOpt = None,
    fasta: FastaOpt = None,
    targets: TargetsOpt = None,
    blacklist: BlacklistOpt = None,
    store: StoreOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    peaks: Annotated[Optional[Path], typer.Option("--peaks", help="Peaks to draw (narrowPeak/BED, e.g. MACS3).")] = None,
    truth: Annotated[Optional[Path], typer.Option("--truth", help="Known elements to draw (BED, e.g. truth_elements.bed).")] = None,
    cutoff: Annotated[float, typer.Option(help="Mask cutoff for the drawn elements.")] = 0.5,
    resolution: ResolutionOpt = 5000,
    normalization: NormOpt = "VC",
) -> None:
    """Draw one gene's window: each signal, the contact, the learned mask and its elements."""
    from ..inference.elements import gene_masks, mask_intervals
    from ..io.bed import read_bed
    from ..plot import plot_locus
    from ..inference.predict import load_predictor

    net, cfg, _meta, dev = load_predictor(model, device)
    source = open_source(store, genes, fasta, dnase, h3k27ac, track, hic, targets, blacklist,
                         cfg.window_bp, resolution, normalization, tuple(cfg.signal_names))
    i = source.gene_index(gene)
    (w, lo, mask), = list(gene_masks(source, net, cfg, dev, [i], show_progress=False))
    size = source.chrom_sizes[w.chrom]
    hi = lo + len(mask)
    sig = w.to_genome(w.signals)[lo - w.start: hi - w.start]
    signals = {name: np.asarray(sig[:, j]) for j, name in enumerate(source.signal_names)}
    iv = mask_intervals(mask, cutoff, 50, 100)
    import pandas as pd

    elements = pd.DataFrame({"chrom": w.chrom, "start": lo + iv[:, 0], "end": lo + iv[:, 1]})
    extra = {}
    if peaks is not None:
        extra["peaks"] = read_bed(peaks)
    if truth is not None:
        extra["truth"] = read_bed(truth)
    g = source.genes.iloc[i]
    plot_locus(output, w.chrom, lo, int(g["tss"]), str(g["name"] or g["gene_id"]), signals, mask,
               elements, extra)
    print(f"seq2exp: wrote {output} ({w.chrom}:{lo}-{min(hi, size)})", file=sys.stderr)
