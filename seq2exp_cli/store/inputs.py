"""Open the raw inputs once: genome, gene table (+ targets, split), tracks, Hi-C, blacklist.

Shared by :func:`~seq2exp_cli.store.preprocess` (which writes a store) and
:class:`~seq2exp_cli.store.live.FileWindows` (which reads windows straight from the files).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, Seq2ExpError
from . import layout

log = logging.getLogger(__name__)

#: genes whose promoter self-contact falls below this are flagged ``contact_ok = False``
#: and left out of training and evaluation (method.md; ABC's Hi-C coverage check).
from ..io.hic import SELF_CONTACT_MIN as MIN_SELF_CONTACT  # noqa: E402, F401 (re-exported)


@dataclass
class Inputs:
    """Opened inputs.  ``genes`` has gene_id, name, chrom, tss, strand, target_raw, target,
    split, has_target and one column per feature."""

    genome: Any
    genes: pd.DataFrame
    feature_names: list[str]
    tracks: dict[str, Any]
    contacts: Any | None
    blacklist: pd.DataFrame | None
    paths: dict[str, Path] = field(default_factory=dict)

    def close(self) -> None:
        for t in self.tracks.values():
            t.close()


def _check_exists(path, flag: str) -> None:
    if path is not None and not Path(path).exists():
        raise InputError(f"{path}: file not found (given as {flag}); check the path")


def open_inputs(
    fasta: str | Path,
    genes: str | Path,
    tracks: Mapping[str, str | Path],
    hic: str | Path | None = None,
    targets: str | Path | None = None,
    blacklist: str | Path | None = None,
    resolution: int = 5000,
    normalization: str = "VC",
    val_chroms: Sequence[str] = layout.DEFAULT_VAL_CHROMS,
    test_chroms: Sequence[str] = layout.DEFAULT_TEST_CHROMS,
    quiet: bool = False,
) -> Inputs:
    """Validate and open every input; raise :class:`InputError` naming the bad file."""
    from ..io.bed import read_blacklist
    from ..io.bigwig import BigWigTrack
    from ..io.fasta import Genome
    from ..io.genes import read_genes
    from ..io.hic import open_contacts
    from ..io.targets import read_targets, transform_target

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
    log.info("read %d genes from %s", len(gdf), genes)
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
            print(
                f"seq2exp: {n_missing} of {len(gdf)} genes have no target in {targets}; "
                "they are kept for prediction and left out of training and evaluation",
                file=sys.stderr,
            )
    gdf["target"] = transform_target(gdf["target_raw"].to_numpy(dtype=float))
    gdf["has_target"] = gdf["target_raw"].notna()
    gdf["split"] = layout.assign_split(gdf["chrom"].tolist(), val_chroms, test_chroms, chroms.get)

    opened = {name: BigWigTrack(p, chroms, name=name) for name, p in tracks.items()}
    gene_chroms = list(dict.fromkeys(gdf["chrom"]))
    for trk in opened.values():
        trk.require_data(gene_chroms)
    source = None
    if hic is not None:
        source = open_contacts(hic, resolution=resolution, normalization=normalization, chroms=chroms)
    elif not quiet:
        print(
            "seq2exp: no Hi-C given; using the ABC power-law contact fallback "
            "exp(5.96 - 1.024 ln(d+1))",
            file=sys.stderr,
        )
    bl = read_blacklist(blacklist, chroms) if blacklist is not None else None
    paths = {"fasta": Path(fasta), "genes": Path(genes)}
    paths.update({f"track:{k}": Path(v) for k, v in tracks.items()})
    for role, p in (("hic", hic), ("targets", targets), ("blacklist", blacklist)):
        if p is not None:
            paths[role] = Path(p)
    return Inputs(genome, gdf, feature_cols, opened, source, bl, paths)


def n_contact_bins(window_bp: int, resolution: int) -> int:
    """Genome-aligned Hi-C bins that a window of ``window_bp`` can touch."""
    return window_bp // resolution + 1


def gene_contact(source, chrom: str, tss: int, window_bp: int, resolution: int, gamma: float,
                 chrom_size: int) -> tuple[np.ndarray, float]:
    """ABC-style contact profile of one gene and its promoter self-contact.

    Returns
    -------
    profile : np.ndarray, shape=(n_bins,), float32
        Contact of the TSS bin with each genome bin from the one holding
        ``tss - window_bp // 2`` onwards (pseudocount included; zero past the last bin the
        window touches and outside the chromosome); see
        :func:`seq2exp_cli.io.hic.contact_profile`.
    self_contact : float
        The TSS bin's own normalised contact (:func:`seq2exp_cli.io.hic.self_contact`).
    """
    from ..io.hic import contact_profile, self_contact

    prof = np.asarray(
        contact_profile(source, chrom, tss, window=window_bp, resolution=resolution, gamma=gamma,
                        chrom_size=chrom_size),
        dtype=np.float32,
    )
    out = np.zeros(n_contact_bins(window_bp, resolution), dtype=np.float32)
    out[: len(prof)] = prof
    return out, self_contact(source, chrom, tss, resolution=resolution)


class MatrixBlocks:
    """Reads square blocks of a contact map through one cached larger block, so that the
    matrices of neighbouring genes (sorted by TSS, as in a gene table) share one read.

    Parameters
    ----------
    source:
        The :class:`~seq2exp_cli.io.hic.ContactSource`.
    extra:
        Bins read beyond each request (the next genes reuse them).
    """

    def __init__(self, source, extra: int = 256):
        self.source = source
        self.extra = int(extra)
        self._hit: tuple[str, int, int, np.ndarray] | None = None

    def get(self, chrom: str, lo: int, hi: int) -> np.ndarray:
        """Dense block of bins ``[lo, hi)`` x ``[lo, hi)`` of ``chrom`` (see
        :meth:`~seq2exp_cli.io.hic_sources.ContactSource.matrix`), float64."""
        hit = self._hit
        if hit is None or hit[0] != chrom or not (hit[1] <= lo and hi <= hit[2]):
            b0, b1 = lo, hi + self.extra
            hit = (chrom, b0, b1, self.source.matrix(chrom, b0, b1, b0, b1))
            self._hit = hit
        _, b0, _, blk = hit
        return blk[lo - b0:hi - b0, lo - b0:hi - b0]


def _tss_row_total(source, chrom: str, tss: int, b_lo: int, b_hi: int,
                   norm_distance: int) -> float:
    """Sum of the TSS bin's row over ``tss ± norm_distance`` (and the window) after the
    diagonal correction: the factor :func:`seq2exp_cli.io.hic.contact_profile` divides
    the row by (steps 1-3 there, same arithmetic)."""
    from ..io.hic import tss_row_diag_corrected

    return float(tss_row_diag_corrected(source, chrom, tss, b_lo, b_hi, norm_distance)[0].sum())


def gene_contact_matrix(source, chrom: str, tss: int, window_bp: int, resolution: int,
                        gamma: float, chrom_size: int, blocks: MatrixBlocks | None = None,
                        norm_distance: int = 5_000_000,
                        pseudocount_distance: int = 1_000_000) -> np.ndarray:
    """Contact between every pair of a gene's genome-aligned Hi-C bins.

    The bins are those of :func:`gene_contact` (bin 0 holds ``tss - window_bp // 2``), and
    the matrix extends the profile's convention symmetrically so that its TSS row *is*
    the stored profile:

    * each bin is anchored at its centre, except the TSS bin, anchored at the TSS; the
      distance of a pair is that between their anchors;
    * with Hi-C, the observed block (chosen normalisation) has every diagonal entry
      replaced by the max of its two neighbours in its row, the whole block is divided by
      the TSS row's sum over ``tss ± norm_distance`` (the one factor that scales the
      profile; a single factor keeps the matrix symmetric), and the pseudocount
      ``min(powerlaw(d), powerlaw(pseudocount_distance))`` of
      :func:`seq2exp_cli.io.hic.contact_profile` is added;
    * without Hi-C, ABC's fallback :func:`seq2exp_cli.io.hic.abc_powerlaw` of ``d``;
    * pairs with a bin outside the chromosome, or past the last bin the window touches,
      are 0.

    Parameters
    ----------
    source:
        :class:`~seq2exp_cli.io.hic.ContactSource` or None (power law).
    blocks:
        Optional :class:`MatrixBlocks` over ``source`` reused across genes.

    Returns
    -------
    np.ndarray, shape=(nb, nb), float32
        ``nb = n_contact_bins(window_bp, resolution)``; symmetric; not log-transformed.
    """
    from ..io.hic import abc_powerlaw, powerlaw_contact, profile_bins

    res = source.resolution if source is not None else int(resolution)
    b_lo, b_hi = profile_bins(tss, window_bp, res)
    n = b_hi - b_lo
    bins = np.arange(b_lo, b_hi)
    anchor = (bins + 0.5) * res
    anchor[int(tss) // res - b_lo] = float(tss)
    dist = np.abs(anchor[:, None] - anchor[None, :])
    from ..io.hic import bins_inside

    size = source.chrom_size(chrom) if source is not None else chrom_size
    inside = bins_inside(bins, res, size)
    if source is None:
        mat = abc_powerlaw(dist)
    else:
        blk = (blocks.get(chrom, b_lo - 1, b_hi + 1) if blocks is not None
               else source.matrix(chrom, b_lo - 1, b_hi + 1, b_lo - 1, b_hi + 1))
        i = np.arange(n)
        mat = np.array(blk[1:-1, 1:-1], dtype=np.float64)
        mat[i, i] = np.maximum(blk[i + 1, i], blk[i + 1, i + 2])
        total = _tss_row_total(source, chrom, tss, b_lo, b_hi, norm_distance)
        if total > 0:
            mat /= total
        mat += np.minimum(powerlaw_contact(dist, gamma, None, min_distance=res),
                          powerlaw_contact(pseudocount_distance, gamma, None, min_distance=res))
    mat = np.where(inside[:, None] & inside[None, :], mat, 0.0)
    nb = n_contact_bins(window_bp, resolution)
    out = np.zeros((nb, nb), dtype=np.float32)
    out[:n, :n] = mat
    return out


def blacklist_intervals(bl: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """chrom -> sorted (n, 2) int64 array of [start, end) intervals."""
    out: dict[str, np.ndarray] = {}
    if bl is None or not len(bl):
        return out
    for chrom, sub in bl.groupby("chrom"):
        arr = sub[["start", "end"]].to_numpy(dtype=np.int64)
        out[str(chrom)] = arr[np.argsort(arr[:, 0], kind="mergesort")]
    return out
