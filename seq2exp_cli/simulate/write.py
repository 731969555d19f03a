"""Write a simulated cell type (:class:`~seq2exp_cli.simulate.generate.SimData`) to files.

Every format goes through the project's writers in :mod:`seq2exp_cli.io`.  Inputs a user
would have for a real cell type, then the truth (files named ``truth*``).  See :data:`FILE_TABLE`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..io.atomic import write_text_atomic
from .generate import SimData
from .sequence import rng_for, to_text
from .signals import in_units

#: every file of a simulated data set, with what it holds
FILE_TABLE = """\
==========================  ======================================================
``genome.fa`` (+ ``.fai``)  sequence; repeats soft-masked (lower case), N gaps
``chrom.sizes``             chromosome lengths (bp)
``genes.gtf``/``genes.tsv`` gene bodies / TSSs (0-based ``tss``)
``dnase.bw``/``h3k27ac.bw`` per-bp signals (piecewise constant over 20 bp runs)
``contacts.hic``            Hi-C counts at 5 kb (+ coarser resolutions)
``contacts.cool``           the same counts at 5 kb
``cage.tsv``                ``gene_id, value`` (raw CAGE counts) + 9 per-gene features;
                            ~5 % of genes left out (to be predicted)
``blacklist.bed``           artefact regions
``truth_elements.bed``      promoters, enhancers, decoys, CTCF sites (kind in ``name``)
``truth_motifs.tsv``        every planted motif instance
``truth_crispri.tsv``       element-gene effects, ENCODE CRISPRi benchmark layout
``truth_genes.tsv``         expected/observed CAGE, promoter strength, enhancer sum
``truth_loops.bedpe``       loops (CTCF and enhancer-promoter)
``truth_domains.bed``       contact domains
``truth.json``              configuration, seed, noise ceiling, counts
``README.md``               the exact command and this list
==========================  ======================================================
"""


def _tsv(path: Path, df: pd.DataFrame, header_comment: bool = False) -> None:
    text = df.to_csv(sep="\t", index=False, float_format="%.6g", lineterminator="\n")
    write_text_atomic(path, ("#" + text) if header_comment else text)


def write_all(
    d: SimData, out: Path, command: str = "", step: Callable[[str], None] | None = None
) -> list[Path]:
    """Write every file of the data set into the existing folder ``out``.

    Returns
    -------
    list of the written paths, in writing order.
    """
    from ..io.bed import write_bed
    from ..io.bigwig import write_bigwig
    from ..io.fasta import write_fasta
    from ..io.genes import write_genes_tsv, write_gtf
    from ..io.hic import write_cool, write_hic

    step = step or (lambda _s: None)
    cfg, sizes = d.cfg, d.cfg.chrom_sizes
    files: list[Path] = []

    def done(*names: str) -> None:
        files.extend(out / n for n in names)

    step("genome.fa")
    write_fasta(out / "genome.fa", {c: to_text(d.codes[c], d.masked[c]) for c in sizes})
    done("genome.fa", "genome.fa.fai")
    write_text_atomic(out / "chrom.sizes", "".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    done("chrom.sizes")

    step("genes")
    g = d.genes
    write_gtf(out / "genes.gtf", g[["gene_id", "name", "chrom", "strand", "tx_start", "tx_end"]])
    write_genes_tsv(out / "genes.tsv", g[["gene_id", "name", "chrom", "tss", "strand"]])
    feats = d.summary["features"]
    cage = g.loc[g.in_cage, ["gene_id"]].assign(value=g.observed_cage[g.in_cage].astype(np.int64))
    cage = pd.concat([cage, g.loc[g.in_cage, feats].round(6)], axis=1)
    _tsv(out / "cage.tsv", cage)
    done("genes.gtf", "genes.tsv", "cage.tsv")

    step("bigWigs")
    rng = rng_for(d.seed, "track_units")
    for name, trk in (("dnase", d.dnase), ("h3k27ac", d.h3k27ac)):
        if cfg.track_units != "signal" or cfg.track_scale != 1.0:
            trk = in_units(trk, cfg.track_units, cfg.track_scale, rng, cfg.read_depth,
                           cfg.read_length)
        write_bigwig(out / f"{name}.bw", sizes, trk)
    done("dnase.bw", "h3k27ac.bw")

    step("Hi-C")
    res = list(cfg.hic_resolutions)
    write_hic(out / "contacts.hic", sizes, res, d.pixels, assembly="sim")
    write_cool(out / "contacts.cool", sizes, res[0], d.pixels)
    done("contacts.hic", "contacts.cool")

    step("truth")
    order = list(sizes)
    write_bed(
        out / "blacklist.bed",
        d.blacklist.assign(name="artefact"),
        columns=["chrom", "start", "end", "name"],
        chrom_order=order,
    )
    el = d.elements.copy()
    amax = max(float(el.activity.max()), 1e-9)
    el["name"] = el.kind
    el["score"] = np.round(1000 * el.activity / amax).astype(int)
    el["strand"] = "."
    cols = [
        "chrom",
        "start",
        "end",
        "name",
        "score",
        "strand",
        "element_id",
        "activity",
        "dnase",
        "h3k27ac",
        "gene_id",
        "n_motifs",
    ]
    el["activity"] = el.activity.round(6)
    write_bed(
        out / "truth_elements.bed",
        el,
        columns=cols,
        chrom_order=order,
        header_lines=["#" + "\t".join(cols)],
    )
    _tsv(out / "truth_motifs.tsv", d.motifs)
    _tsv(out / "truth_crispri.tsv", d.crispri)
    tg = g[
        [
            "gene_id",
            "name",
            "chrom",
            "tss",
            "strand",
            "promoter_strength",
            "enhancer_sum",
            "stability",
            "expected_cage",
            "observed_cage",
            "in_cage",
        ]
    ]
    _tsv(out / "truth_genes.tsv", tg)
    lp = d.loops
    r0 = cfg.hic_resolutions[0]
    bedpe = pd.DataFrame(
        {
            "chrom1": lp.chrom,
            "start1": lp.pos1 // r0 * r0,
            "end1": lp.pos1 // r0 * r0 + r0,
            "chrom2": lp.chrom,
            "start2": lp.pos2 // r0 * r0,
            "end2": lp.pos2 // r0 * r0 + r0,
            "name": lp.kind,
            "element_id": lp.element_id,
            "gene_id": lp.gene_id,
        }
    )
    _tsv(out / "truth_loops.bedpe", bedpe, header_comment=True)
    dom = []
    for c, n in sizes.items():
        b = np.sort(d.boundaries.pos[d.boundaries.chrom == c].to_numpy())
        edges = np.concatenate([[0], b, [n]])
        dom += [(c, int(a), int(z)) for a, z in zip(edges[:-1], edges[1:]) if z > a]
    write_bed(
        out / "truth_domains.bed",
        pd.DataFrame(dom, columns=["chrom", "start", "end"]),
        columns=["chrom", "start", "end"],
        chrom_order=order,
    )
    done(
        "blacklist.bed",
        "truth_elements.bed",
        "truth_motifs.tsv",
        "truth_crispri.tsv",
        "truth_genes.tsv",
        "truth_loops.bedpe",
        "truth_domains.bed",
    )

    # timings stay out of truth.json so that the same seed gives byte-identical files
    summary = {k: v for k, v in d.summary.items() if k != "seconds"}
    truth = {"command": command, "config": cfg.to_dict(), **summary}
    write_text_atomic(out / "truth.json", json.dumps(truth, indent=1, default=float) + "\n")
    done("truth.json")
    write_text_atomic(out / "README.md", _readme(command, d))
    done("README.md")
    return files


def _readme(command: str, d: SimData) -> str:
    table = "\n".join("    " + line for line in FILE_TABLE.splitlines())
    nc = d.summary["noise_ceiling"]
    c = d.summary["counts"]
    return (
        "# Simulated cell type (seq2exp simulate)\n\n"
        f"Made with:\n\n    {command}\n\n"
        f"{len(d.cfg.chrom_sizes)} chromosomes, {d.cfg.genome_size:,} bp, {c['genes']} genes "
        f"({c['genes_heldout']} left out of cage.tsv), {c['enhancers']} enhancers, "
        f"{c['decoys']} decoys, {c['ctcfs']} CTCF sites.  Noise ceiling (Pearson of "
        f"log10(1+CAGE) observed vs expected): {nc['pearson_log10_all']:.3f} overall, "
        f"{nc['pearson_log10_test']:.3f} on the test chromosomes (chr22, chrX).\n\n"
        + (f"The bigWigs are in {d.cfg.track_units} units"
           + (f", times {d.cfg.track_scale:g}" if d.cfg.track_scale != 1.0 else "")
           + " (truth_elements.bed keeps the model's own signal units).\n\n"
           if d.cfg.track_units != "signal" or d.cfg.track_scale != 1.0 else "")
        + "Coordinates are 0-based half-open (BED convention) except in the GTF (1-based).\n"
        "Validation chromosomes: chr3, chr21; test: chr22, chrX.\n\n"
        "Files:\n\n" + table + "\n"
    )
