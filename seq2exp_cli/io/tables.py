"""Tab-separated tables (predictions, metrics): written atomically, or to stdout.

Format: TSV with a header line, one row per record, ``NA`` (or the given marker) for
missing values.
"""

from __future__ import annotations

import io
import os
import sys

import pandas as pd

from .atomic import atomic_path

__all__ = ["write_tsv"]


def write_tsv(df: pd.DataFrame, output: str | os.PathLike | None, float_format: str = "%.6g",
              na_rep: str = "NA") -> None:
    """Write a table to ``output`` atomically, or to stdout when ``output`` is None or ``'-'``.

    Parameters
    ----------
    df : pd.DataFrame
        The table (its index is not written).
    output : str or PathLike, optional
        File path; None or ``'-'`` for stdout.
    float_format, na_rep : str
        As :meth:`pandas.DataFrame.to_csv`.
    """
    buf = io.StringIO()
    df.to_csv(buf, sep="\t", index=False, float_format=float_format, na_rep=na_rep)
    if output is None or str(output) == "-":
        sys.stdout.write(buf.getvalue())
        sys.stdout.flush()
        return
    with atomic_path(output) as tmp:
        tmp.write_text(buf.getvalue())
