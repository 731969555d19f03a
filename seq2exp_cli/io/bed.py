"""BED, narrowPeak and blacklist interval files.

Formats: BED (https://genome.ucsc.edu/FAQ/FAQformat.html#format1, and the GA4GH BED
v1.0 spec https://samtools.github.io/hts-specs/BEDv1.pdf) and ENCODE narrowPeak
(https://genome.ucsc.edu/FAQ/FAQformat.html#format12).  Coordinates are 0-based,
half-open, in bp.  ``track``, ``browser`` and ``#`` lines are skipped.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from ..errors import InputError
from .atomic import atomic_path
from .chroms import ChromNames

BED_COLUMNS = ["chrom", "start", "end", "name", "score", "strand"]
NARROWPEAK_COLUMNS = BED_COLUMNS + ["signalValue", "pValue", "qValue", "peak"]


def _open_text(path: Path) -> IO[str]:
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path")
    if path.suffix == ".gz":
        return gzip.open(path, "rt")
    return open(path)


def _data_lines(path: Path) -> tuple[list[int], list[list[str]]]:
    """Line numbers (1-based) and tab/space-split fields of the data lines."""
    numbers: list[int] = []
    rows: list[list[str]] = []
    try:
        with _open_text(path) as fh:
            for i, line in enumerate(fh, start=1):
                s = line.strip()
                if not s or s.startswith(("#", "track", "browser")):
                    continue
                rows.append(s.split("\t") if "\t" in s else s.split())
                numbers.append(i)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise InputError(f"{path}: not a text BED file ({exc}); give a plain or .gz BED") from exc
    return numbers, rows


def _parse(path: str | os.PathLike, names: Sequence[str], min_cols: int,
           max_cols: int | None, kind: str) -> tuple[pd.DataFrame, list[int]]:
    path = Path(path)
    numbers, rows = _data_lines(path)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             (("chrom", str), ("start", np.int64), ("end", np.int64))}), []
    n = min(len(r) for r in rows)
    if n < min_cols:
        bad = next(k for k, r in enumerate(rows) if len(r) < min_cols)
        raise InputError(f"{path}: line {numbers[bad]} has {len(rows[bad])} columns; "
                         f"{kind} needs at least {min_cols} (chrom, start, end ...)")
    ncol = min(n, len(names)) if max_cols is None else min(n, max_cols)
    data = {names[j]: [r[j] for r in rows] for j in range(ncol)}
    df = pd.DataFrame(data)
    for col in ("start", "end"):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() | (num % 1 != 0).to_numpy())
        if bad.size:
            k = bad[0]
            raise InputError(f"{path}: line {numbers[k]}: {col} '{df[col].iat[k]}' is not an "
                             "integer; fix the line (columns are chrom, start, end)")
        df[col] = num.astype(np.int64)
    bad = np.flatnonzero((df["start"] < 0).to_numpy() | (df["end"] < df["start"]).to_numpy())
    if bad.size:
        k = bad[0]
        raise InputError(f"{path}: line {numbers[k]}: interval {df['start'].iat[k]}-"
                         f"{df['end'].iat[k]} needs 0 <= start <= end (0-based half-open)")
    if "score" in df:
        df["score"] = pd.to_numeric(df["score"].replace(".", "0"), errors="coerce")
    if "strand" in df:
        bad = np.flatnonzero(~df["strand"].isin(["+", "-", "."]).to_numpy())
        if bad.size:
            k = bad[0]
            raise InputError(f"{path}: line {numbers[k]}: strand '{df['strand'].iat[k]}' "
                             "must be +, - or .")
    return df, numbers


def _canonical(df: pd.DataFrame, numbers: list[int], path, chroms: ChromNames | None,
               skip_unknown: bool) -> pd.DataFrame:
    if chroms is None or df.empty:
        return df.reset_index(drop=True)
    mapping = {c: chroms.get(c) for c in df["chrom"].unique()}
    unknown = [c for c, v in mapping.items() if v is None]
    if unknown and not skip_unknown:
        k = int(np.flatnonzero(df["chrom"].to_numpy() == unknown[0])[0])
        chroms.resolve(unknown[0], source=f"{path}: line {numbers[k]}")
    df = df.assign(chrom=df["chrom"].map(mapping))
    df = df[df["chrom"].notna()]
    sizes = df["chrom"].map(chroms.sizes)
    over = np.flatnonzero((df["end"] > sizes).to_numpy())
    if over.size and not skip_unknown:
        k = over[0]
        raise InputError(f"{path}: interval {df['chrom'].iat[k]}:{df['start'].iat[k]}-"
                         f"{df['end'].iat[k]} ends past the chromosome "
                         f"({sizes.iat[k]} bp); check the genome build")
    if skip_unknown:
        df = df.assign(end=np.minimum(df["end"].to_numpy(), sizes.to_numpy()))
        df = df[df["end"] > df["start"]]
    return df.reset_index(drop=True)


def read_bed(path: str | os.PathLike, chroms: ChromNames | None = None) -> pd.DataFrame:
    """Read a BED3 to BED6 file (extra columns ignored).

    Returns
    -------
    pd.DataFrame
        ``chrom, start, end`` (int64, 0-based half-open bp) plus ``name, score, strand``
        when the file has them.  ``chrom`` is canonical when ``chroms`` is given (an
        unknown chromosome raises :class:`InputError`).
    """
    df, numbers = _parse(path, BED_COLUMNS, 3, 6, "BED")
    return _canonical(df, numbers, path, chroms, skip_unknown=False)


def read_narrowpeak(path: str | os.PathLike, chroms: ChromNames | None = None) -> pd.DataFrame:
    """Read an ENCODE narrowPeak (BED6+4) file.

    Returns
    -------
    pd.DataFrame
        ``chrom, start, end, name, score, strand, signalValue, pValue, qValue, peak``;
        ``peak`` is the summit offset from ``start`` in bp (-1 when absent).
    """
    df, numbers = _parse(path, NARROWPEAK_COLUMNS, 10, 10, "narrowPeak")
    if df.empty:
        return pd.DataFrame(columns=NARROWPEAK_COLUMNS)
    for col in ("signalValue", "pValue", "qValue"):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy())
        if bad.size:
            raise InputError(f"{path}: line {numbers[bad[0]]}: {col} '{df[col].iat[bad[0]]}' "
                             "is not a number; is this a narrowPeak file?")
        df[col] = num.astype(np.float64)
    df["peak"] = pd.to_numeric(df["peak"], errors="coerce").fillna(-1).astype(np.int64)
    return _canonical(df, numbers, path, chroms, skip_unknown=False)


def read_blacklist(path: str | os.PathLike, chroms: ChromNames | None = None) -> pd.DataFrame:
    """Read a blacklist (BED3+).

    Intervals on chromosomes absent from ``chroms`` are dropped silently and intervals are
    clipped to the chromosome ends.

    Returns
    -------
    pd.DataFrame
        ``chrom, start, end`` (0-based half-open bp).
    """
    df, numbers = _parse(path, BED_COLUMNS, 3, 3, "blacklist BED")
    return _canonical(df, numbers, path, chroms, skip_unknown=True)


def sort_intervals(df: pd.DataFrame, chrom_order: Iterable[str] | None = None) -> pd.DataFrame:
    """Sort by chromosome (``chrom_order`` first, the rest lexicographically), start, end."""
    order = {c: i for i, c in enumerate(chrom_order or [])}
    names = sorted(set(df["chrom"]) - set(order))
    for c in names:
        order[c] = len(order)
    key = df["chrom"].map(order).to_numpy()
    idx = np.lexsort((df["end"].to_numpy(), df["start"].to_numpy(), key))
    return df.iloc[idx].reset_index(drop=True)


def write_bed(
    path_or_stream: str | os.PathLike | IO[str] | None,
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    header_lines: Sequence[str] = (),
    chrom_order: Iterable[str] | None = None,
) -> None:
    """Write intervals as tab-separated BED, sorted by chrom, start, end.

    Parameters
    ----------
    path_or_stream:
        A path (written atomically), an open text stream, or ``'-'``/``None`` for stdout.
    df:
        Intervals with at least ``chrom, start, end`` (0-based half-open bp).
    columns:
        Columns to write, in order; default: the BED6 / narrowPeak columns present.
    header_lines:
        Lines written first (e.g. ``track name=...``), without newlines.
    chrom_order:
        Genome order of chromosomes; others follow lexicographically.
    """
    if columns is None:
        pool = NARROWPEAK_COLUMNS if "signalValue" in df else BED_COLUMNS
        columns = [c for c in pool if c in df]
    missing = [c for c in columns if c not in df]
    if missing:
        raise ValueError(f"write_bed: columns missing from the table: {missing}")
    out = sort_intervals(df, chrom_order)[list(columns)]
    buf = io.StringIO()
    for line in header_lines:
        buf.write(line.rstrip("\n") + "\n")
    out.to_csv(buf, sep="\t", header=False, index=False)
    text = buf.getvalue()
    if path_or_stream is None or str(path_or_stream) == "-":
        sys.stdout.write(text)
    elif hasattr(path_or_stream, "write"):
        path_or_stream.write(text)
    else:
        with atomic_path(path_or_stream) as tmp:
            tmp.write_text(text)


def intervals_to_mask(df: pd.DataFrame, chrom: str, start: int, end: int) -> np.ndarray:
    """Boolean mask of the bp of ``chrom:[start, end)`` covered by any interval.

    Returns
    -------
    np.ndarray, shape (end - start,), bool
    """
    sub = df[df["chrom"] == chrom]
    s = np.clip(sub["start"].to_numpy(np.int64) - start, 0, end - start)
    e = np.clip(sub["end"].to_numpy(np.int64) - start, 0, end - start)
    keep = e > s
    delta = np.zeros(end - start + 1, dtype=np.int64)
    np.add.at(delta, s[keep], 1)
    np.add.at(delta, e[keep], -1)
    return np.cumsum(delta[:-1]) > 0


def read_interval_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a BED-like table whose optional first line ``#chrom<TAB>start<TAB>end...`` names the columns (``seq2exp call-elements`` output, ``truth_elements.bed``).

    Without such a header it is read as BED3-BED6.

    Returns
    -------
    pd.DataFrame
        The named columns; ``start``/``end`` int64 (bp, 0-based half-open).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path")
    with open(path) as fh:
        first = fh.readline().rstrip("\n")
    if not first.startswith("#chrom"):
        return read_bed(path)
    names = first[1:].split("\t")
    df = pd.read_csv(path, sep="\t", comment=None, skiprows=1, header=None, names=names,
                     dtype={"chrom": str, "name": str, "gene_id": str})
    for col in ("start", "end"):
        num = pd.to_numeric(df[col], errors="coerce")
        if num.isna().any():
            k = int(np.flatnonzero(num.isna().to_numpy())[0])
            raise InputError(f"{path}: line {k + 2}: {col} '{df[col].iat[k]}' is not an integer")
        df[col] = num.astype(np.int64)
    return df


def read_peaks(path: str | os.PathLike) -> pd.DataFrame:
    """Peaks from narrowPeak (score = ``signalValue``, column 7.

    Column 5 when every signalValue is 0, as ``macs3 bdgpeakcall`` writes them) or BED
    (score = column 5, else 1); the score is returned in column ``peak_score``.
    """
    path = Path(path)
    try:
        df = read_narrowpeak(path)
        col = "signalValue" if (df["signalValue"] != 0).any() else "score"
    except InputError:
        df = read_bed(path)
        col = "score" if "score" in df and df["score"].notna().all() else None
    df = df.copy()
    df["peak_score"] = df[col].astype(np.float64) if col and len(df) else 1.0
    return df
