"""CRISPRi enhancer-gene benchmark tables (ENCODE layout).

Format: the ENCODE-rE2G CRISPRi benchmark TSV (``chrom, chromStart, chromEnd`` of the tested
element, ``measuredGeneEnsemblId``/``measuredGeneSymbol``, ``startTSS``, ``distanceToTSS``,
``Regulated``; optional ``ValidConnection``, ``activity`` and ``contact``).  Every row is one
tested (element, gene) pair; positives are ``Regulated == True``.  Coordinates are 0-based
half-open bp.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["read_crispri"]

_REQUIRED = ("chrom", "chromStart", "chromEnd", "Regulated")


def _as_bool(col: pd.Series) -> np.ndarray:
    if col.dtype == bool:
        return col.to_numpy()
    return col.astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).to_numpy()


def read_crispri(path: str | os.PathLike, genes: pd.DataFrame) -> pd.DataFrame:
    """Read the benchmark and keep the pairs of ``genes`` (matched by Ensembl id without its version, else by gene name).

    Rows with ``ValidConnection`` false are dropped.

    Returns
    -------
    pd.DataFrame
        ``chrom, start, end, gene_id, tss, distance, regulated`` plus ``activity`` and
        ``contact`` when the table has them; ``distance`` = element midpoint − TSS (bp)
        unless given by ``distanceToTSS``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: CRISPRi table not found; check --crispri")
    df = pd.read_csv(path, sep="\t", dtype={"chrom": str, "measuredGeneEnsemblId": str,
                                            "measuredGeneSymbol": str})
    missing = [c for c in _REQUIRED if c not in df]
    if missing:
        raise InputError(f"{path}: columns {missing} missing; expected the ENCODE CRISPRi "
                         "benchmark layout (chrom, chromStart, chromEnd, ..., Regulated)")
    if "ValidConnection" in df:
        df = df[_as_bool(df["ValidConnection"])]
    ids = genes["gene_id"].astype(str)
    by_id = dict(zip(ids.str.split(".").str[0], ids))  # Ensembl ids match without version
    by_name = dict(zip(genes["name"].astype(str), ids)) if "name" in genes else {}
    gid = pd.Series([None] * len(df), index=df.index, dtype=object)
    if "measuredGeneEnsemblId" in df:
        gid = df["measuredGeneEnsemblId"].astype(str).str.split(".").str[0].map(by_id)
    if "measuredGeneSymbol" in df:
        gid = gid.fillna(df["measuredGeneSymbol"].map(by_name))
    df = df.assign(gene_id=gid)[gid.notna().to_numpy()].reset_index(drop=True)
    tss_of = dict(zip(ids, genes["tss"].astype(np.int64)))
    out = pd.DataFrame({
        "chrom": df["chrom"].astype(str), "start": df["chromStart"].astype(np.int64),
        "end": df["chromEnd"].astype(np.int64), "gene_id": df["gene_id"].astype(str),
    })
    out["tss"] = out["gene_id"].map(tss_of).astype(np.int64)
    mid = (out["start"] + out["end"]) // 2 - out["tss"]
    if "distanceToTSS" in df:
        mid = pd.to_numeric(df["distanceToTSS"], errors="coerce").fillna(mid)
    out["distance"] = mid.astype(np.int64)
    out["regulated"] = _as_bool(df["Regulated"])
    for col in ("activity", "contact"):
        if col in df:
            out[col] = pd.to_numeric(df[col], errors="coerce").fillna(0.0).to_numpy()
    return out
