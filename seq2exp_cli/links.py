"""Element–gene links from the additive readout: ``seq2exp call-links``.

A model with ``readout="additive"`` predicts each gene's expression from
``ln(1 + sum_t m_t c_t a_t / b)`` over its window (:mod:`seq2exp_cli.models.readout`).  The
element's **Score** is its share of that drive, ``sum_{t in element} m_t c_t a_t / (b + S)``:
the fraction of ``b + S`` that silencing the element removes, i.e. the model's prediction of
a CRISPRi effect, like ABC's score (activity x contact over the gene's total).

Elements are the gene's runs of mask >= ``cutoff`` (as :func:`seq2exp_cli.elements.call_elements`
finds them); the gene's own promoter (the central ``promoter_bp``, read by the head, not by
the readout) is left out.

Output layouts
--------------
* TSV in the ENCODE enhancer–gene prediction layout (ABC / ENCODE-rE2G column names; 0-based
  half-open coordinates): :data:`LINK_COLUMNS`.
* BEDPE for IGV's interaction track: element, then the TSS (1 bp), name ``element|gene``,
  score ``round(1000 * Score)``.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np
import pandas as pd

from .elements import mask_intervals
from .progress import progress_bar
from .store.windows import WindowSource

LINK_COLUMNS = ["chr", "start", "end", "name", "class", "TargetGene", "TargetGeneTSS",
                "TargetGeneEnsembl_ID", "distance", "contact", "mean_mask", "Score", "CellType"]


def _gene_tracks(source: WindowSource, net, cfg, device, indices, batch_size: int,
                 show_progress: bool) -> Iterator[tuple[object, int, np.ndarray, np.ndarray,
                                                     np.ndarray]]:
    """Per gene: ``(window, genome_start, mask_bp, share_bp, contact_bp)`` in genome
    orientation, clipped to the chromosome (share per bp = token share / bin_size)."""
    from .store.windows import stack_windows
    from .training.batches import check_compatible, to_tensors

    sig_idx = check_compatible(source, cfg, str(getattr(source, "path", "inputs")))
    ci = list(cfg.signal_names).index("contact") if "contact" in cfg.signal_names else None
    net.eval()
    with progress_bar(show_progress) as bar:
        task = bar.add_task("calling links", total=len(indices))
        for s in range(0, len(indices), batch_size):
            chunk = indices[s: s + batch_size]
            wins = [source.window(int(i), cfg.window_bp) for i in chunk]
            b = to_tensors(stack_windows(wins), device, sig_idx)
            m, share = net.token_shares(b["seq"], b["signals"], b["blacklist"])
            m = np.repeat(m.cpu().numpy(), cfg.bin_size, axis=1)
            share = np.repeat(share.cpu().numpy(), cfg.bin_size, axis=1) / cfg.bin_size
            sig = b["signals"].cpu().numpy()
            for j, w in enumerate(wins):
                size = source.chrom_sizes[w.chrom]
                lo, hi = max(w.start, 0), min(w.end, size)
                cut = slice(lo - w.start, hi - w.start)
                contact = (10.0 ** sig[j, :, ci] - 1.0) if ci is not None else np.ones(len(w.seq))
                yield (w, lo, w.to_genome(m[j])[cut], w.to_genome(share[j])[cut],
                       w.to_genome(contact)[cut])
            bar.advance(task, len(chunk))


def call_links(source: WindowSource, net, cfg, device, indices=None, cutoff: float = 0.5,
               min_length: int = 50, merge_gap: int = 100, min_score: float = 0.0,
               batch_size: int = 8, cell_type: str = "seq2exp",
               show_progress: bool = True) -> pd.DataFrame:
    """Element–gene links of every gene (or of ``indices``), sorted by position.

    Parameters
    ----------
    source : WindowSource
        A store or raw files.
    net, cfg : the model (``cfg.readout == "additive"``) and its config.
    cutoff, min_length, merge_gap : float, int, int
        Element calling, as in :func:`seq2exp_cli.elements.call_elements`.
    min_score : float
        Links with a lower Score are dropped.
    cell_type : str
        The ``CellType`` column.

    Returns
    -------
    pd.DataFrame with :data:`LINK_COLUMNS`.
    """
    from .io.bed import sort_intervals

    idx = np.arange(len(source)) if indices is None else np.asarray(indices)
    half = cfg.promoter_bp // 2
    rows = []
    for w, lo, m, share, contact in _gene_tracks(source, net, cfg, device, idx, batch_size,
                                                 show_progress):
        g = source.genes.iloc[w.index]
        tss = int(g["tss"])
        for s, e in mask_intervals(m, cutoff, min_length, merge_gap):
            a, z = lo + int(s), lo + int(e)
            if a < tss + half and z > tss - half:  # the gene's own promoter: the head's
                continue
            score = float(share[s:e].sum())
            if score < min_score:
                continue
            mid = (a + z) // 2
            name = str(g["name"] or g["gene_id"])
            rows.append((w.chrom, a, z, f"{w.chrom}:{a}-{z}", "distal", name, tss,
                         str(g["gene_id"]), int(mid - tss), float(contact[(s + e) // 2]),
                         float(m[s:e].mean()), score, cell_type))
    df = pd.DataFrame(rows, columns=LINK_COLUMNS)
    df = df.rename(columns={"chr": "chrom"})
    df = sort_intervals(df).rename(columns={"chrom": "chr"})
    return df.reset_index(drop=True)


def write_links(df: pd.DataFrame, output: str | os.PathLike | None) -> None:
    """The links as TSV with a header (atomic to ``output``, or stdout)."""
    import sys

    from .io.atomic import write_text_atomic

    out = df.assign(contact=df["contact"].round(6), mean_mask=df["mean_mask"].round(4),
                    Score=df["Score"].round(6))
    text = out.to_csv(sep="\t", index=False, lineterminator="\n")
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text_atomic(output, text)


def write_bedpe(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """The links as BEDPE (element, TSS) for IGV's interaction track, atomically."""
    from .io.atomic import write_text_atomic

    lines = [f"{r.chr}\t{r.start}\t{r.end}\t{r.chr}\t{r.TargetGeneTSS}\t{r.TargetGeneTSS + 1}"
             f"\t{r.name}|{r.TargetGene}\t{int(round(1000 * min(max(r.Score, 0.0), 1.0)))}"
             "\t.\t.\n" for r in df.itertuples(index=False)]
    write_text_atomic(path, "".join(lines))


__all__ = ["LINK_COLUMNS", "call_links", "write_bedpe", "write_links"]
