"""Per-gene expression targets (CAGE / RNA-seq) and optional per-gene features.

Format: a tab- (``.tsv``/``.txt``) or comma- (``.csv``) separated table with a header
(https://www.iana.org/assignments/media-types/text/tab-separated-values).  Required
columns: a gene id (``gene_id``; aliases ``gene``, ``id``, ``name``) and the raw target
(``value``; aliases ``cage``, ``expression``, ``target``, ``rna``, ``tpm``, ``count``).
Any other numeric column is kept as an optional per-gene feature, e.g. the nine of
:data:`FEATURE_COLUMNS`.  The model is trained on ``log10(1 + value)``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

#: The nine optional per-gene features of the paper: eight mRNA half-life features
#: (log10 z-scores of region lengths, GC contents, ORF exon-junction density) and the
#: promoter activity sqrt(H3K27ac_RPM_TSS1kb * DNase_RPM_TSS1kb).
FEATURE_COLUMNS: tuple[str, ...] = (
    "utr5_length",
    "cds_length",
    "intron_length",
    "utr3_length",
    "utr5_gc",
    "cds_gc",
    "utr3_gc",
    "orf_exon_junction_density",
    "promoter_activity",
)

_ID_ALIASES = ("gene_id", "geneid", "gene", "id", "name", "gene_name")
_VALUE_ALIASES = ("value", "cage", "expression", "target", "rna", "tpm", "count", "counts")


def transform_target(raw: np.ndarray) -> np.ndarray:
    """``log10(1 + raw)``, elementwise; raw values must be >= 0."""
    return np.log10(1.0 + np.asarray(raw, dtype=np.float64))


def inverse_transform_target(y: np.ndarray) -> np.ndarray:
    """Inverse of :func:`transform_target`: ``10**y - 1``."""
    return np.power(10.0, np.asarray(y, dtype=np.float64)) - 1.0


def read_targets(path: str | os.PathLike, gene_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Read raw per-gene targets and optional numeric features.

    Parameters
    ----------
    path:
        Header table (``.tsv``/``.txt`` tab-separated, ``.csv`` comma-separated, ``.gz`` ok).
    gene_ids:
        Gene ids of the gene table; when given, at least one target id must match one of
        them (else the file is likely the wrong one).  Genes without a target are fine.

    Returns
    -------
    pd.DataFrame
        ``gene_id`` (str), ``value`` (float64, raw, >= 0), then every other numeric column
        in file order (feature columns, float64).

    Raises
    ------
    InputError
        Missing/empty file, missing id/value column, non-numeric or negative value (with
        line number), duplicate gene ids, or no id matching ``gene_ids``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: target file not found; check the --targets path")
    sep = "," if path.name.lower().removesuffix(".gz").endswith(".csv") else "\t"
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                          compression="infer", comment=None)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty file; expected a header with gene_id and value")\
            from None
    except (UnicodeDecodeError, gzip.BadGzipFile, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a readable table ({exc})") from exc
    lower = {c.lower().strip(): c for c in raw.columns}
    id_col = next((lower[a] for a in _ID_ALIASES if a in lower), None)
    val_col = next((lower[a] for a in _VALUE_ALIASES if a in lower), None)
    if id_col is None or val_col is None:
        miss = "gene_id" if id_col is None else "value"
        raise InputError(f"{path}: no '{miss}' column (found: {', '.join(raw.columns)}); "
                         "the header needs gene_id and value")
    if raw.empty:
        raise InputError(f"{path}: no target rows under the header")
    lines = np.arange(len(raw)) + 2
    value = pd.to_numeric(raw[val_col].str.strip(), errors="coerce")
    bad = np.flatnonzero(value.isna().to_numpy() | ~np.isfinite(value.to_numpy(float)))
    if bad.size:
        raise InputError(f"{path}: line {lines[bad[0]]}: value '{raw[val_col].iat[bad[0]]}' is "
                         "not a finite number; fix or remove the line")
    bad = np.flatnonzero((value < 0).to_numpy())
    if bad.size:
        raise InputError(f"{path}: line {lines[bad[0]]}: negative value {value.iat[bad[0]]}; "
                         "targets are raw counts/expression (>= 0), not log values")
    ids = raw[id_col].str.strip()
    dup = ids.duplicated()
    if dup.any():
        k = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"{path}: line {lines[k]}: gene id '{ids.iat[k]}' appears more than "
                         "once; keep one target per gene")
    out = pd.DataFrame({"gene_id": ids, "value": value.astype(np.float64)})
    for c in raw.columns:
        if c in (id_col, val_col):
            continue
        num = pd.to_numeric(raw[c].replace({"": np.nan, "NA": np.nan, "nan": np.nan}),
                            errors="coerce")
        text = raw[c].str.strip().replace({"NA": "", "nan": ""})
        if num.notna().sum() == (text != "").sum() and num.notna().any():
            out[c.strip()] = num.astype(np.float64)
    if gene_ids is not None:
        known = set(map(str, gene_ids))
        if known and not out["gene_id"].isin(known).any():
            raise InputError(f"{path}: none of its {len(out)} gene ids (e.g. "
                             f"'{out['gene_id'].iat[0]}') match the gene table's "
                             f"(e.g. '{next(iter(gene_ids))}'); likely the wrong file")
    return out.reset_index(drop=True)
