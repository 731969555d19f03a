"""Windows read straight from the raw files, for ``seq2exp predict --genes ... --dnase ...``.

Nothing is written: sequence and tracks are read per window (pyfaidx, pyBigWig) and each
gene's contact profile (and, when asked for, its contact matrix) is computed on first use
and cached.  The windows are identical
to those of a store preprocessed from the same files (a test holds them equal).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import layout
from ..contacts import SELF_CONTACT_MIN, MatrixBlocks, gene_contact, gene_contact_matrix
from .inputs import InputFiles, blacklist_intervals, open_inputs
from .windows import WindowSource


class FileWindows(WindowSource):
    """A :class:`WindowSource` over raw input files.

    Parameters
    ----------
    inputs : InputFiles, optional
        The raw inputs; or give its fields as keyword arguments (``fasta=``, ``genes=``,
        ``tracks=``, ...), as to :func:`seq2exp_cli.store.preprocess`.
    window_bp : int
        Window width in bp.
    quiet : bool
        Do not log the input notices (genes without a target, the power-law fallback).
    track_scales : dict, optional
        Track -> scale already measured on these files (by a source being reopened), so
        that they are not sampled again.
    """

    def __init__(self, inputs: InputFiles | None = None, *, window_bp: int = 200_000,
                 quiet: bool = False, track_scales: dict[str, float] | None = None,
                 **files: Any):
        inputs = InputFiles.of(inputs, **files)
        self._files = inputs
        self.inputs = open_inputs(inputs, quiet=quiet, for_training=False,
                                  known_scales=track_scales)
        self.path = inputs.genes
        self.genes = self.inputs.genes
        self.window_bp = int(window_bp)
        self.resolution = int(inputs.resolution)
        self.hic_gamma = inputs.hic_gamma
        self.track_names = list(inputs.tracks)
        self.track_scales = dict(self.inputs.track_scales)
        self.signal_names = self.track_names + [layout.CONTACT_TRACK]
        self.feature_names = list(self.inputs.feature_names)
        self.chrom_sizes = dict(self.inputs.genome.chroms.sizes)
        self._blacklist = blacklist_intervals(self.inputs.blacklist)
        self._contact_cache: dict[int, np.ndarray] = {}
        self._matrix_cache: dict[int, np.ndarray] = {}
        self._matrix_blocks = (MatrixBlocks(self.inputs.contacts)
                               if self.inputs.contacts is not None else None)
        # the promoter self-contact test needs every gene's profile; computed lazily
        self.genes["contact_ok"] = True
        self.genes["self_contact"] = np.nan

    def contact_bins(self, index: int) -> np.ndarray:
        """Return the gene's raw contact profile (see :meth:`WindowSource.contact_bins`)."""
        prof = self._contact_cache.get(index)
        if prof is None:
            g = self.genes.iloc[index]
            prof, self_c = gene_contact(self.inputs.contacts, g["chrom"], int(g["tss"]),
                                        self.window_bp, self.resolution, self.hic_gamma,
                                        self.chrom_sizes[g["chrom"]])
            self.genes.at[self.genes.index[index], "self_contact"] = self_c
            self.genes.at[self.genes.index[index], "contact_ok"] = self_c >= SELF_CONTACT_MIN
            self._contact_cache[index] = prof
        return prof

    def contact_matrix_bins(self, index: int) -> np.ndarray:
        """Return the gene's raw contact matrix (see :meth:`WindowSource.contact_matrix_bins`)."""
        mat = self._matrix_cache.get(index)
        if mat is None:
            g = self.genes.iloc[index]
            mat = gene_contact_matrix(self.inputs.contacts, g["chrom"], int(g["tss"]),
                                      self.window_bp, self.resolution, self.hic_gamma,
                                      self.chrom_sizes[g["chrom"]], blocks=self._matrix_blocks)
            self._matrix_cache[index] = mat
        return mat

    def _fetch_seq(self, chrom: str, lo: int, hi: int) -> np.ndarray:
        return self.inputs.genome.fetch_codes(chrom, lo, hi)

    def _fetch_track(self, track: str, chrom: str, lo: int, hi: int) -> np.ndarray:
        return self.inputs.tracks[track].fetch(chrom, lo, hi)

    def reopen(self) -> "FileWindows":
        """Open the same files again, quietly, with the track scales already measured."""
        return _reopened(self._files, self.window_bp, self.track_scales)

    def __reduce__(self):
        """Pickle (to a spawned worker) as the files read, not the open handles."""
        return (_reopened, (self._files, self.window_bp, self.track_scales))

    def close(self) -> None:
        """Close the bigWig files."""
        self.inputs.close()


def _reopened(files: InputFiles, window_bp: int, track_scales: dict[str, float]) -> FileWindows:
    """Unpickle a :class:`FileWindows`: open its files again, quietly, with its scales."""
    return FileWindows(files, window_bp=window_bp, quiet=True, track_scales=track_scales)
