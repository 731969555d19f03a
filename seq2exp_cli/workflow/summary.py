"""The workflow's last step: one row per sample, as TSV and Markdown.

Columns (:data:`SUMMARY_COLUMNS`; NA where a step did not run for the sample):

- ``sample``, ``model`` (bundled / trained / the run folder given)
- ``genes``: genes predicted; ``genes_with_target``: of these, with a measured target
- ``test_pearson``, ``test_mse``, ``all_pearson``: ``seq2exp evaluate`` on the test split and
  on every gene with a target
- ``elements``, ``element_bp``: rows and bases of ``elements.bed`` (bases of overlapping
  rows of different genes counted once per row)
- ``coverage``, ``peak_coverage``, ``bp_jaccard``: ``compare-peaks``: the fraction of the
  genes' windows (promoters left out) covered by elements and by peaks (MACS3 or the
  sample's), and their base-pair Jaccard index
- ``peaks``: which peaks (``MACS3`` or ``peaks``)
- ``bp_auprc``, ``peak_bp_auprc``: against the sample's truth, when given
- ``links``: rows of ``links.tsv`` (``call-links``), when it ran
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..io.atomic import atomic_path

SUMMARY_COLUMNS = ["sample", "model", "genes", "genes_with_target", "test_pearson", "test_mse",
                   "all_pearson", "elements", "element_bp", "coverage", "peaks",
                   "peak_coverage", "bp_jaccard", "bp_auprc", "peak_bp_auprc", "links"]


@dataclass
class SampleResults:
    """Where one sample's outputs are (None: the step did not run)."""

    sample: str
    model: str
    predictions: str | os.PathLike
    elements: str | os.PathLike
    evaluation: str | os.PathLike | None = None
    compare: str | os.PathLike | None = None
    links: str | os.PathLike | None = None


def _data_rows(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", comment=None)


def _metric(cmp: pd.DataFrame, method: str, metric: str) -> float:
    hit = cmp[(cmp["method"] == method) & (cmp["metric"] == metric) & (cmp["scope"] == "overall")]
    return float(hit["value"].iloc[0]) if len(hit) else math.nan


def sample_row(r: SampleResults) -> dict:
    """Build the summary row of one sample."""
    pred = _data_rows(r.predictions)
    row: dict = {c: math.nan for c in SUMMARY_COLUMNS}
    row.update(sample=r.sample, model=r.model, genes=len(pred),
               genes_with_target=int(pred["target"].notna().sum()) if "target" in pred else 0)
    el = pd.read_csv(r.elements, sep="\t", header=None, comment="#", usecols=[0, 1, 2])
    row["elements"] = len(el)
    row["element_bp"] = int((el[2] - el[1]).sum()) if len(el) else 0
    if r.evaluation is not None:
        ev = _data_rows(r.evaluation).set_index("split")
        for split, col in (("test", "test"), ("all", "all")):
            if split in ev.index:
                row[f"{col}_pearson"] = float(ev.loc[split, "pearson"])
                if split == "test":
                    row["test_mse"] = float(ev.loc[split, "mse"])
    if r.compare is not None:
        cmp = _data_rows(r.compare)
        label = "MACS3" if (cmp["method"] == "MACS3").any() else "peaks"
        row.update(coverage=_metric(cmp, "seq2exp", "coverage"), peaks=label,
                   peak_coverage=_metric(cmp, label, "coverage"),
                   bp_jaccard=_metric(cmp, f"seq2exp vs {label}", "bp_jaccard"),
                   bp_auprc=_metric(cmp, "seq2exp", "bp_auprc"),
                   peak_bp_auprc=_metric(cmp, label, "bp_auprc"))
    if r.links is not None:
        with open(r.links) as fh:
            row["links"] = sum(1 for line in fh if line.strip() and not line.startswith("#")) - 1
    return row


def summarize(results: list[SampleResults], tsv: str | os.PathLike,
              md: str | os.PathLike) -> pd.DataFrame:
    """Write the cross-sample summary to ``tsv`` and ``md`` (each atomically).

    Returns
    -------
    DataFrame with :data:`SUMMARY_COLUMNS`, one row per sample in the given order.
    """
    df = pd.DataFrame([sample_row(r) for r in results], columns=SUMMARY_COLUMNS)
    for col in ("genes", "genes_with_target", "elements", "element_bp", "links"):
        df[col] = df[col].astype("Int64")
    with atomic_path(tsv) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.6g", na_rep="NA")
    with atomic_path(md) as tmp:
        Path(tmp).write_text(markdown(df))
    return df


def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) or (hasattr(v, "dtype") and "int" in str(getattr(v, "dtype", ""))):
        return f"{int(v):,}"
    return str(v)


def markdown(df: pd.DataFrame) -> str:
    """Format the summary as a Markdown table (– where a step did not run)."""
    lines = ["# seq2exp workflow summary", "",
             f"{len(df)} samples.  Pearson and MSE: `seq2exp evaluate` (log10(1 + expression)); "
             "coverage: fraction of the genes' windows, promoters left out, covered by the "
             "learned elements / the peaks (`seq2exp compare-peaks`).", "",
             "| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    for rec in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in rec) + " |")
    return "\n".join(lines) + "\n"
