"""Open the raw inputs once: genome, gene table (+ targets, split), tracks, Hi-C, blacklist.

Shared by :func:`~seq2exp_cli.store.preprocess` (which writes a store) and
:class:`~seq2exp_cli.store.live.FileWindows` (which reads windows straight from the files).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError, Seq2ExpError
from . import layout
from .normalise import QUANTILE, ScaledTrack, track_scale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InputFiles:
    """The raw inputs of a dataset and how to read them.

    Shared by :func:`~seq2exp_cli.store.preprocess` (which writes a store) and
    :class:`~seq2exp_cli.store.live.FileWindows` (which reads windows straight from the
    files); both also take these fields as keyword arguments.

    Attributes
    ----------
    fasta : Path
        Genome FASTA; defines the canonical chromosome names.
    genes : Path
        Gene table: TSV, BED6 or GTF/GFF3 (see :func:`seq2exp_cli.io.genes.read_genes`).
    tracks : dict of str to Path
        Track name -> bigWig path, e.g. ``{"h3k27ac": "k27.bw", "dnase": "dnase.bw"}``
        (:func:`track_paths` builds it from ``dnase``/``h3k27ac``); the Hi-C contact is
        appended as the last signal.
    hic : Path, optional
        ``.hic``, ``.cool`` or ``.mcool``; None uses the ABC power-law fallback.
    targets : Path, optional
        TSV with ``gene_id, value`` (raw CAGE/RNA) and optional feature columns.
    blacklist : Path, optional
        BED of regions to mask (forced to 0 by the model).
    resolution : int
        Hi-C bin size (bp).
    normalization : str
        Hi-C normalisation: NONE, VC, KR or SCALE.
    hic_gamma : float
        Exponent of the power-law pseudocount (:func:`seq2exp_cli.contacts.contact_profile`).
    val_chroms, test_chroms : tuple of str
        Chromosomes of the validation and test splits; the rest is training.
    """

    fasta: Path
    genes: Path
    tracks: Mapping[str, Path]
    hic: Path | None = None
    targets: Path | None = None
    blacklist: Path | None = None
    resolution: int = 5000
    normalization: str = "VC"
    hic_gamma: float = 0.87
    val_chroms: tuple[str, ...] = layout.DEFAULT_VAL_CHROMS
    test_chroms: tuple[str, ...] = layout.DEFAULT_TEST_CHROMS

    def __post_init__(self) -> None:
        """Normalise the field types, then :meth:`validate`."""
        opt = {"hic": self.hic, "targets": self.targets, "blacklist": self.blacklist}
        set_ = object.__setattr__  # frozen: normalise the types once, here
        set_(self, "fasta", Path(self.fasta))
        set_(self, "genes", Path(self.genes))
        set_(self, "tracks", {str(k): Path(v) for k, v in dict(self.tracks or {}).items()})
        for name, value in opt.items():
            set_(self, name, Path(value) if value is not None else None)
        set_(self, "normalization", str(self.normalization).upper())
        set_(self, "val_chroms", tuple(self.val_chroms))
        set_(self, "test_chroms", tuple(self.test_chroms))

    @classmethod
    def of(cls, inputs: InputFiles | None = None, **fields: Any) -> InputFiles:
        """Return ``inputs``, or the inputs named by keyword ``fields``, but not both."""
        if inputs is None:
            return cls(**fields)
        if fields:
            raise TypeError(f"give InputFiles or its fields, not both ({', '.join(fields)})")
        return inputs


def track_paths(dnase=None, h3k27ac=None, tracks: Mapping[str, Any] | None = None
                ) -> dict[str, Path]:
    """Merge the DNase and H3K27ac bigWigs with other named tracks, in the reference's order.

    The order is H3K27ac, DNase (as the reference's signals), then ``tracks`` in their
    order.

    Raises
    ------
    Seq2ExpError
        A track named twice.
    """
    out: dict[str, Path] = {}
    if h3k27ac is not None:
        out["h3k27ac"] = Path(h3k27ac)
    if dnase is not None:
        out["dnase"] = Path(dnase)
    for name, path in (tracks or {}).items():
        name = str(name).strip().lower()
        if name in out:
            raise Seq2ExpError(f"track '{name}' given twice")
        out[name] = Path(path)
    return out


@dataclass
class Inputs:
    """Opened inputs.

    ``genes`` has gene_id, name, chrom, tss, strand, target_raw, target, split, has_target
    and one column per feature.
    """

    genome: Any
    genes: pd.DataFrame
    feature_names: list[str]
    tracks: dict[str, Any]
    contacts: Any | None
    blacklist: pd.DataFrame | None
    paths: dict[str, Path] = field(default_factory=dict)
    #: track name -> the divisor its values were normalised by (:mod:`.normalise`)
    track_scales: dict[str, float] = field(default_factory=dict)

    def close(self) -> None:
        """Close the bigWig files."""
        for t in self.tracks.values():
            t.close()


def _check_exists(path, flag: str) -> None:
    if path is not None and not Path(path).exists():
        raise InputError(f"{path}: file not found (given as {flag}); check the path")


def open_inputs(files: InputFiles, quiet: bool = False, for_training: bool = True,
                known_scales: Mapping[str, float] | None = None) -> Inputs:
    """Validate and open every input; raise :class:`InputError` naming the bad file.

    With ``quiet`` the notices (genes without a target, the power-law fallback) are not
    logged; without ``for_training`` (inputs read to predict) the genes without a target
    are only a debug message, as they concern training and evaluation.  ``known_scales``
    (track -> scale) skips sampling those tracks' genome-wide scale: a worker reopening
    files its parent opened (the sampling is most of the opening time).
    """
    from ..io.bed import read_blacklist
    from ..io.bigwig import BigWigTrack
    from ..io.fasta import Genome
    from ..io.genes import read_genes
    from ..io.hic import open_contacts
    from ..io.targets import read_targets, transform_target

    fasta, genes, tracks, hic = files.fasta, files.genes, files.tracks, files.hic
    targets, blacklist = files.targets, files.blacklist
    if not tracks:
        raise Seq2ExpError("no signal tracks given; pass at least --dnase or --track NAME=FILE")
    for name in tracks:
        if name == layout.CONTACT_TRACK:
            raise Seq2ExpError(f"--track {name}=...: the name '{name}' is reserved for Hi-C")
    _check_exists(fasta, "--fasta")
    _check_exists(genes, "--genes")
    for name, p in tracks.items():
        _check_exists(p, f"--track {name}")
    _check_exists(hic, "--hic")
    _check_exists(targets, "--targets")
    _check_exists(blacklist, "--blacklist")

    genome = Genome(fasta)
    chroms = genome.chroms
    gdf = read_genes(genes, chroms).reset_index(drop=True)
    log.debug("read %d genes from %s", len(gdf), genes)
    gdf["target_raw"] = np.nan
    feature_cols: list[str] = []
    if targets is not None:
        tdf = read_targets(targets, list(gdf["gene_id"]))
        feature_cols = [c for c in tdf.columns if c not in ("gene_id", "value")]
        tdf = tdf.set_index("gene_id")
        gdf["target_raw"] = gdf["gene_id"].map(tdf["value"]).astype(float)
        for c in feature_cols:
            gdf[c] = gdf["gene_id"].map(tdf[c]).astype(float)
        n_missing = int(gdf["target_raw"].isna().sum())
        if n_missing and not quiet:
            log.log(logging.INFO if for_training else logging.DEBUG,
                    "%d of %d genes have no target in %s; they are kept for prediction "
                    "and left out of training and evaluation", n_missing, len(gdf), targets)
    gdf["target"] = transform_target(gdf["target_raw"].to_numpy(dtype=float))
    gdf["has_target"] = gdf["target_raw"].notna()
    gdf["split"] = layout.assign_split(gdf["chrom"].tolist(), files.val_chroms, files.test_chroms,
                                       chroms.get)

    opened, scales = {}, {}
    gene_chroms = list(dict.fromkeys(gdf["chrom"]))
    for name, p in tracks.items():
        trk = BigWigTrack(p, chroms, name=name)
        trk.require_data(gene_chroms)
        if known_scales is not None and name in known_scales:
            scales[name] = float(known_scales[name])
        else:
            scales[name] = track_scale(trk, [c for c in chroms.names if trk.has_chrom(c)],
                                       chroms.sizes)
        log.debug("%s: values divided by %.6g (its %g quantile)", p, scales[name], QUANTILE)
        opened[name] = ScaledTrack(trk, scales[name])
    source = None
    if hic is not None:
        source = open_contacts(hic, resolution=files.resolution,
                               normalization=files.normalization, chroms=chroms)
    elif not quiet:
        log.warning("no Hi-C given; using the ABC power-law contact fallback "
                    "exp(5.96 - 1.024 ln(d+1))")
    bl = read_blacklist(blacklist, chroms) if blacklist is not None else None
    paths = {"fasta": Path(fasta), "genes": Path(genes)}
    paths.update({f"track:{k}": Path(v) for k, v in tracks.items()})
    for role, p in (("hic", hic), ("targets", targets), ("blacklist", blacklist)):
        if p is not None:
            paths[role] = Path(p)
    return Inputs(genome, gdf, feature_cols, opened, source, bl, paths, scales)


def blacklist_intervals(bl: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Chrom -> sorted (n, 2) int64 array of [start, end) intervals."""
    out: dict[str, np.ndarray] = {}
    if bl is None or not len(bl):
        return out
    for chrom, sub in bl.groupby("chrom"):
        arr = sub[["start", "end"]].to_numpy(dtype=np.int64)
        out[str(chrom)] = arr[np.argsort(arr[:, 0], kind="mergesort")]
    return out
