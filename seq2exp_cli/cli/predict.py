"""``seq2exp predict``: expression per gene, as TSV on stdout (or -o FILE)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (
    BlacklistOpt, ChromsOpt, DeviceOpt, DnaseOpt, FastaOpt, GenesOpt, H3k27acOpt, HicOpt,
    ModelOpt, NormOpt, OutOpt, ResolutionOpt, ShardOpt, TargetsOpt, TrackOpt,
)
from .sources import open_source
from ..shard import select_genes

StoreOpt = Annotated[
    Optional[Path], typer.Option("--store", help="Dataset store (instead of raw input files).",
                                 show_default=False),
]


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
    batch_size: Annotated[int, typer.Option("--batch-size", help="Genes per batch.")] = 8,
    split: Annotated[Optional[str], typer.Option(help="Only genes of this split (train, val, test).")] = None,
    gene: Annotated[Optional[list[str]], typer.Option("--gene", help="Only these genes (id or name; repeatable).")] = None,
    resolution: ResolutionOpt = 5000,
    normalization: NormOpt = "VC",
    chroms: ChromsOpt = None,
    shard: ShardOpt = None,
) -> None:
    """Predict log10(1 + expression) for every gene.

    Columns: gene_id, name, chrom, tss, strand, prediction (+ target when known).
    """
    from ..predict import load_predictor, predict, write_tsv

    net, cfg, _meta, dev = load_predictor(model, device)
    source = open_source(store, genes, fasta, dnase, h3k27ac, track, hic, targets, blacklist,
                         cfg.window_bp, resolution, normalization, tuple(cfg.signal_names))
    idx = source.indices(split, with_target=False) if split else None
    if gene:
        idx = [source.gene_index(g) for g in gene]
    idx = select_genes(source.genes, idx, chroms, shard, source.chrom_sizes)
    df = predict(source, net, cfg, dev, indices=idx, batch_size=batch_size)
    write_tsv(df, output)
    print(f"seq2exp: predicted {len(df)} genes on {dev}", file=sys.stderr)
