"""Simulation parameters: one flat dataclass and named presets.

All lengths are in bp.  A preset fixes the genome size (chromosome lengths) and the gene
density; everything else has one default shared by every preset.  The full configuration is
written beside every simulated data set (``truth.json``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import Seq2ExpError

#: chromosomes of every preset: training, validation (chr3, chr21) and test (chr22, chrX)
VALID_CHROMS = ("chr3", "chr21")
TEST_CHROMS = ("chr22", "chrX")
#: units the bigWigs can be written in (see :attr:`SimConfig.track_units`)
TRACK_UNITS = ("signal", "rpm", "counts")

#: GRCh38 lengths (bp) of chr1-chr22 and chrX (UCSC hg38 chrom.sizes)
HG38_SIZES = {
    "chr1": 248_956_422, "chr2": 242_193_529, "chr3": 198_295_559, "chr4": 190_214_555,
    "chr5": 181_538_259, "chr6": 170_805_979, "chr7": 159_345_973, "chr8": 145_138_636,
    "chr9": 138_394_717, "chr10": 133_797_422, "chr11": 135_086_622, "chr12": 133_275_309,
    "chr13": 114_364_328, "chr14": 107_043_718, "chr15": 101_991_189, "chr16": 90_338_345,
    "chr17": 83_257_441, "chr18": 80_373_285, "chr19": 58_617_616, "chr20": 64_444_167,
    "chr21": 46_709_983, "chr22": 50_818_468, "chrX": 156_040_895,
}


@dataclass
class SimConfig:
    """Parameters of the generative model.

    Attributes
    ----------
    chrom_sizes:
        Chromosome name -> length (bp), in output order.
    gene_spacing:
        Mean distance between consecutive TSSs (bp); gaps are gamma-distributed.
    min_end_distance:
        Smallest TSS distance to a chromosome end or N gap (bp), except for the
        ``near_end_genes`` placed close to an end on purpose (to exercise padding).
    near_end_genes:
        How many genes get a TSS within a few kb of a chromosome end.
    enhancers_per_gene, decoys_per_gene:
        Mean numbers (Poisson) of enhancers / decoys placed around each gene.
    reach:
        Enhancers act on genes whose TSS lies within this distance (bp): the model's half
        window.
    element_width:
        Width of enhancers and decoys (bp); promoters are ``promoter_width`` wide, centred on
        the TSS.
    motifs_per_enhancer:
        Inclusive range of activating motif instances planted per enhancer.
    gamma:
        Power-law exponent of contact decay with distance.
    tad_size:
        Mean domain size (bp); each boundary crossed multiplies contact by ``insulation``.
    hic_depth:
        Expected Hi-C count of a bin with itself (5 kb bins).
    baseline:
        Enhancer-independent term of the ABC-like expression model.
    cage_scale:
        Expected CAGE counts of a gene with promoter strength 1 and enhancer sum 1.
    nb_dispersion:
        Negative-binomial dispersion of observed CAGE (variance = mu + phi mu^2).
    heldout_fraction:
        Fraction of genes left out of ``cage.tsv`` (the ones users predict).
    signal_bin:
        Signals are piecewise constant over runs of this many bp.
    track_units:
        Units the DNase and H3K27ac bigWigs are written in (the truth tables keep the
        model's own units): ``signal`` (the generative model's values, fold-enrichment-like),
        ``rpm`` (per-bp coverage in reads per million, for reads of ``read_length`` bp) or
        ``counts`` (per-bp read coverage: Poisson draws at ``read_depth`` reads per unit of
        signal, so low values are noisy integers).  What another lab's pipeline would give.
    track_scale:
        Factor applied to both bigWigs after the unit conversion (e.g. 10).
    read_depth, read_length:
        Reads per unit of signal per bp (``counts``) and read length (``rpm``).
    """

    chrom_sizes: dict[str, int] = field(default_factory=dict)
    gene_spacing: int = 100_000
    min_end_distance: int = 5_000
    near_end_genes: int = 2
    enhancers_per_gene: float = 4.0
    decoys_per_gene: float = 4.0
    reach: int = 100_000
    element_width: int = 400
    promoter_width: int = 600
    motifs_per_enhancer: tuple[int, int] = (2, 5)
    repeat_fraction: float = 0.25
    gap_at_start: tuple[int, int] = (10_000, 30_000)
    gamma: float = 0.95
    tad_size: int = 400_000
    insulation: float = 0.45
    loop_strength: float = 3.0
    ep_loop_fraction: float = 0.15
    hic_depth: float = 400.0
    hic_max_distance: int = 2_000_000
    hic_resolutions: tuple[int, ...] = (5_000, 10_000, 25_000)
    baseline: float = 0.15
    cage_scale: float = 30.0
    nb_dispersion: float = 0.45
    heldout_fraction: float = 0.05
    signal_bin: int = 20
    blacklist_per_chrom: int = 2
    track_units: str = "signal"
    track_scale: float = 1.0
    read_depth: float = 8.0
    read_length: int = 50

    def __post_init__(self) -> None:
        if self.track_units not in TRACK_UNITS:
            raise Seq2ExpError(
                f"track_units '{self.track_units}': choose one of {', '.join(TRACK_UNITS)}")
        if not self.track_scale > 0:
            raise Seq2ExpError(f"track_scale must be > 0, got {self.track_scale}")

    def to_dict(self) -> dict:
        """Plain-JSON form (tuples become lists)."""
        return dataclasses.asdict(self)

    @property
    def genome_size(self) -> int:
        """Total bp."""
        return sum(self.chrom_sizes.values())


def _sizes(total_mb: float, train_chroms: int) -> dict[str, int]:
    """Chromosome sizes summing to ``total_mb``; larger chromosomes first, like hg38."""
    names = [f"chr{i}" for i in range(1, train_chroms + 1) if f"chr{i}" not in VALID_CHROMS]
    names += list(VALID_CHROMS) + list(TEST_CHROMS)
    if "chr3" not in names[:3]:
        names = sorted(
            set(names), key=lambda n: (n == "chrX", int(n[3:]) if n[3:].isdigit() else 99)
        )
    weights = [1.0 / (1 + 0.08 * i) for i in range(len(names))]
    s = sum(weights)
    return {n: int(round(total_mb * 1e6 * w / s / 1000)) * 1000 for n, w in zip(names, weights)}


def _hg38_scaled(scale: float) -> dict[str, int]:
    """hg38's chromosomes (chr1-22, X) in their real proportions, each ``scale`` of its
    length (rounded to kb)."""
    return {c: int(round(n * scale / 1000)) * 1000 for c, n in HG38_SIZES.items()}


PRESETS: dict[str, dict] = {
    # ~3.5 Mb, ~35 genes: seconds; used by the tests
    "ci": dict(chrom_sizes=_sizes(3.5, 3), hic_resolutions=(5_000, 10_000), tad_size=250_000),
    # ~5 Mb, ~50 genes: committed under examples/
    "example": dict(chrom_sizes=_sizes(5.0, 4)),
    # ~60 Mb, ~600 genes: a data set large enough to train on
    "train": dict(chrom_sizes=_sizes(60.0, 10)),
    # hg38's 23 chromosomes at 22 % of their length (679 Mb, ~6,800 genes at the same
    # density): >= 4,000 training and >= 400 test genes with targets, a third of a human
    # cell type's protein-coding genes
    "large": dict(chrom_sizes=_hg38_scaled(0.22)),
}


def make_config(preset: str = "ci", **overrides) -> SimConfig:
    """The configuration of a named preset with some fields overridden.

    Raises
    ------
    Seq2ExpError
        For an unknown preset or field name.
    """
    if preset not in PRESETS:
        raise Seq2ExpError(f"unknown preset '{preset}'; choose one of {', '.join(PRESETS)}")
    fields = {f.name for f in dataclasses.fields(SimConfig)}
    bad = sorted(set(overrides) - fields)
    if bad:
        raise Seq2ExpError(f"unknown simulation parameter(s): {', '.join(bad)}")
    kw = dict(PRESETS[preset])
    kw.update(overrides)
    return SimConfig(**kw)
