"""A preprocessed dataset store (see :mod:`seq2exp_cli.store`) read through memory maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Seq2ExpError
from . import layout
from .inputs import blacklist_intervals
from .windows import Window, WindowSource

__all__ = ["Store", "Window"]


class Store(WindowSource):
    """A dataset store written by :func:`seq2exp_cli.store.preprocess`.

    Parameters
    ----------
    path:
        Store directory.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        mpath = self.path / layout.MANIFEST
        if not mpath.exists():
            raise Seq2ExpError(
                f"{self.path}: not a seq2exp store (no {layout.MANIFEST}); "
                "create one with `seq2exp preprocess`"
            )
        self.manifest = json.loads(mpath.read_text())
        ver = self.manifest.get("format_version")
        if ver != layout.FORMAT_VERSION:
            raise Seq2ExpError(
                f"{self.path}: store format {ver}, this seq2exp reads format "
                f"{layout.FORMAT_VERSION}; re-run `seq2exp preprocess`"
            )
        self.genes = pd.read_csv(
            self.path / layout.GENES, sep="\t", dtype={"gene_id": str, "name": str, "chrom": str}
        )
        self.genes["name"] = self.genes["name"].fillna("")
        opts = self.manifest["options"]
        self.window_bp: int = int(opts["window_bp"])
        self.resolution: int = int(opts["resolution"])
        self.track_names: list[str] = list(self.manifest["tracks"])
        #: track -> the divisor its stored values were normalised by
        self.track_scales: dict[str, float] = dict(self.manifest.get("track_scales", {}))
        self.signal_names: list[str] = list(self.manifest["signals"])
        self.feature_names: list[str] = list(self.manifest.get("features", []))
        self.chrom_sizes: dict[str, int] = dict(self.manifest["chrom_sizes"])
        self._contact = np.load(self.path / layout.CONTACT, mmap_mode="r")
        self._contact_matrix: np.ndarray | None = None  # opened on first use
        self._seq: dict[str, np.ndarray] = {}
        self._tracks: dict[tuple[str, str], np.ndarray] = {}
        self._blacklist = self._read_blacklist()

    def reopen(self) -> "Store":
        """Open the same store again (its arrays are memory maps of its own)."""
        return Store(self.path)

    def __reduce__(self):
        """Pickle (to a spawned worker) as the path, not the memory-mapped arrays."""
        return (Store, (self.path,))

    # ------------------------------------------------------------------ arrays
    def _seq_array(self, chrom: str) -> np.ndarray:
        arr = self._seq.get(chrom)
        if arr is None:
            arr = np.load(layout.seq_path(self.path, chrom), mmap_mode="r")
            self._seq[chrom] = arr
        return arr

    def _track_array(self, track: str, chrom: str) -> np.ndarray:
        key = (track, chrom)
        arr = self._tracks.get(key)
        if arr is None:
            arr = np.load(layout.track_path(self.path, track, chrom), mmap_mode="r")
            self._tracks[key] = arr
        return arr

    def _read_blacklist(self) -> dict[str, np.ndarray]:
        p = self.path / layout.BLACKLIST
        if not (p.exists() and p.stat().st_size):
            return {}
        df = pd.read_csv(p, sep="\t", header=None, names=["chrom", "start", "end"],
                         dtype={"chrom": str})
        return blacklist_intervals(df)

    def contact_bins(self, index: int) -> np.ndarray:
        """Return the gene's raw contact profile (see :meth:`WindowSource.contact_bins`)."""
        return np.asarray(self._contact[index])

    def contact_matrix_bins(self, index: int) -> np.ndarray:
        """Return the gene's raw contact matrix (see :meth:`WindowSource.contact_matrix_bins`)."""
        if self._contact_matrix is None:
            p = self.path / layout.CONTACT_MATRIX
            if not p.exists():
                raise Seq2ExpError(
                    f"{self.path}: no contact matrix (made by an older seq2exp); "
                    "re-run seq2exp preprocess"
                )
            self._contact_matrix = np.load(p, mmap_mode="r")
        return np.asarray(self._contact_matrix[index])

    def _fetch_seq(self, chrom: str, lo: int, hi: int) -> np.ndarray:
        return self._seq_array(chrom)[lo:hi]

    def _fetch_track(self, track: str, chrom: str, lo: int, hi: int) -> np.ndarray:
        return self._track_array(track, chrom)[lo:hi]

    def summary(self) -> dict:
        """Return the counts for ``seq2exp inspect``."""
        g = self.genes
        out = {
            "path": str(self.path),
            "format_version": self.manifest["format_version"],
            "genes": len(g),
            "with_target": int(g["has_target"].sum()),
            "contact_ok": int(g["contact_ok"].sum()),
            "window_bp": self.window_bp,
            "resolution": self.resolution,
            "contact_source": self.manifest["options"].get("contact_source"),
            "signals": self.signal_names,
            "features": self.feature_names,
            "chromosomes": len(self.chrom_sizes),
            "genome_bp": int(sum(self.chrom_sizes.values())),
        }
        for s in ("train", "val", "test"):
            m = g["split"] == s
            out[f"{s}_genes"] = int(m.sum())
            out[f"{s}_trainable"] = int(len(self.indices(s)))
        tg = g.loc[g["has_target"], "target"]
        if len(tg):
            out["target_mean"] = round(float(tg.mean()), 4)
            out["target_sd"] = round(float(tg.std()), 4)
        return out
