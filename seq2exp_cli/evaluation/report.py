"""Evaluation tables.

Long-format reports written as TSV and Markdown, and expression metrics per split (``seq2exp
evaluate``).

A :class:`Report` is a list of rows ``(method, metric, value, scope)`` grouped into named
sections; each section declares how it is drawn in Markdown (methods × metrics, methods
× scopes per metric, or one row per gene).  Further sections (for instance predictive
power at matched sparsity) are added with :meth:`Report.add` without touching the
renderer.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import pandas as pd

from ..io.atomic import atomic_path

REPORT_COLUMNS = ["method", "metric", "value", "scope", "section"]
SPLIT_ORDER = ("train", "val", "test", "all")
_COUNT_METRICS = ("n", "n_genes", "n_pairs", "n_positive", "n_intervals", "n_truth")


def format_value(metric: str, value) -> str:
    """Format counts and bp as integers, other numbers with 4 significant digits, NaN as ``-``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return value
    if metric in _COUNT_METRICS or metric.endswith("_bp") or metric.startswith("n_"):
        return f"{round(float(value)):,}"
    return f"{float(value):.4g}"


def frame_to_markdown(df: pd.DataFrame) -> str:
    """Return a GitHub Markdown table of ``df`` (values through :func:`format_value`)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        cells = [format_value(c, v) for c, v in zip(cols, row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass
class Report:
    """Long-format evaluation report.

    Attributes
    ----------
    title:
        First Markdown heading.
    rows:
        ``(section, method, metric, value, scope)`` tuples in insertion order.
    layouts:
        Section -> ``"metric"`` (rows = methods, columns = metrics), ``"scope"`` (one
        table per metric, columns = scopes) or ``"gene"`` (rows = scopes, i.e. genes;
        columns = method + metric; drawn after every other section).
    notes:
        Section -> lines of text printed under its heading.
    """

    title: str
    rows: list[tuple] = field(default_factory=list)
    layouts: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    max_gene_rows: int = 40

    def section(self, name: str, layout: str = "metric", note: str | None = None) -> None:
        """Declare a section (order of declaration = order in Markdown)."""
        self.layouts.setdefault(name, layout)
        if note:
            self.notes.setdefault(name, []).append(note)

    def add(self, section: str, method: str, metric: str, value, scope: str = "overall") -> None:
        """Add one value; the section is declared with layout ``metric`` if new."""
        self.section(section)
        v = float(value) if value is not None else float("nan")
        self.rows.append((section, str(method), str(metric), v, str(scope)))

    def table(self) -> pd.DataFrame:
        """Columns :data:`REPORT_COLUMNS`."""
        df = pd.DataFrame(self.rows, columns=["section", "method", "metric", "value", "scope"])
        return df[REPORT_COLUMNS]

    def to_markdown(self) -> str:
        """Render the report as GitHub Markdown, one section after another."""
        df = self.table()
        out = [f"# {self.title}\n"]
        # per-gene tables (long) go last, whatever sections are added later
        order = sorted(self.layouts.items(), key=lambda kv: kv[1] == "gene")
        for name, layout in order:
            sub = df[df["section"] == name]
            out.append(f"\n## {name}\n")
            for line in self.notes.get(name, []):
                out.append(f"\n{line}\n")
            if sub.empty:
                out.append("\n(no values)\n")
                continue
            out.append("\n" + self._render(sub, layout))
        return "".join(out)

    def _render(self, sub: pd.DataFrame, layout: str) -> str:
        if layout == "scope":
            parts = []
            for metric in pd.unique(sub["metric"]):
                m = sub[sub["metric"] == metric]
                t = _pivot(m, "method", "scope")
                t.insert(0, "method", t.index)
                parts.append(f"**{metric}**\n\n" + _md_pivot(t, metric))
            return "\n".join(parts)
        if layout == "gene":
            sub = sub.assign(metric=(sub["method"] + " " + sub["metric"]).str.strip())
            t = _pivot(sub, "scope", "metric")
            t.insert(0, "gene", t.index)
            extra = ""
            if len(t) > self.max_gene_rows:
                extra = f"\n({len(t) - self.max_gene_rows} more genes in the TSV)\n"
                t = t.iloc[: self.max_gene_rows]
            return frame_to_markdown(t.reset_index(drop=True)) + extra
        t = _pivot(sub, "method", "metric")
        t.insert(0, "method", t.index)
        return frame_to_markdown(t.reset_index(drop=True))

    def write(self, prefix: str | os.PathLike) -> tuple[str, str]:
        """Write ``PREFIX.tsv`` and ``PREFIX.md`` atomically; return their paths."""
        tsv, md = f"{prefix}.tsv", f"{prefix}.md"
        write_table(self.table(), tsv)
        with atomic_path(md) as tmp:
            tmp.write_text(self.to_markdown())
        return tsv, md


def _pivot(df: pd.DataFrame, index: str, columns: str) -> pd.DataFrame:
    t = df.pivot_table(index=index, columns=columns, values="value", aggfunc="first",
                       dropna=False, sort=False)
    t = t.reindex(index=pd.unique(df[index]), columns=pd.unique(df[columns]))
    t.columns = [str(c) for c in t.columns]
    return t


def _md_pivot(t: pd.DataFrame, metric: str) -> str:
    """Markdown of a methods × scopes table, all cells formatted as ``metric``."""
    shown = t.copy()
    for c in shown.columns[1:]:
        shown[c] = [format_value(metric, v) for v in shown[c]]
    return frame_to_markdown(shown.reset_index(drop=True))


def write_table(df: pd.DataFrame, path: str | os.PathLike | None) -> None:
    """Write a metrics table as TSV to ``path`` (atomic) or stdout (``None``/``'-'``), 10 digits."""
    from ..io.tables import write_tsv

    write_tsv(df, path, float_format="%.10g", na_rep="nan")


# --------------------------------------------------------------------------- expression
def evaluate_predictions(pred_df: pd.DataFrame, genes_df: pd.DataFrame | None = None
                         ) -> pd.DataFrame:
    """Regression metrics of predictions against targets per split and over all genes.

    Parameters
    ----------
    pred_df:
        ``seq2exp predict`` output: ``gene_id, prediction`` and ``target`` (the target
        may come from ``genes_df`` instead); an optional ``split`` column.
    genes_df:
        A store's gene table (``gene_id, split, target``): supplies the split (and the
        target) by ``gene_id`` when ``pred_df`` lacks them.

    Returns
    -------
    pd.DataFrame
        One row per split present (train, val, test, then ``all``): ``split, n, mse, mae,
        pearson, spearman, r2`` (log10(1 + CAGE) units; genes without a target skipped).
    """
    from ..errors import InputError
    from ..training.metrics import regression_metrics

    df = pred_df.copy()
    if "prediction" not in df:
        raise InputError("predictions table has no 'prediction' column; give the output of "
                         "`seq2exp predict`")
    if genes_df is not None and "gene_id" in df:
        g = genes_df.set_index(genes_df["gene_id"].astype(str))
        ids = df["gene_id"].astype(str)
        if "split" not in df and "split" in g:
            df["split"] = ids.map(g["split"]).to_numpy()
        if ("target" not in df or df["target"].isna().all()) and "target" in g:
            df = evaluate_targets(df, genes_df)
    if "target" not in df:
        raise InputError("no measured targets: the predictions have no 'target' column; "
                         "pass --store STORE (or predict with --targets)")
    groups: list[tuple[str, pd.DataFrame]] = []
    if "split" in df:
        present = [s for s in SPLIT_ORDER[:3] if (df["split"] == s).any()]
        others = [s for s in pd.unique(df["split"].dropna()) if s not in SPLIT_ORDER]
        groups += [(str(s), df[df["split"] == s]) for s in present + list(others)]
    groups.append(("all", df))
    rows = [{"split": name, **regression_metrics(sub["prediction"], sub["target"])}
            for name, sub in groups]
    return pd.DataFrame(rows, columns=["split", "n", "mse", "mae", "pearson", "spearman", "r2"])


def evaluate_files(predictions: str | os.PathLike, store: str | os.PathLike | None = None,
                   out_prefix: str | os.PathLike | None = None,
                   plot: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a predictions TSV (and a store's genes), run :func:`evaluate_predictions`, write ``PREFIX.tsv`` + ``PREFIX.md`` and the predicted-vs-measured PNG when asked."""
    from pathlib import Path

    from ..errors import InputError

    path = Path(predictions)
    if not path.is_file():
        raise InputError(f"{path}: predictions file not found; write one with `seq2exp predict`")
    try:
        pred = pd.read_csv(path, sep="\t", dtype={"gene_id": str, "name": str, "chrom": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a predictions TSV ({exc})") from exc
    genes = None
    if store is not None:
        from ..store import Store

        genes = Store(store).genes
    table = evaluate_predictions(pred, genes)
    if out_prefix is not None:
        write_table(table, f"{out_prefix}.tsv")
        with atomic_path(f"{out_prefix}.md") as tmp:
            tmp.write_text(frame_to_markdown(table))
    if plot is not None:
        from ..plot import plot_pred_vs_measured

        d = pred.copy()
        if "target" not in d or d["target"].isna().all():
            d = evaluate_targets(pred, genes)
        plot_pred_vs_measured(d, plot, title=path.stem)
    return table


def evaluate_targets(pred: pd.DataFrame, genes: pd.DataFrame | None) -> pd.DataFrame:
    """``pred`` with ``target`` taken from the store's genes (NaN where unknown)."""
    if genes is None:
        return pred
    g = genes.set_index(genes["gene_id"].astype(str))
    tgt = g["target"].where(g["has_target"].astype(bool)) if "has_target" in g else g["target"]
    return pred.assign(target=pred["gene_id"].astype(str).map(tgt).to_numpy())
