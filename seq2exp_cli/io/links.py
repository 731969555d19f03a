"""Element–gene link tables: the ENCODE enhancer–gene prediction layout, and BEDPE.

Formats:

* TSV with a header, ABC / ENCODE-rE2G column names (:data:`LINK_COLUMNS`; 0-based,
  half-open coordinates): ``chr, start, end`` of the element, ``name``, ``class``,
  ``TargetGene`` (name), ``TargetGeneTSS``, ``TargetGeneEnsembl_ID`` (gene id), ``distance``
  (element midpoint - TSS, bp), ``contact`` (Hi-C contact with the TSS), ``mean_mask``,
  ``Score`` and ``CellType``.
* BEDPE (https://bedtools.readthedocs.io/en/latest/content/general-usage.html#bedpe-format)
  for IGV's interaction track: the element, then the TSS (1 bp); name ``element|gene``;
  score ``round(1000 * Score)``; strands ``.``.
"""

from __future__ import annotations

import os
import sys

import pandas as pd

from ..errors import InputError
from .atomic import write_text_atomic

LINK_COLUMNS = ["chr", "start", "end", "name", "class", "TargetGene", "TargetGeneTSS",
                "TargetGeneEnsembl_ID", "distance", "contact", "mean_mask", "Score", "CellType"]

#: the columns a links table must have to be scored (compare-peaks --links)
REQUIRED = ("chr", "start", "end", "TargetGeneEnsembl_ID", "Score")


def write_links(df: pd.DataFrame, output: str | os.PathLike | None) -> None:
    """Write the links as TSV with a header, atomically to ``output`` (stdout when None)."""
    out = df.assign(contact=df["contact"].round(6), mean_mask=df["mean_mask"].round(4),
                    Score=df["Score"].round(6))
    text = out.to_csv(sep="\t", index=False, lineterminator="\n")
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text_atomic(output, text)


def write_bedpe(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the links as BEDPE (element, TSS) for IGV's interaction track, atomically."""
    lines = [f"{r.chr}\t{r.start}\t{r.end}\t{r.chr}\t{r.TargetGeneTSS}\t{r.TargetGeneTSS + 1}"
             f"\t{r.name}|{r.TargetGene}\t{int(round(1000 * min(max(r.Score, 0.0), 1.0)))}"
             "\t.\t.\n" for r in df.itertuples(index=False)]
    write_text_atomic(path, "".join(lines))


def read_links(path: str | os.PathLike) -> pd.DataFrame:
    """Read a links TSV (``seq2exp call-links``); one-line error when columns are missing."""
    df = pd.read_csv(path, sep="\t", dtype={"chr": str, "TargetGeneEnsembl_ID": str})
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{path}: not a seq2exp call-links table (missing column(s) "
                         f"{', '.join(missing)}); write it with `seq2exp call-links`")
    return df


__all__ = ["LINK_COLUMNS", "read_links", "write_bedpe", "write_links"]
