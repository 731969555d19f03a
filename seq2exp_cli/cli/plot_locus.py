"""``seq2exp plot-locus GENE -o locus.png``: tracks, contact, learned mask, elements and genes."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer

from ..errors import Seq2ExpError
from .options import InputOptions, input_options, output_option

READS_INPUTS = True
EXAMPLES = """
seq2exp plot-locus SIM1 -o locus.png --truth truth_elements.bed      # in a simulated folder
seq2exp plot-locus SIM1 -o locus.svg --width 60000 --peaks macs3_peaks.narrowPeak
seq2exp plot-locus --region chr1:20000-90000 -o region.pdf
seq2exp plot-locus MYC --store store/ --model run/ --annotation gencode.v44.gtf -o myc.png
"""

_REGION = re.compile(r"^([^:\s]+):([\d,_]+)-([\d,_]+)$")


def parse_region(text: str) -> tuple[str, int, int]:
    """``chr1:20,000-90,000`` -> ``("chr1", 20000, 90000)`` (0-based half-open, as BED).

    Raises
    ------
    Seq2ExpError
        Not of the form CHROM:START-END with START < END.
    """
    m = _REGION.match(text.strip())
    if not m:
        raise Seq2ExpError(f"--region {text}: expected CHROM:START-END, e.g. chr1:20000-90000")
    chrom, a, b = m.group(1), int(re.sub("[,_]", "", m.group(2))), int(re.sub("[,_]", "", m.group(3)))
    if b <= a:
        raise Seq2ExpError(f"--region {text}: END must be larger than START")
    return chrom, a, b


def _canonical(chrom: str) -> str:
    """``1`` and ``chr1`` alike (the alias rule of every input)."""
    return chrom[3:] if chrom.lower().startswith("chr") else chrom


def _gene_for_region(source, chrom: str, a: int, b: int) -> int:
    """Return the gene whose window holds the region, with its TSS nearest its centre."""
    g = source.genes
    half = source.window_bp // 2
    same = g["chrom"].astype(str).map(_canonical) == _canonical(chrom)
    near = g[same & (g["tss"] - half <= a) & (g["tss"] + half >= b)]
    if near.empty:
        raise Seq2ExpError(f"--region {chrom}:{a}-{b}: no gene's window ({source.window_bp:,} bp "
                           "around its TSS) holds it; give a smaller region or a GENE")
    return int((near["tss"] - (a + b) // 2).abs().idxmin())


def _annotation(inputs: InputOptions, source, given: Optional[Path]) -> Optional[Path]:
    """Return the gene models' file: --annotation, the genes input, or the store's record."""
    if given is not None:
        return given
    if inputs.store is None:
        from .resolve import find_input

        return find_input("genes", inputs.genes)
    rec = getattr(source, "manifest", {}).get("inputs", {}).get("genes", {})
    p = Path(rec.get("path", "")) if rec else None
    return p if p is not None and p.is_file() else None


def _blacklist_frame(window) -> pd.DataFrame:
    """Return the blacklisted runs of a genome-orientation window as chrom/start/end rows."""
    d = np.diff(np.r_[0, window.blacklist.astype(np.int8), 0])
    s, e = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return pd.DataFrame({"chrom": window.chrom, "start": window.start + s, "end": window.start + e})


@input_options()
def main(
    inputs: InputOptions,
    gene: Annotated[Optional[str], typer.Argument(
        help="Gene id or name (or give --region).", metavar="GENE", show_default=False)] = None,
    output: Annotated[Optional[Path], output_option(
        "Figure to write: .png, .svg or .pdf.")] = None,
    region: Annotated[Optional[str], typer.Option(
        "--region", "-r", metavar="CHROM:START-END",
        help="Draw this region (inside the gene's window; without GENE, the gene whose TSS "
        "is nearest its centre).", show_default=False)] = None,
    width: Annotated[Optional[int], typer.Option(
        "--width", metavar="BP", help="Draw TSS ± BP/2 (default: the model's whole window).",
        show_default=False)] = None,
    peaks: Annotated[Optional[Path], typer.Option(
        "--peaks", metavar="FILE", help="Peaks to draw (narrowPeak/BED, e.g. MACS3).",
        show_default=False)] = None,
    truth: Annotated[Optional[Path], typer.Option(
        "--truth", metavar="FILE", help="Known elements to draw, coloured by the kind in "
        "their name column (BED, e.g. truth_elements.bed).", show_default=False)] = None,
    annotation: Annotated[Optional[Path], typer.Option(
        "--annotation", metavar="FILE", help="Gene models to draw: GTF/GFF3 (exons, strand) "
        "or a TSS table (default: the --genes file, or the one the store was made from).",
        show_default=False)] = None,
    links: Annotated[Optional[Path], typer.Option(
        "--links", metavar="FILE", help="Draw the gene's `seq2exp call-links` rows as arcs "
        "(a TSV of call-links).", show_default=False)] = None,
    cutoff: Annotated[Optional[float], typer.Option(
        "--cutoff", metavar="NUMBER", help="Mask cutoff of the drawn elements (default: the "
        "model's calibrated cutoff, else 0.5).", show_default=False)] = None,
) -> None:
    """Draw one gene's window: signals, contact, learned mask, elements, truth, gene models.

    Every track's y axis has its unit; blacklisted bases are shaded and left out of the
    y scales; truth elements are coloured by kind (one legend for the figure).
    """
    from ..inference.elements import default_cutoff, locus_view
    from ..io.bed import read_bed, read_peaks
    from ..io.gene_models import read_gene_models
    from ..plot import figure_format, plot_locus
    from .sources import model_and_source

    if output is None:
        raise Seq2ExpError("no figure to write: give -o FILE.png (or .svg, .pdf)")
    figure_format(output)
    if gene is None and region is None:
        raise Seq2ExpError("no locus: give a GENE (id or name) or --region CHROM:START-END")
    if width is not None and width <= 0:
        raise Seq2ExpError(f"--width {width}: must be a positive number of bp")
    reg = parse_region(region) if region is not None else None
    model, source = model_and_source(inputs)
    if gene is None:
        gene = str(source.genes.iloc[_gene_for_region(source, *reg)]["gene_id"])
    if cutoff is None:
        cutoff = default_cutoff(model)
    view = locus_view(source, model, gene, cutoff)
    i = source.gene_index(gene)
    g = source.genes.iloc[i]
    chrom, lo = view["chrom"], view["start"]
    hi = lo + len(view["mask"])
    if reg is not None:
        if _canonical(reg[0]) != _canonical(chrom):
            raise Seq2ExpError(f"--region {region}: {gene} lies on {chrom}")
        show = (max(reg[1], lo), min(reg[2], hi))
        if show[1] <= show[0]:
            raise Seq2ExpError(f"--region {region}: outside {gene}'s window {chrom}:{lo}-{hi}")
    elif width is not None:
        show = (max(int(g["tss"]) - width // 2, lo), min(int(g["tss"]) + width // 2, hi))
    else:
        show = (lo, hi)
    scales = getattr(source, "track_scales", {}) or {}
    signals = {n: (v * scales[n] if n in scales else v) for n, v in view["signals"].items()}
    units = {n: ("(bigWig value)" if n in scales else "(÷ 0.99 quantile)")
             for n in signals if n != "contact"}
    win = source.window(i, orient="genome")
    extra = {}
    if peaks is not None:
        name = "MACS3 peaks" if "narrowpeak" in peaks.name.lower() else "peaks"
        extra[name] = read_peaks(peaks) if name == "MACS3 peaks" else read_bed(peaks)
    models = None
    ann = _annotation(inputs, source, annotation)
    if ann is not None:
        models = read_gene_models(ann, chrom, show[0], show[1])
    gene_links = None
    if links is not None:
        from ..io.links import read_links

        ln = read_links(links)
        keep = (ln["TargetGeneEnsembl_ID"].astype(str) == str(g["gene_id"])) | (
            ln["TargetGene"].astype(str) == str(g["name"])) if "TargetGene" in ln else (
            ln["TargetGeneEnsembl_ID"].astype(str) == str(g["gene_id"]))
        gene_links = ln[keep]
    plot_locus(output, chrom, lo, view["tss"], view["gene"], signals, view["mask"],
               view["elements"], extra, truth=read_bed(truth) if truth is not None else None,
               blacklist=_blacklist_frame(win), genes=models, links=gene_links, region=show,
               units=units, strand=str(g["strand"]), gene_id=str(g["gene_id"]), cutoff=cutoff)
    print(f"seq2exp: wrote {output} ({view['gene']}, {chrom}:{show[0]:,}-{show[1]:,})",
          file=sys.stderr)
