"""Gene / TSS tables: TSV/CSV, BED6, GTF and GFF3.

Formats: GTF2.2 (https://mblab.wustl.edu/GTF22.html, GENCODE/Ensembl flavour with ``tag``
attributes), GFF3 (https://github.com/The-Sequence-Ontology/Specifications/blob/master/gff3.md),
BED6 (https://genome.ucsc.edu/FAQ/FAQformat.html#format1).

Every reader returns the canonical table with columns ``gene_id, name, chrom, tss,
strand``: ``tss`` is the 0-based bp position of the transcription start site, ``strand``
is ``'+'`` or ``'-'``.  GTF/GFF3 coordinates are 1-based inclusive and are converted.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .atomic import atomic_path
from .chroms import ChromNames

GENE_COLUMNS = ["gene_id", "name", "chrom", "tss", "strand"]
CANONICAL_TAGS = ("Ensembl_canonical", "MANE_Select")

_ALIASES = {
    "gene_id": ("gene_id", "geneid", "gene", "id", "ensembl_id", "ensembl_gene_id"),
    "name": ("name", "gene_name", "symbol", "gene_symbol"),
    "chrom": ("chrom", "chr", "chromosome", "seqname", "seqnames", "seqid", "contig"),
    "tss": ("tss", "tss_position", "tss_pos", "position", "pos"),
    "strand": ("strand",),
}


def _open_text(path: Path):
    if not path.is_file():
        raise InputError(f"{path}: gene table not found; check the --genes path")
    if path.suffix == ".gz":
        return gzip.open(path, "rt")
    return open(path)


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext in (".gtf",):
        return "gtf"
    if ext in (".gff", ".gff3"):
        return "gff3"
    if ext == ".bed":
        return "bed"
    if ext in (".tsv", ".txt", ".csv", ".tab"):
        return "csv" if ext == ".csv" else "tsv"
    raise InputError(f"{path}: unknown gene table extension '{ext}'; use .tsv/.csv "
                     "(gene_id, chrom, tss, strand), .bed (BED6), .gtf or .gff3")


def read_genes(path: str | os.PathLike, chroms: ChromNames | None = None) -> pd.DataFrame:
    """Read genes and their TSS from a table, BED6, GTF or GFF3 file.

    The format follows the extension (``.gz`` allowed):

    * ``.tsv/.txt/.csv``: header table with ``gene_id, chrom, tss, strand`` and an
      optional ``name`` (aliases such as ``chr``/``chromosome``, ``TSS``, ``gene_name``
      are accepted, case-insensitive); ``tss`` is 0-based.
    * ``.bed``: BED6; ``name`` is the gene id; TSS = ``start`` on '+', ``end - 1`` on '-'.
    * ``.gtf`` / ``.gff`` / ``.gff3``: one TSS per gene, chosen in this order:
      (1) the 5' end of a transcript tagged ``Ensembl_canonical`` (else ``MANE_Select``)
      (GTF ``tag "..."`` attributes / GFF3 ``tag=...``; the most upstream one if several);
      (2) else the gene feature's own 5' end (start on '+', end - 1 on '-');
      (3) else the most upstream transcript 5' end.  ``gene_id`` is the GTF ``gene_id``
      attribute or the GFF3 gene ``ID`` without a ``gene:`` prefix; ``name`` is
      ``gene_name`` / ``Name`` (the id when absent).

    Parameters
    ----------
    path:
        The gene file.
    chroms:
        When given, chromosome names are resolved to the genome's canonical names and the
        TSS is checked to lie inside the chromosome.

    Returns
    -------
    pd.DataFrame
        Columns ``gene_id, name, chrom, tss, strand`` (``tss`` int64, 0-based bp), in file
        order; extra columns of a table file are kept after them.

    Raises
    ------
    InputError
        Missing/empty file, unknown strand (with line number), duplicate gene ids, a
        missing required column, an unknown chromosome, or a TSS past the chromosome end.
    """
    path = Path(path)
    kind = _kind(path)
    if kind in ("tsv", "csv"):
        df = _read_table(path, kind)
    elif kind == "bed":
        df = _read_bed6(path)
    else:
        df = _read_annotation(path, kind)
    if df.empty:
        raise InputError(f"{path}: no genes found; check that this is the gene file")
    dup = df["gene_id"].duplicated()
    if dup.any():
        gid = df["gene_id"][dup].iloc[0]
        raise InputError(f"{path}: gene id '{gid}' appears more than once; gene ids must be "
                         "unique (drop or rename the duplicates)")
    if chroms is not None:
        mapping = {c: chroms.resolve(c, source=str(path), what="gene table")
                   for c in df["chrom"].unique()}
        df["chrom"] = df["chrom"].map(mapping)
        size = df["chrom"].map(chroms.sizes).to_numpy()
        bad = np.flatnonzero((df["tss"].to_numpy() >= size) | (df["tss"].to_numpy() < 0))
        if bad.size:
            r = df.iloc[bad[0]]
            raise InputError(f"{path}: gene '{r.gene_id}' has TSS {r.tss} outside {r.chrom} "
                             f"(size {size[bad[0]]} bp); check the genome build")
    return df.reset_index(drop=True)


def _check_strand(strand: pd.Series, lines: np.ndarray, path: Path) -> None:
    bad = np.flatnonzero(~strand.isin(["+", "-"]).to_numpy())
    if bad.size:
        raise InputError(f"{path}: line {lines[bad[0]]}: unknown strand '{strand.iat[bad[0]]}'"
                         "; strand must be + or -")


def _read_table(path: Path, kind: str) -> pd.DataFrame:
    sep = "," if kind == "csv" else "\t"
    try:
        with _open_text(path) as fh:
            raw = pd.read_csv(fh, sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty file; no genes found") from None
    if raw.shape[1] == 1 and kind == "tsv":
        with _open_text(path) as fh:
            raw = pd.read_csv(fh, sep=r"\s+", dtype=str, keep_default_na=False)
    lower = {c.lower().strip(): c for c in raw.columns}
    cols = {}
    for canon, aliases in _ALIASES.items():
        hit = next((lower[a] for a in aliases if a in lower), None)
        if hit is None and canon != "name":
            raise InputError(f"{path}: no '{canon}' column (found: {', '.join(raw.columns)});"
                             " the header needs gene_id, chrom, tss, strand")
        cols[canon] = hit
    lines = np.arange(len(raw)) + 2
    tss = pd.to_numeric(raw[cols["tss"]], errors="coerce")
    bad = np.flatnonzero(tss.isna().to_numpy() | (tss % 1 != 0).to_numpy())
    if bad.size:
        raise InputError(f"{path}: line {lines[bad[0]]}: TSS '{raw[cols['tss']].iat[bad[0]]}' "
                         "is not an integer (0-based bp)")
    strand = raw[cols["strand"]].str.strip()
    _check_strand(strand, lines, path)
    gid = raw[cols["gene_id"]].str.strip()
    df = pd.DataFrame({
        "gene_id": gid,
        "name": raw[cols["name"]].str.strip() if cols["name"] else gid,
        "chrom": raw[cols["chrom"]].str.strip(),
        "tss": tss.astype(np.int64),
        "strand": strand,
    })
    used = set(cols.values())
    for c in raw.columns:
        if c not in used:
            num = pd.to_numeric(raw[c], errors="coerce")
            df[c] = num if num.notna().all() else raw[c]
    return df


def _split_lines(path: Path, min_cols: int, annotation: bool = False
                 ) -> tuple[np.ndarray, list[list[str]]]:
    """Return the tab-separated data lines and their line numbers.

    Comments and track/browser lines are skipped.  Every line is checked for ``min_cols`` columns; with ``annotation`` (GTF,
    GFF3: machine-written files) the last line must end with a newline, so that a file cut
    off mid-line (a truncated download or copy) is an error, not a shorter gene list.
    """
    numbers, rows = [], []
    try:
        with _open_text(path) as fh:
            for i, line in enumerate(fh, start=1):
                if annotation and not line.endswith("\n"):
                    raise InputError(f"{path}: line {i} ends without a newline: the file is cut "
                                     "off mid-line (truncated?); re-download or regenerate it, "
                                     "or end it with a newline if it is complete")
                if not line.strip() or line.startswith(("#", "track", "browser")):
                    continue
                fields = line.rstrip("\n\r").split("\t")
                if len(fields) < min_cols:
                    raise InputError(f"{path}: line {i} has {len(fields)} tab-separated "
                                     f"columns, expected {min_cols}")
                rows.append(fields)
                numbers.append(i)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise InputError(f"{path}: not a readable text file ({exc})") from exc
    if not rows:
        raise InputError(f"{path}: empty file; no genes found")
    return np.asarray(numbers), rows


def _read_bed6(path: Path) -> pd.DataFrame:
    numbers, rows = _split_lines(path, 6)
    bed = pd.DataFrame([r[:6] for r in rows],
                       columns=["chrom", "start", "end", "name", "score", "strand"])
    ints = bed[["start", "end"]].apply(pd.to_numeric, errors="coerce")
    bad = np.flatnonzero(ints.isna().any(axis=1).to_numpy())
    if bad.size:
        raise InputError(f"{path}: line {numbers[bad[0]]}: start/end are not integers")
    _check_strand(bed["strand"], numbers, path)
    start, end = ints["start"].astype(np.int64), ints["end"].astype(np.int64)
    tss = np.where(bed["strand"] == "+", start, end - 1)
    return pd.DataFrame({"gene_id": bed["name"], "name": bed["name"], "chrom": bed["chrom"],
                         "tss": tss.astype(np.int64), "strand": bed["strand"]})


def _attr(attrs: pd.Series, key: str, gff3: bool) -> pd.Series:
    pat = rf"(?:^|;)\s*{key}=([^;]*)" if gff3 else rf'(?:^|;)\s*{key} "([^"]*)"'
    return attrs.str.extract(pat, expand=False)


def _check_feature_lines(ann: pd.DataFrame, path: Path, gff3: bool) -> None:
    """Check every feature line, whatever its type.

    Integer start <= end, a strand of the format's alphabet, and (GTF) attributes whose
    quotes pair up.
    """
    se = ann[["start", "end"]].apply(pd.to_numeric, errors="coerce")
    bad = np.flatnonzero((se.isna().any(axis=1) | (se["start"] > se["end"])).to_numpy())
    if bad.size:
        r = ann.iloc[bad[0]]
        raise InputError(f"{path}: line {r['line']}: start/end '{r['start']}', '{r['end']}' "
                         "are not integers with start <= end")
    strands = ("+", "-", ".", "?") if gff3 else ("+", "-", ".")
    bad = np.flatnonzero(~ann["strand"].isin(strands).to_numpy())
    if bad.size:
        r = ann.iloc[bad[0]]
        raise InputError(f"{path}: line {r['line']}: unknown strand '{r['strand']}'; strand "
                         f"must be one of {' '.join(strands)}")
    if not gff3:
        bad = np.flatnonzero((ann["attrs"].str.count('"') % 2 == 1).to_numpy())
        if bad.size:
            raise InputError(f"{path}: line {ann['line'].iat[bad[0]]}: attributes have an "
                             'unclosed quote (key "value"; pairs expected); the line is cut '
                             "off or malformed")


def _read_annotation(path: Path, kind: str) -> pd.DataFrame:
    gff3 = kind == "gff3"
    numbers, rows = _split_lines(path, 9, annotation=True)
    ann = pd.DataFrame(rows, columns=["chrom", "source", "feature", "start", "end", "score",
                                      "strand", "frame", "attrs"] + [
        f"x{i}" for i in range(max(len(r) for r in rows) - 9)])
    ann["line"] = numbers
    _check_feature_lines(ann, path, gff3)
    feature = ann["feature"]
    if gff3:
        is_gene = feature.str.endswith("gene") | (feature == "pseudogene")
        ids = _attr(ann["attrs"], "ID", True)
        parent = _attr(ann["attrs"], "Parent", True).str.split(",").str[0]
        gene_ids = set(ids[is_gene].dropna())
        is_tx = parent.isin(gene_ids) & ~is_gene
        ann["gene_id"] = np.where(is_gene, ids, parent)
        ann["gname"] = _attr(ann["attrs"], "Name", True)
    else:
        is_gene = feature == "gene"
        is_tx = feature == "transcript"
        ann["gene_id"] = _attr(ann["attrs"], "gene_id", False)
        ann["gname"] = _attr(ann["attrs"], "gene_name", False)
    ann = ann[is_gene | is_tx].copy()
    ann["is_gene"] = is_gene[ann.index]
    if ann.empty:
        raise InputError(f"{path}: no gene or transcript features; check the annotation file")
    _check_strand(ann["strand"], ann["line"].to_numpy(), path)
    missing = ann["gene_id"].isna().to_numpy()
    if missing.any():
        raise InputError(f"{path}: line {ann['line'].iat[int(np.flatnonzero(missing)[0])]}: "
                         "feature has no gene id (GTF gene_id / GFF3 ID, Parent)")
    se = ann[["start", "end"]].apply(pd.to_numeric, errors="coerce")
    bad = np.flatnonzero(se.isna().any(axis=1).to_numpy())
    if bad.size:
        raise InputError(f"{path}: line {ann['line'].iat[bad[0]]}: start/end not integers")
    # 1-based inclusive [start, end] -> 0-based 5' end.
    ann["five"] = np.where(ann["strand"] == "+", se["start"] - 1, se["end"] - 1).astype(np.int64)
    ann["upstream_key"] = np.where(ann["strand"] == "+", ann["five"], -ann["five"])
    tags = ann["attrs"]
    ann["rank"] = 3  # most upstream transcript
    ann.loc[ann["is_gene"], "rank"] = 2
    tx = ~ann["is_gene"]
    ann.loc[tx & tags.str.contains(CANONICAL_TAGS[1], regex=False), "rank"] = 1
    ann.loc[tx & tags.str.contains(CANONICAL_TAGS[0], regex=False), "rank"] = 0
    order = ann.groupby("gene_id", sort=False).ngroup()
    ann["first"] = order
    best = ann.sort_values(["first", "rank", "upstream_key"], kind="stable")
    best = best.drop_duplicates("gene_id", keep="first")
    named = ann.dropna(subset=["gname"]).sort_values("is_gene", ascending=False, kind="stable")
    names = named.drop_duplicates("gene_id").set_index("gene_id")["gname"]
    gid = best["gene_id"]
    if gff3:
        gid = gid.str.replace(r"^gene:", "", regex=True)
    name = best["gene_id"].map(names).fillna(gid)
    return pd.DataFrame({"gene_id": gid.to_numpy(), "name": name.to_numpy(),
                         "chrom": best["chrom"].to_numpy(), "tss": best["five"].to_numpy(),
                         "strand": best["strand"].to_numpy()})


def write_genes_tsv(path: str | os.PathLike, df: pd.DataFrame) -> None:
    """Write a gene table (``gene_id, name, chrom, tss, strand`` first, extra columns after) as a tab-separated file with a header, atomically."""
    missing = [c for c in GENE_COLUMNS if c not in df and c != "name"]
    if missing:
        raise ValueError(f"write_genes_tsv: missing columns {missing}")
    out = df.copy()
    if "name" not in out:
        out["name"] = out["gene_id"]
    out = out[GENE_COLUMNS + [c for c in out.columns if c not in GENE_COLUMNS]]
    with atomic_path(path) as tmp:
        out.to_csv(tmp, sep="\t", index=False)


def _gtf_attr_value(v: object) -> str:
    return re.sub(r'["\n\t;]', "_", str(v))


def write_gtf(path: str | os.PathLike, genes: pd.DataFrame, source: str = "seq2exp") -> None:
    """Write genes as a GTF with one gene, one transcript and one exon line each.

    Parameters
    ----------
    genes:
        Columns ``gene_id, name, chrom, strand, tx_start, tx_end``; the gene body is
        ``[tx_start, tx_end)`` (0-based half-open bp).  Written 1-based inclusive; the
        transcript (id ``<gene_id>.1``) carries ``tag "Ensembl_canonical"``, so
        :func:`read_genes` recovers TSS = ``tx_start`` ('+') or ``tx_end - 1`` ('-').
    """
    need = ["gene_id", "name", "chrom", "strand", "tx_start", "tx_end"]
    missing = [c for c in need if c not in genes]
    if missing:
        raise ValueError(f"write_gtf: missing columns {missing}")
    if not genes["strand"].isin(["+", "-"]).all():
        raise ValueError("write_gtf: strand must be + or -")
    if (genes["tx_end"] <= genes["tx_start"]).any() or (genes["tx_start"] < 0).any():
        raise ValueError("write_gtf: need 0 <= tx_start < tx_end")
    buf = io.StringIO()
    buf.write("##description: written by seq2exp\n")
    for r in genes.itertuples(index=False):
        gid, name = _gtf_attr_value(r.gene_id), _gtf_attr_value(r.name)
        lo, hi = int(r.tx_start) + 1, int(r.tx_end)
        base = f'gene_id "{gid}"; gene_name "{name}"; gene_type "protein_coding";'
        tx = f'{base} transcript_id "{gid}.1"; transcript_name "{name}-201";'
        for feature, attrs in (("gene", base),
                               ("transcript", f'{tx} tag "basic"; tag "Ensembl_canonical";'),
                               ("exon", f'{tx} exon_number 1; tag "Ensembl_canonical";')):
            buf.write(f"{r.chrom}\t{source}\t{feature}\t{lo}\t{hi}\t.\t{r.strand}\t.\t{attrs}\n")
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())
