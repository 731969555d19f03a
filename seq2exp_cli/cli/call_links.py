"""``seq2exp call-links``: element–gene links (ENCODE layout TSV on stdout, or -o FILE)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (
    BlacklistOpt, DeviceOpt, DnaseOpt, FastaOpt, GenesOpt, H3k27acOpt, HicOpt, ModelOpt,
    NormOpt, OutOpt, ResolutionOpt, TargetsOpt, TrackOpt,
)
from .predict import StoreOpt
from .sources import open_source


def main(
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
    output: OutOpt = None,
    bedpe: Annotated[Optional[Path], typer.Option("--bedpe", help="Also write the links as BEDPE (element, TSS) for IGV.")] = None,
    cutoff: Annotated[float, typer.Option(help="Minimum mask value of an element's bases.")] = 0.5,
    min_score: Annotated[float, typer.Option("--min-score", help="Drop links whose Score (share of the gene's enhancer drive) is lower.")] = 0.0,
    min_length: Annotated[int, typer.Option("--min-length", help="Shortest element kept, bp.")] = 50,
    merge_gap: Annotated[int, typer.Option("--merge-gap", help="Join runs closer than this, bp.")] = 100,
    gene: Annotated[Optional[list[str]], typer.Option("--gene", help="Only these genes (id or name; repeatable).")] = None,
    split: Annotated[Optional[str], typer.Option(help="Only genes of this split (train, val, test).")] = None,
    cell_type: Annotated[str, typer.Option("--cell-type", help="The CellType column.")] = "seq2exp",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Genes per batch.")] = 8,
    resolution: ResolutionOpt = 5000,
    normalization: NormOpt = "VC",
) -> None:
    """Score each gene's learned elements by their share of its predicted enhancer drive."""
    from ..links import call_links, write_bedpe, write_links
    from ..predict import load_predictor
    from ..errors import Seq2ExpError

    net, cfg, _meta, dev = load_predictor(model, device)
    if getattr(cfg, "readout", None) != "additive":
        raise Seq2ExpError(
            "this model scores no element-gene links (it has no additive readout); use a model "
            "trained with the cpu presets (readout=additive), e.g. the bundled one")
    source = open_source(store, genes, fasta, dnase, h3k27ac, track, hic, targets, blacklist,
                         cfg.window_bp, resolution, normalization, tuple(cfg.signal_names))
    idx = source.indices(split, with_target=False) if split else None
    if gene:
        idx = [source.gene_index(g) for g in gene]
    df = call_links(source, net, cfg, dev, indices=idx, cutoff=cutoff, min_length=min_length,
                    merge_gap=merge_gap, min_score=min_score, batch_size=batch_size,
                    cell_type=cell_type)
    write_links(df, output)
    if bedpe is not None:
        write_bedpe(df, bedpe)
    where = f" to {output}" if output is not None else ""
    extra = f" and {bedpe}" if bedpe is not None else ""
    print(f"seq2exp: wrote {len(df)} element-gene links{where}{extra}", file=sys.stderr)
