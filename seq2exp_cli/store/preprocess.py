"""``seq2exp preprocess``: read the raw inputs once and write a dataset store.

The store is built in a temporary sibling directory and renamed into place only when
complete, so a failed or killed run leaves nothing behind at the output path.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import Seq2ExpError
from ..io.atomic import atomic_dir
from ..progress import progress_bar
from . import layout
from ..contacts import (SELF_CONTACT_MIN, MatrixBlocks, gene_contact, gene_contact_matrix,
                        n_contact_bins)
from .inputs import InputFiles, open_inputs
from .normalise import QUANTILE


def preprocess(
    out: str | Path,
    inputs: InputFiles | None = None,
    *,
    window_bp: int = 200_000,
    overwrite: bool = False,
    checksums: bool = True,
    show_progress: bool = True,
    **files: Any,
) -> Path:
    """Build a dataset store at ``out``.

    Parameters
    ----------
    out : str or Path
        Store directory to create (must not exist unless ``overwrite``).
    inputs : InputFiles, optional
        The raw inputs; or give its fields as keyword arguments (``fasta=``, ``genes=``,
        ``tracks=``, ``hic=``, ``targets=``, ``blacklist=``, ``resolution=``, ...).
    window_bp : int
        Window width W in bp; each gene's window is [TSS - W/2, TSS + W/2).
    overwrite : bool
        Replace an existing store (only once the new one is complete).
    checksums : bool
        Record the sha256 of every input in the manifest.
    show_progress : bool
        Show a progress bar on stderr (when it is a terminal).

    Returns
    -------
    Path
        The written store.
    """
    inputs = InputFiles.of(inputs, **files)
    tracks, hic = inputs.tracks, inputs.hic
    resolution, hic_gamma = inputs.resolution, inputs.hic_gamma
    out = Path(out)
    if out.exists() and not overwrite:
        raise Seq2ExpError(f"{out}: already exists; choose another path or pass --force")
    if window_bp <= 0 or window_bp % 2:
        raise Seq2ExpError(f"--window {window_bp}: must be a positive even number of bp")
    t0 = time.time()
    inp = open_inputs(inputs)
    gdf = inp.genes
    chroms = inp.genome.chroms
    used = [c for c in chroms.names if c in set(gdf["chrom"])]
    nb = n_contact_bins(window_bp, resolution)
    contact = np.zeros((len(gdf), nb), dtype=np.float32)
    self_contact = np.zeros(len(gdf), dtype=np.float32)

    try:
        with atomic_dir(out, overwrite=overwrite) as tmp:
            (tmp / layout.SEQ_DIR).mkdir()
            # (n_genes, nb, nb) matrices written straight to disk (large for big gene sets)
            matrices = np.lib.format.open_memmap(tmp / layout.CONTACT_MATRIX, mode="w+",
                                                 dtype=np.float32, shape=(len(gdf), nb, nb))
            blocks = MatrixBlocks(inp.contacts) if inp.contacts is not None else None
            for name in tracks:
                (tmp / layout.TRACK_DIR / name).mkdir(parents=True)
            with progress_bar(show_progress) as bar:
                task = bar.add_task("chromosomes", total=len(used))
                for chrom in used:
                    bar.update(task, description=f"{chrom}: sequence")
                    np.save(layout.seq_path(tmp, chrom), inp.genome.chrom_codes(chrom))
                    for name, trk in inp.tracks.items():
                        bar.update(task, description=f"{chrom}: {name}")
                        vals = np.asarray(trk.chrom_values(chrom), dtype=np.float32)
                        np.save(layout.track_path(tmp, name, chrom), vals)
                    bar.update(task, description=f"{chrom}: contacts")
                    for i in np.flatnonzero(gdf["chrom"].to_numpy() == chrom):
                        tss = int(gdf.at[i, "tss"])
                        contact[i], self_contact[i] = gene_contact(
                            inp.contacts, chrom, tss, window_bp, resolution,
                            hic_gamma, chroms.sizes[chrom],
                        )
                        matrices[i] = gene_contact_matrix(
                            inp.contacts, chrom, tss, window_bp, resolution, hic_gamma,
                            chroms.sizes[chrom], blocks=blocks,
                        )
                    bar.advance(task)
            gdf["self_contact"] = self_contact
            gdf["contact_ok"] = self_contact >= SELF_CONTACT_MIN
            np.save(tmp / layout.CONTACT, contact)
            matrices.flush()
            del matrices
            gdf.to_csv(tmp / layout.GENES, sep="\t", index=False)
            n_bl = 0
            with open(tmp / layout.BLACKLIST, "w") as fh:
                if inp.blacklist is not None:
                    for row in inp.blacklist.itertuples(index=False):
                        fh.write(f"{row.chrom}\t{int(row.start)}\t{int(row.end)}\n")
                        n_bl += 1
            manifest = {
                "format_version": layout.FORMAT_VERSION,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seq2exp_version": _version(),
                "inputs": {k: layout.file_record(p, checksums) for k, p in inp.paths.items()},
                "options": {
                    "window_bp": window_bp,
                    "resolution": resolution,
                    "normalization": inputs.normalization if hic is not None else None,
                    "hic_gamma": hic_gamma,
                    "contact_source": "hic" if hic is not None else "powerlaw",
                    "val_chroms": list(inputs.val_chroms),
                    "test_chroms": list(inputs.test_chroms),
                    "target_transform": "log10(1+x)",
                    "min_self_contact": SELF_CONTACT_MIN,
                },
                "chrom_sizes": {c: chroms.sizes[c] for c in used},
                "tracks": list(tracks),
                "track_scales": dict(inp.track_scales),
                "track_normalisation": (
                    f"values divided by the {QUANTILE:g} quantile of the track's per-bp values "
                    "over a genome-wide sample of positions (seq2exp_cli.store.normalise)"),
                "signals": list(tracks) + [layout.CONTACT_TRACK],
                "features": inp.feature_names,
                "n_genes": int(len(gdf)),
                "n_with_target": int(gdf["has_target"].sum()),
                "n_blacklist": n_bl,
                "splits": {s: int((gdf["split"] == s).sum()) for s in ("train", "val", "test")},
                "seconds": round(time.time() - t0, 2),
            }
            (tmp / layout.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    finally:
        inp.close()
    return out


def _version() -> str:
    from .. import __version__

    return __version__
