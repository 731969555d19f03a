"""The preprocessed dataset store and its window API.

``preprocess`` reads the raw inputs once (FASTA, genes, bigWig tracks, Hi-C, targets,
blacklist) and writes a store directory that training and prediction read windows from
without re-parsing anything:

``manifest.json``
    format version, inputs (path, size, sha256), options, chromosome sizes, track names.
``genes.tsv``
    one row per gene: id, name, chrom, tss (0-based), strand, split, raw and transformed
    target, optional features, contact quality.
``seq/<chrom>.npy``
    sequence codes, uint8 per bp (A=0, C=1, G=2, T=3, N=4).
``tracks/<name>/<chrom>.npy``
    float32 signal per bp (NaN and no-data as 0).
``contact.npy``
    float32 (n_genes, n_bins) ABC-style contact of each gene's TSS bin with each bin of
    its window, pseudocount included, not log-transformed.
``contact_matrix.npy``
    float32 (n_genes, n_bins, n_bins) the same contacts between every pair of the window's
    Hi-C bins (its TSS row is ``contact.npy``'s); read by EpiExpr-3D.
``blacklist.bed``
    the blacklist intervals, canonical chromosome names.
"""

from .layout import FORMAT_VERSION, DEFAULT_TEST_CHROMS, DEFAULT_VAL_CHROMS
from .preprocess import preprocess
from .store import Store
from .windows import Window, WindowSource

__all__ = [
    "FORMAT_VERSION",
    "DEFAULT_TEST_CHROMS",
    "DEFAULT_VAL_CHROMS",
    "preprocess",
    "Store",
    "Window",
    "WindowSource",
]
