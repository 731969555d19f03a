"""Options shared by every subcommand: same flag, same meaning, everywhere.

Each is an ``Annotated`` type; a command declares ``genes: GenesOpt = None`` and gets the
same help text and validation as every other command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError, Seq2ExpError


def _existing(ctx: typer.Context, param: typer.CallbackParam, value: Optional[Path]) -> Optional[Path]:
    """Reject a missing input file at parse time, as a one-line error (exit code 2)."""
    if value is not None and not Path(value).exists():
        flag = param.opts[0] if param.opts else param.name
        raise InputError(f"{value}: file not found (given as {flag}); check the path")
    return value


FastaOpt = Annotated[
    Optional[Path],
    typer.Option("--fasta", "-g", help="Genome FASTA (env SEQ2EXP_FASTA, or seq2exp.toml).",
                 callback=_existing, show_default=False),
]
GenesOpt = Annotated[
    Optional[Path],
    typer.Option("--genes", help="Genes: TSV (gene_id, chrom, tss, strand[, name]), BED6 or GTF/GFF3.",
                 callback=_existing, show_default=False),
]
DnaseOpt = Annotated[
    Optional[Path],
    typer.Option("--dnase", help="DNase-seq (or ATAC) bigWig; shorthand for --track dnase=FILE.",
                 callback=_existing, show_default=False),
]
H3k27acOpt = Annotated[
    Optional[Path],
    typer.Option("--h3k27ac", help="H3K27ac bigWig; shorthand for --track h3k27ac=FILE.",
                 callback=_existing, show_default=False),
]
TrackOpt = Annotated[
    Optional[list[str]],
    typer.Option("--track", help="Named bigWig track NAME=FILE (repeatable).", show_default=False),
]
HicOpt = Annotated[
    Optional[Path],
    typer.Option("--hic", help="Hi-C contacts: .hic, .cool or .mcool (default: ABC power law).",
                 callback=_existing, show_default=False),
]
BlacklistOpt = Annotated[
    Optional[Path],
    typer.Option("--blacklist", "-bl", help="BED of regions to mask out.", callback=_existing,
                 show_default=False),
]
TargetsOpt = Annotated[
    Optional[Path],
    typer.Option("--targets", help="TSV gene_id, value (raw CAGE/RNA) [+ feature columns].",
                 callback=_existing, show_default=False),
]
ModelOpt = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="Trained model: a run folder, checkpoint folder or the bundled "
                 "weights (default: weights/ bundled with seq2exp).", show_default=False),
]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")
]
OutOpt = Annotated[
    Optional[Path],
    typer.Option("--output", "-o", help="Output file (written atomically); default stdout.",
                 show_default=False),
]
ResolutionOpt = Annotated[
    int, typer.Option("--resolution", help="Hi-C bin size in bp.")
]
NormOpt = Annotated[
    str, typer.Option("--normalization", help="Hi-C normalisation: NONE, VC, KR or SCALE.")
]
WindowOpt = Annotated[
    int, typer.Option("--window", help="Window width in bp, centred on the TSS.")
]


def collect_tracks(
    dnase: Optional[Path], h3k27ac: Optional[Path], track: Optional[list[str]]
) -> dict[str, Path]:
    """Merge ``--h3k27ac``, ``--dnase`` and ``--track NAME=FILE`` into an ordered mapping.

    The order is the reference's (H3K27ac, DNase), then ``--track`` in the order given.
    """
    out: dict[str, Path] = {}
    if h3k27ac is not None:
        out["h3k27ac"] = Path(h3k27ac)
    if dnase is not None:
        out["dnase"] = Path(dnase)
    for spec in track or []:
        if "=" not in spec:
            raise Seq2ExpError(f"--track {spec}: expected NAME=FILE, e.g. --track atac=atac.bw")
        name, _, path = spec.partition("=")
        name = name.strip().lower()
        if not name or not path:
            raise Seq2ExpError(f"--track {spec}: expected NAME=FILE, e.g. --track atac=atac.bw")
        if name in out:
            raise Seq2ExpError(f"--track {spec}: track '{name}' given twice")
        if not Path(path).exists():
            raise Seq2ExpError(f"{path}: file not found (given as --track {name}); check the path")
        out[name] = Path(path)
    return out


def parse_chroms(value: str) -> list[str]:
    """``"chr3,chr21"`` -> ``["chr3", "chr21"]`` (empty string -> no chromosomes)."""
    return [c.strip() for c in value.split(",") if c.strip()]


def _shard(ctx: typer.Context, param: typer.CallbackParam, value: Optional[str]):
    """``--shard I/N`` checked at parse time (a one-line error, exit code 2)."""
    from ..shard import parse_shard

    return None if value is None else parse_shard(value)


def _chroms(ctx: typer.Context, param: typer.CallbackParam, value: Optional[str]):
    from ..shard import parse_chrom_list

    return None if value is None else parse_chrom_list(value)


ChromsOpt = Annotated[
    Optional[str],
    typer.Option("--chroms", help="Only genes on these chromosomes, comma-separated "
                 "(e.g. chr1,chr2).", callback=_chroms, show_default=False),
]
ShardOpt = Annotated[
    Optional[str],
    typer.Option("--shard", help="Only part I of N (1-based, e.g. 2/8): whole chromosomes "
                 "of about equal gene counts; the N parts joined equal the unsharded output.",
                 callback=_shard, show_default=False),
]
