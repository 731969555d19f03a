"""One colour per name in every figure and IGV session.

Okabe-Ito colours, safe for colour-blind readers: DNase is the same blue in the locus plot,
the PR curves and IGV, enhancers the same purple.
"""

from __future__ import annotations

import zlib

__all__ = ["COLORS", "DISPLAY", "TRUTH_KINDS", "color_of", "display_name"]

#: one colour per name, in every figure (Okabe-Ito colours, safe for colour-blind readers)
COLORS = {
    "dnase": "#0072B2", "atac": "#0072B2", "h3k27ac": "#009E73", "contact": "#555555",
    "mask": "#D55E00", "seq2exp": "#D55E00", "elements": "#D55E00", "seq2exp links": "#8B2E00",
    "macs3": "#E69F00", "peaks": "#E69F00",
    "enhancer": "#CC79A7", "promoter": "#56B4E9", "decoy": "#7F7F7F", "ctcf": "#B8A800",
    "abc activity": "#009E73", "abc": "#004D3A", "abc-hic": "#00A087", "abc-tracks": "#66C2A5",
    "distance": "#999999", "oracle": "#000000", "random": "#BBBBBB",
    "train": "#999999", "val": "#56B4E9", "test": "#D55E00",
    "gene": "#332288", "blacklist": "#BBBBBB", "links": "#8B2E00",
    "loss": "#0072B2", "val mse": "#D55E00", "val pearson": "#009E73",
}
_SPARE = ("#882255", "#44AA99", "#117733", "#999933", "#AA4499", "#6699CC", "#661100")
#: how a track name is written on an axis
DISPLAY = {"dnase": "DNase", "atac": "ATAC", "h3k27ac": "H3K27ac", "contact": "Hi-C contact",
           "mask": "learned mask"}
#: the planted kinds of truth_elements.bed, in legend order
TRUTH_KINDS = ("enhancer", "promoter", "decoy", "ctcf")


def color_of(name: str) -> str:
    """Return the colour of ``name`` in every figure (an unknown name: a fixed spare one)."""
    key = str(name).lower()
    if key in COLORS:
        return COLORS[key]
    for k in ("macs3", "seq2exp links", "seq2exp", "abc-hic", "abc-tracks", "abc activity",
              "oracle"):
        if key.startswith(k):
            return COLORS[k]
    return _SPARE[zlib.crc32(key.encode()) % len(_SPARE)]


def display_name(name: str) -> str:
    """``dnase`` -> ``DNase``; other names as they are."""
    return DISPLAY.get(str(name).lower(), str(name))
