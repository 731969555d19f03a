"""``seq2exp call-elements``: learned regulatory elements as BED on stdout (or -o FILE)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (
    BlacklistOpt, ChromsOpt, DeviceOpt, DnaseOpt, FastaOpt, GenesOpt, H3k27acOpt, HicOpt,
    ModelOpt, NormOpt, OutOpt, ResolutionOpt, ShardOpt, TargetsOpt, TrackOpt,
)
from .predict import StoreOpt
from .sources import open_source
from ..shard import select_genes


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
    cutoff: Annotated[Optional[float], typer.Option(help="Minimum mask value of an element's bases (default 0.5; 0.02 for the element scores of epinformer and abc, ABC's usual threshold).")] = None,
    min_length: Annotated[int, typer.Option("--min-length", help="Shortest element kept, bp.")] = 50,
    merge_gap: Annotated[int, typer.Option("--merge-gap", help="Join runs closer than this, bp.")] = 100,
    top: Annotated[Optional[float], typer.Option("--top", help="Keep only each gene's top fraction of bases (e.g. 0.1).")] = None,
    per_gene: Annotated[bool, typer.Option("--per-gene/--merged", help="One row per gene and element, or elements merged across genes.")] = True,
    bigwig: Annotated[Optional[Path], typer.Option("--bigwig", help="Also write the per-bp mask (max over genes) as bigWig.")] = None,
    gene: Annotated[Optional[list[str]], typer.Option("--gene", help="Only these genes (id or name; repeatable).")] = None,
    split: Annotated[Optional[str], typer.Option(help="Only genes of this split (train, val, test).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Genes per batch.")] = 8,
    resolution: ResolutionOpt = 5000,
    normalization: NormOpt = "VC",
    chroms: ChromsOpt = None,
    shard: ShardOpt = None,
) -> None:
    """Run the mask generator over each gene's window and write its elements as BED6+4."""
    from ..elements import call_elements, write_elements
    from ..predict import load_predictor

    net, cfg, _meta, dev = load_predictor(model, device)
    source = open_source(store, genes, fasta, dnase, h3k27ac, track, hic, targets, blacklist,
                         cfg.window_bp, resolution, normalization, tuple(cfg.signal_names))
    if cutoff is None:
        from ..models.registry import scores_elements

        cutoff = 0.02 if scores_elements(cfg) else 0.5
    idx = source.indices(split, with_target=False) if split else None
    if gene:
        idx = [source.gene_index(g) for g in gene]
    idx = select_genes(source.genes, idx, chroms, shard, source.chrom_sizes)
    df = call_elements(source, net, cfg, dev, indices=idx, cutoff=cutoff, min_length=min_length,
                       merge_gap=merge_gap, top_fraction=top, merged=not per_gene,
                       bigwig=bigwig, batch_size=batch_size)
    write_elements(df, output)
    print(f"seq2exp: {len(df)} elements", file=sys.stderr)
