"""Real JASPAR 2024 motifs: loading, sampling instances, scoring.

The committed table ``seq2exp_cli/data/jaspar2024_motifs.tsv`` holds position frequency
matrices (counts) of a few human CORE matrices with a role each: ``activator`` (planted in
enhancers; each carries an activity weight), ``promoter`` (planted at TSSs) and
``insulator`` (CTCF, at domain boundaries and loop anchors).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

#: activity contributed by one planted instance of each activating motif (arbitrary units)
ACTIVATOR_WEIGHT = {
    "GATA1": 1.0,
    "GATA1::TAL1": 1.6,
    "KLF1": 0.9,
    "NFE2": 1.2,
    "SPI1": 0.6,
    "CEBPB": 0.5,
    "FOS::JUN": 0.8,
    "RUNX1": 0.5,
}
#: promoter strength contributed by one planted instance of each promoter motif
PROMOTER_WEIGHT = {"SP1": 1.0, "NRF1": 1.2, "YY1": 0.8, "ETS1": 0.9}


@dataclass
class Motif:
    """One position frequency matrix.

    Attributes
    ----------
    matrix_id: JASPAR ID with version, e.g. ``MA0035.5``.
    name: TF name.
    role: ``activator``, ``promoter`` or ``insulator``.
    probs: shape=(width, 4), base probabilities (A, C, G, T) with a 0.01 pseudocount.
    """

    matrix_id: str
    name: str
    role: str
    probs: np.ndarray

    @property
    def width(self) -> int:
        """Motif length (bp)."""
        return self.probs.shape[0]

    @property
    def weight(self) -> float:
        """Activity (activators) or strength (promoter motifs) per instance; 0 otherwise."""
        return ACTIVATOR_WEIGHT.get(self.name, PROMOTER_WEIGHT.get(self.name, 0.0))

    def consensus(self) -> str:
        """Most likely base at each position."""
        return "".join("ACGT"[i] for i in self.probs.argmax(axis=1))


def load_motifs() -> list[Motif]:
    """All motifs of the committed JASPAR table, in file order."""
    text = resources.files("seq2exp_cli.data").joinpath("jaspar2024_motifs.tsv").read_text()
    rows: dict[str, list] = {}
    for line in text.strip().splitlines()[1:]:
        mid, name, role, _pos, *acgt = line.split("\t")
        rows.setdefault(mid, [name, role, []])[2].append([float(v) for v in acgt])
    out = []
    for mid, (name, role, mat) in rows.items():
        m = np.asarray(mat)
        p = m / m.sum(axis=1, keepdims=True)
        p = (p + 0.01) / (1 + 0.04)
        out.append(Motif(mid, name, role, p))
    return out


def sample_instances(
    motif: Motif, n: int, rng: np.random.Generator, sharpness: float = 2.0
) -> np.ndarray:
    """Draw ``n`` binding sites from the matrix's column probabilities (forward strand).

    ``sharpness`` > 1 raises each column's probabilities to that power (then renormalises),
    favouring high-affinity sites as found in active enhancers; 1 samples the PFM as is.

    Returns
    -------
    np.ndarray, shape=(n, width), dtype=uint8 -- base codes 0..3.
    """
    p = motif.probs**sharpness
    p /= p.sum(axis=1, keepdims=True)
    cum = np.cumsum(p, axis=1)[None, :, :3]
    u = rng.random((n, motif.width, 1))
    return (u > cum).sum(axis=2).astype(np.uint8)


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of base codes along the last axis (N stays N)."""
    rc = np.where(codes < 4, 3 - codes.astype(np.int16), codes).astype(np.uint8)
    return rc[..., ::-1]


def log_odds(motif: Motif, background: np.ndarray | None = None) -> np.ndarray:
    """Log2-odds matrix ``(width, 4)`` against a background base composition."""
    bg = np.full(4, 0.25) if background is None else np.asarray(background)
    return np.log2(motif.probs / bg[None, :])


def best_scores(seqs: np.ndarray, motif: Motif) -> np.ndarray:
    """Best log-odds score of the motif on either strand of each row of ``seqs``.

    Parameters
    ----------
    seqs: shape=(n, length), base codes (N scored as T).

    Returns
    -------
    np.ndarray, shape=(n,)
    """
    lo = log_odds(motif).astype(np.float32)
    s = np.minimum(seqs, 3)
    w, length = motif.width, seqs.shape[1]
    m = length - w + 1
    fwd = np.zeros((len(s), m), dtype=np.float32)
    rev = np.zeros((len(s), m), dtype=np.float32)
    for j in range(w):
        fwd += lo[j][s[:, j : j + m]]
        rev += lo[w - 1 - j][3 - s[:, j : j + m]]
    return np.maximum(fwd.max(axis=1), rev.max(axis=1))


def max_score(motif: Motif) -> float:
    """Highest possible log-odds score of the motif."""
    return float(log_odds(motif).max(axis=1).sum())


def best_score(seq_codes: np.ndarray, motif: Motif) -> float:
    """Best log-odds score of the motif on either strand of a short sequence (codes)."""
    lo = log_odds(motif)
    w = motif.width
    if len(seq_codes) < w:
        return float("-inf")
    win = np.lib.stride_tricks.sliding_window_view(np.minimum(seq_codes, 3), w)
    cols = np.arange(w)[None, :]
    fwd = lo[cols, win].sum(axis=1)
    rev = lo[::-1][cols, 3 - win].sum(axis=1)
    return float(max(fwd.max(), rev.max()))
