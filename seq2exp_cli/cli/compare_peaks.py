"""``seq2exp compare-peaks``: learned elements against peaks, planted truth and CRISPRi links.

The Markdown report goes to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import DnaseOpt, GenesOpt, H3k27acOpt, _existing, output_option, writable_output


def _file(flag: str, text: str):
    return typer.Option(flag, help=text, callback=_existing, show_default=False)


def main(
    elements: Annotated[Path | None, _file(
        "--elements", "Learned elements: `seq2exp call-elements` BED6+4.")] = None,
    mask: Annotated[Path | None, _file(
        "--mask", "Learned mask bigWig (instead of --elements).")] = None,
    mask_cutoff: Annotated[float, typer.Option(
        "--mask-cutoff", help="With --mask: bp with mask >= this form the elements.")] = 0.5,
    truth: Annotated[Path | None, _file(
        "--truth", "Planted elements (truth_elements.bed; name = enhancer/decoy/promoter).")] = None,
    peaks: Annotated[Path | None, _file("--peaks", "Peaks: narrowPeak or BED.")] = None,
    call_peaks: Annotated[bool, typer.Option(
        "--call-peaks", help="Call peaks on --dnase with `macs3 bdgpeakcall`.")] = False,
    dnase: DnaseOpt = None,
    h3k27ac: H3k27acOpt = None,
    genes: GenesOpt = None,
    store: Annotated[Path | None, typer.Option(
        "--store", help="Dataset store (genes, splits, chromosome sizes, window).",
        show_default=False)] = None,
    split: Annotated[str, typer.Option(help="Genes of this split: train, val, test or all.")] = "test",
    window: Annotated[int | None, typer.Option(
        "--window", help="Window width in bp, centred on the TSS (default: the store's, "
        "else 200000).", show_default=False)] = None,
    chrom_sizes: Annotated[Path | None, _file(
        "--chrom-sizes", "chrom<TAB>size file (default: the store's, else a bigWig's).")] = None,
    crispri: Annotated[Path | None, _file(
        "--crispri", "CRISPRi benchmark TSV (ENCODE layout) for link AUPRC.")] = None,
    links: Annotated[Path | None, _file(
        "--links", "Element-gene links from `seq2exp call-links` (scored against --crispri).")] = None,
    macs3_cutoff: Annotated[float | None, typer.Option(
        "--macs3-cutoff", help="bdgpeakcall -c (default: the --macs3-quantile of DNase per bp "
        "over the windows).", show_default=False)] = None,
    macs3_quantile: Annotated[float, typer.Option("--macs3-quantile")] = 0.9,
    macs3_min_length: Annotated[int, typer.Option("--macs3-min-length", help="bdgpeakcall -l (bp).")] = 150,
    macs3_max_gap: Annotated[int, typer.Option("--macs3-max-gap", help="bdgpeakcall -g (bp).")] = 50,
    output: Annotated[Path | None, output_option(
        "Write PREFIX.tsv (method, metric, value, scope) and PREFIX.md.")] = None,
    plot_dir: Annotated[Path | None, typer.Option(
        "--plot-dir", help="Folder for PR-curve PNGs (bp-level, links).", show_default=False,
        callback=writable_output)] = None,
) -> None:
    """Compare learned elements with DNase peaks inside the genes' windows.

    Universe: the chosen genes' windows (TSS ± window/2) minus promoters.

    Reports mask ratio vs peak coverage and bp / interval overlap; with --truth
    precision, recall, F1, AUPRC and decoy FPR; with --crispri link AUPRC.
    """
    from ..evaluation.compare import compare_peaks_files

    rep = compare_peaks_files(
        genes=genes, store=store, split=split, window=window, chrom_sizes=chrom_sizes, elements=elements, mask=mask, truth=truth,
        peaks=peaks, call_peaks=call_peaks, dnase=dnase, h3k27ac=h3k27ac, crispri=crispri,
        links=links, out_prefix=output, plot_dir=plot_dir, mask_cutoff=mask_cutoff,
        macs3_cutoff=macs3_cutoff, macs3_quantile=macs3_quantile,
        macs3_min_length=macs3_min_length, macs3_max_gap=macs3_max_gap)
    sys.stdout.write(rep.to_markdown())
    sys.stdout.flush()
    if output is not None:
        print(f"seq2exp: wrote {output}.tsv and {output}.md", file=sys.stderr)
