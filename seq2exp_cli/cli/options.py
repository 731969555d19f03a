"""Options shared by every subcommand, each declared once: same flag, same meaning, everywhere.

Each is an ``Annotated`` type (``genes: GenesOpt = None``).  The input options a command
reads its data with (genes, genome, tracks, Hi-C, targets, blacklist, store, model, device)
are added to a command by :func:`input_options` and reach it as one :class:`InputOptions`.
Output paths (``-o/--output`` and the like) are checked at parse time by
:func:`writable_output`: an output under an existing file, or in a folder that cannot be
written, is a one-line error before any work is done.
"""

from __future__ import annotations

import functools
import inspect
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from ..errors import InputError, Seq2ExpError


#: the help panel of the shared input options; its title states where missing ones are found
INPUTS = "Inputs (the flag, else $SEQ2EXP_NAME, else seq2exp.toml)"


def _existing(ctx: typer.Context, param: typer.CallbackParam, value: Optional[Path]) -> Optional[Path]:
    """Reject a missing input file at parse time, as a one-line error (exit code 2)."""
    if value is not None and not Path(value).exists():
        flag = param.opts[0] if param.opts else param.name
        raise InputError(f"{value}: file not found (given as {flag}); check the path")
    return value


def check_writable(value: str | os.PathLike, flag: str) -> None:
    """Raise a one-line error when nothing can be written at ``value``.

    The path's nearest existing ancestor must be a folder we may write in (the folders
    below it are created by the command), and the path must not lie under a file.

    Raises
    ------
    Seq2ExpError
        Naming the path, the blocking file or folder, and the flag.
    """
    p = Path(value)
    if str(p) == "-":
        return
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise Seq2ExpError(f"{p}: cannot write here: {anc} is a file, not a folder; "
                           f"choose another {flag}")
    if anc.exists() and not os.access(anc, os.W_OK | os.X_OK):
        raise Seq2ExpError(f"{p}: cannot write here: folder {anc} is not writable; "
                           f"choose another {flag}")


def writable_output(ctx: typer.Context, param: typer.CallbackParam, value):
    """Typer callback of every output path: :func:`check_writable` at parse time."""
    if value is not None:
        flag = param.opts[0] if param.opts else param.name.upper()
        check_writable(value, flag)
    return value


def output_option(help: str, metavar: str = "FILE") -> typer.models.OptionInfo:
    """``-o/--output PATH``: where a command writes its result (checked at parse time)."""
    return typer.Option("--output", "-o", help=help, callback=writable_output,
                        show_default=False, metavar=metavar)


FastaOpt = Annotated[
    Optional[Path],
    typer.Option("--fasta", "-g", help="Genome FASTA (a .fai is built when missing).",
                 callback=_existing, show_default=False, metavar="FILE", rich_help_panel=INPUTS),
]
GenesOpt = Annotated[
    Optional[Path],
    typer.Option("--genes", help="Genes: TSV (gene_id, chrom, tss, strand[, name]), BED6 or GTF/GFF3.",
                 callback=_existing, show_default=False, metavar="FILE", rich_help_panel=INPUTS),
]
DnaseOpt = Annotated[
    Optional[Path],
    typer.Option("--dnase", help="DNase-seq (or ATAC) bigWig; shorthand for --track dnase=FILE.",
                 callback=_existing, show_default=False, metavar="FILE", rich_help_panel=INPUTS),
]
H3k27acOpt = Annotated[
    Optional[Path],
    typer.Option("--h3k27ac", help="H3K27ac bigWig; shorthand for --track h3k27ac=FILE.",
                 callback=_existing, show_default=False, metavar="FILE", rich_help_panel=INPUTS),
]
TrackOpt = Annotated[
    Optional[list[str]],
    typer.Option("--track", help="Named bigWig track NAME=FILE (repeatable).", show_default=False,
                 metavar="NAME=FILE", rich_help_panel=INPUTS),
]
HicOpt = Annotated[
    Optional[Path],
    typer.Option("--hic", help="Hi-C contacts: .hic, .cool or .mcool (default: ABC power law).",
                 callback=_existing, show_default=False, metavar="FILE", rich_help_panel=INPUTS),
]
BlacklistOpt = Annotated[
    Optional[Path],
    typer.Option("--blacklist", "-bl", help="BED of regions to mask out.", callback=_existing,
                 show_default=False, metavar="FILE", rich_help_panel=INPUTS),
]
TargetsOpt = Annotated[
    Optional[Path],
    typer.Option("--targets", help="TSV gene_id, value (raw CAGE/RNA), then optional feature "
                 "columns.", callback=_existing, show_default=False, metavar="FILE",
                 rich_help_panel=INPUTS),
]
StoreOpt = Annotated[
    Optional[Path],
    typer.Option("--store", help="Dataset store from `seq2exp preprocess` (instead of raw input "
                 "files).", show_default=False, metavar="STORE"),
]
ModelOpt = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="Trained model: a run folder of `seq2exp train`, a "
                 "checkpoint folder or a .safetensors file (default: the model bundled in "
                 "weights/).", show_default=False, metavar="RUN", rich_help_panel=INPUTS),
]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N.",
                      metavar="DEVICE")
]
OutOpt = Annotated[
    Optional[Path], output_option("Output file (written atomically); default stdout."),
]
ResolutionOpt = Annotated[
    int, typer.Option("--resolution", help="Hi-C bin size in bp.", metavar="BP")
]
NormOpt = Annotated[
    str, typer.Option("--normalization", help="Hi-C normalisation: NONE, VC, KR or SCALE.",
                      metavar="NAME")
]
WindowOpt = Annotated[
    int, typer.Option("--window", help="Window width in bp, centred on the TSS.", metavar="BP")
]
GeneOpt = Annotated[
    Optional[list[str]],
    typer.Option("--gene", help="Only these genes (id or name; repeatable).", show_default=False,
                 metavar="GENE"),
]
SplitOpt = Annotated[
    Optional[str], typer.Option("--split", help="Only genes of this split (train, val, test).",
                                show_default=False, metavar="SPLIT"),
]
BatchOpt = Annotated[int, typer.Option("--batch-size", help="Genes per batch.", metavar="N")]


@dataclass
class InputOptions:
    """The values of the shared input options of one command invocation."""

    genes: Optional[Path] = None
    dnase: Optional[Path] = None
    h3k27ac: Optional[Path] = None
    track: Optional[list[str]] = None
    hic: Optional[Path] = None
    fasta: Optional[Path] = None
    targets: Optional[Path] = None
    blacklist: Optional[Path] = None
    resolution: int = 5000
    normalization: str = "VC"
    store: Optional[Path] = None
    model: Optional[Path] = None
    device: str = "auto"


#: the option type of each field of :class:`InputOptions`
_OPTION_TYPES = {
    "genes": GenesOpt, "dnase": DnaseOpt, "h3k27ac": H3k27acOpt, "track": TrackOpt,
    "hic": HicOpt, "fasta": FastaOpt, "targets": TargetsOpt, "blacklist": BlacklistOpt,
    "resolution": ResolutionOpt, "normalization": NormOpt, "store": StoreOpt,
    "model": ModelOpt, "device": DeviceOpt,
}
#: the options of the raw input files (``preprocess`` takes these only)
FILE_OPTIONS = ("genes", "dnase", "h3k27ac", "track", "hic", "fasta", "targets", "blacklist",
                "resolution", "normalization")
#: the options of a command that runs a trained model on a store or raw files
MODEL_OPTIONS = FILE_OPTIONS + ("store", "model", "device")


def input_options(names: tuple[str, ...] = MODEL_OPTIONS) -> Callable:
    """Add the shared input options ``names`` to a command; it receives them as ``inputs``.

    The decorated function declares a parameter ``inputs`` (an :class:`InputOptions`) and
    its own options; the command Typer sees has its own options followed by ``names``.
    """
    defaults = {f.name: f.default for f in fields(InputOptions)}
    shared = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=defaults[n],
                                annotation=_OPTION_TYPES[n]) for n in names]

    def decorate(func: Callable) -> Callable:
        sig = inspect.signature(func, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "inputs"]

        @functools.wraps(func)
        def command(**kwargs):
            given = {n: kwargs.pop(n) for n in names}
            return func(inputs=InputOptions(**given), **kwargs)

        params = own + shared
        command.__signature__ = sig.replace(parameters=params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # Typer must read the new signature, not the function's
        return command

    return decorate


def parse_tracks(track: Optional[list[str]]) -> dict[str, Path]:
    """``--track NAME=FILE`` values as an ordered name -> path mapping.

    Raises
    ------
    Seq2ExpError
        A value without ``=``, an empty name or path, or a missing file.
    """
    out: dict[str, Path] = {}
    for spec in track or []:
        name, sep, path = spec.partition("=")
        name = name.strip().lower()
        if not sep or not name or not path:
            raise Seq2ExpError(f"--track {spec}: expected NAME=FILE, e.g. --track atac=atac.bw")
        if name in out:
            raise Seq2ExpError(f"--track {spec}: track '{name}' given twice")
        if not Path(path).exists():
            raise Seq2ExpError(f"{path}: file not found (given as --track {name}); check the path")
        out[name] = Path(path)
    return out


def collect_tracks(
    dnase: Optional[Path], h3k27ac: Optional[Path], track: Optional[list[str]]
) -> dict[str, Path]:
    """Merge ``--h3k27ac``, ``--dnase`` and ``--track NAME=FILE`` into an ordered mapping.

    The order is the reference's (H3K27ac, DNase), then ``--track`` in the order given
    (:func:`seq2exp_cli.store.inputs.track_paths`).
    """
    from ..store.inputs import track_paths

    named = parse_tracks(track)
    try:
        return track_paths(dnase, h3k27ac, named)
    except Seq2ExpError as exc:
        raise Seq2ExpError(f"--track: {exc}") from None


def parse_chroms(value: str) -> list[str]:
    """Split ``"chr3,chr21"`` into ``["chr3", "chr21"]`` (empty string -> no chromosomes)."""
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


def _workers(value: Optional[str]) -> Optional[int]:
    """``--workers``: a count >= 1, or ``auto`` (None)."""
    if value is None or str(value).strip().lower() == "auto":
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if n < 1:
        raise typer.BadParameter(f"{value!r}: give a count of 1 or more, or auto")
    return n


WorkersOpt = Annotated[
    Optional[str],
    typer.Option("--workers", metavar="N|auto", callback=_workers, show_default=False,
                 help="Split the genes over N one-thread processes, by whole chromosomes (the "
                 "output equals one process's). Default auto: one per core on the CPU, at "
                 "least 64 genes each; 1 on a GPU."),
]


def worker_count(requested: Optional[int], n_genes: int, device) -> int:
    """``--workers`` resolved: the count given, else :func:`~seq2exp_cli.inference.workers.auto_workers`."""
    if requested is not None:
        if int(requested) > 1 and getattr(device, "type", str(device)) != "cpu":
            import logging

            logging.getLogger(__name__).warning(
                "--workers %d: worker processes run on the CPU only; using 1 on %s",
                int(requested), device)
            return 1
        return int(requested)
    import torch

    from ..inference.workers import auto_workers

    return auto_workers(n_genes, device, torch.get_num_threads())
