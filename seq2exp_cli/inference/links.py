"""Element–gene links from the additive readout: ``seq2exp call-links``.

A model with ``readout="additive"`` predicts each gene's expression from
``ln(1 + sum_t m_t c_t a_t / b)`` over its window (:mod:`seq2exp_cli.models.readout`).  The
element's **Score** is its share of that drive, ``sum_{t in element} m_t c_t a_t / (b + S)``:
the fraction of ``b + S`` that silencing the element removes, i.e. the model's prediction of
a CRISPRi effect, like ABC's score (activity x contact over the gene's total).

Elements are the gene's runs of mask >= ``cutoff`` (as
:func:`seq2exp_cli.inference.elements.gene_elements` finds them); the gene's own promoter (the central ``promoter_bp``, read by the head, not by
the readout) is left out.

The table's columns are :data:`LINK_COLUMNS` (the ENCODE enhancer–gene prediction layout;
its files are written and read by :mod:`seq2exp_cli.io.links`).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from ..progress import progress_bar
from ..store.windows import WindowSource
from .elements import default_cutoff, mask_intervals

from ..io.links import LINK_COLUMNS


#: tracks whose geometric mean is ABC's activity (``--score mask-abc``), when the model has them
ABC_TRACKS = ("dnase", "h3k27ac")
#: what a link's Score is: the model's share of the drive, or the mask-weighted ABC score
SCORES = ("share", "mask-abc", "abc")


def _gene_tracks(source: WindowSource, model, indices, batch_size: int,
                 progress: bool) -> Iterator[tuple[object, int, np.ndarray, np.ndarray,
                                                   np.ndarray, np.ndarray]]:
    """Yield ``(window, genome_start, mask_bp, share_bp, contact_bp, tracks_bp)`` per gene.

    All in genome orientation, clipped to the chromosome (share per bp = token share /
    bin_size); ``tracks_bp`` is ``(k, n)``: the scale-free :data:`ABC_TRACKS` the model
    reads (else its first non-contact track).
    """
    from ..store.windows import stack_windows
    from .forward import check_compatible, to_tensors

    net, cfg, _ = model
    device = model.device
    sig_idx = check_compatible(source, cfg, str(getattr(source, "path", "inputs")))
    names = list(cfg.signal_names)
    ci = names.index("contact") if "contact" in names else None
    ti = [names.index(t) for t in ABC_TRACKS if t in names] or [
        i for i, n in enumerate(names) if n != "contact"][:1]
    net.eval()
    with progress_bar(progress) as bar:
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
                tracks = np.stack([w.to_genome(sig[j, :, k])[cut] for k in ti])
                yield (w, lo, w.to_genome(m[j])[cut], w.to_genome(share[j])[cut],
                       w.to_genome(contact)[cut], tracks)
            bar.advance(task, len(chunk))


def gene_links(source: WindowSource, model, indices=None, cutoff: float | None = None,
               min_length: int = 50, merge_gap: int = 100, min_score: float = 0.0,
               batch_size: int = 8, cell_type: str = "seq2exp",
               progress: bool = True, candidates: pd.DataFrame | None = None,
               score: str = "share") -> pd.DataFrame:
    """Element–gene links of every gene (or of ``indices``), sorted by position.

    Parameters
    ----------
    source : WindowSource
        A store or raw files.
    model : TrainedModel
        From :func:`seq2exp_cli.models.checkpoint.load_model`; a Seq2Exp model with the
        additive readout (``cfg.readout == "additive"``).
    cutoff, min_length, merge_gap : float, int, int
        Element calling, as in :func:`seq2exp_cli.inference.elements.gene_elements`
        (``cutoff`` None: the model's :func:`~.elements.default_cutoff`).
    min_score : float
        Links with a lower Score are dropped.
    candidates : pd.DataFrame, optional
        Candidate elements (``chrom, start, end``: MACS3 peaks, ENCODE cCREs), scored
        instead of the mask's runs, as ABC scores its candidates: every candidate in the
        gene's window gets a link whose Score is the model's share of the drive over its
        bases, whatever its mask (``cutoff`` is then not used).
    score : {"share", "mask-abc", "abc"}
        ``share``: the element's share of the model's predicted drive (above).
        ``mask-abc``: ABC's score with the learned mask as a weight, ``mean mask x
        sqrt(DNase x H3K27ac) x contact`` over the element, divided by its sum over the
        gene's links, so the mask decides which accessible sites count and ABC's activity
        and contact how much (docs/models.md: it ranks CRISPRi pairs above ABC alone).
        ``abc``: the same without the mask, ABC itself on the same candidates (a baseline).
    cell_type : str
        The ``CellType`` column.

    Returns
    -------
    pd.DataFrame with :data:`LINK_COLUMNS`.
    """
    from ..errors import Seq2ExpError
    from ..io.bed import sort_intervals

    cfg = model.config
    if getattr(cfg, "readout", None) != "additive":
        raise Seq2ExpError(
            "this model scores no element-gene links (it has no additive readout); use a model "
            "trained with the cpu presets (readout=additive), e.g. the bundled one")
    if score not in SCORES:
        raise Seq2ExpError(f"unknown link score {score!r}; choose one of {', '.join(SCORES)}")
    if cutoff is None:
        cutoff = default_cutoff(model)
    idx = np.arange(len(source)) if indices is None else np.asarray(indices)
    half = cfg.promoter_bp // 2
    rows = []
    by_chrom = (_by_chrom(candidates, source.chrom_sizes) if candidates is not None else None)
    for w, lo, m, share, contact, tracks in _gene_tracks(source, model, idx, batch_size,
                                                         progress):
        g = source.genes.iloc[w.index]
        tss = int(g["tss"])
        if by_chrom is None:
            runs = mask_intervals(m, cutoff, min_length, merge_gap)
        else:
            runs = _window_candidates(by_chrom, w.chrom, lo, lo + len(m))
        gene_rows = []
        for s, e in runs:
            a, z = lo + int(s), lo + int(e)
            if a < tss + half and z > tss - half:  # the gene's own promoter: the head's
                continue
            c_mid, m_mean = float(contact[(s + e) // 2]), float(m[s:e].mean())
            if score == "share":
                value = float(share[s:e].sum())
            else:  # ABC's activity x contact (weighted by the mask); normalised below
                act = float(np.exp(np.mean(np.log(np.maximum(tracks[:, s:e].mean(1), 0.0)
                                                  + 1e-12))))
                value = (m_mean if score == "mask-abc" else 1.0) * act * c_mid
            mid = (a + z) // 2
            name = str(g["name"] or g["gene_id"])
            gene_rows.append([w.chrom, a, z, f"{w.chrom}:{a}-{z}", "distal", name, tss,
                              str(g["gene_id"]), int(mid - tss), c_mid, m_mean, value,
                              cell_type])
        if score != "share":
            total = sum(r[11] for r in gene_rows)
            for r in gene_rows:
                r[11] = r[11] / total if total > 0 else 0.0
        rows += [tuple(r) for r in gene_rows if r[11] >= min_score]
    df = pd.DataFrame(rows, columns=LINK_COLUMNS)
    df = df.rename(columns={"chr": "chrom"})
    df = sort_intervals(df).rename(columns={"chrom": "chr"})
    return df.reset_index(drop=True)


def _by_chrom(candidates: pd.DataFrame, sizes) -> dict[str, np.ndarray]:
    """Map canonical chrom -> (n, 2) int64 [start, end) of the candidates, sorted by start.

    ``1`` and ``chr1`` alike; chromosomes the genome lacks are left out.
    """
    from ..io.chroms import ChromNames

    names = ChromNames(sizes)
    out: dict[str, list] = {}
    for chrom, df in candidates.groupby(candidates["chrom"].astype(str), sort=False):
        canon = names.get(chrom)
        if canon is not None:
            out.setdefault(canon, []).append(df[["start", "end"]].to_numpy(np.int64))
    res = {}
    for chrom, parts in out.items():
        iv = np.concatenate(parts)
        res[chrom] = iv[np.argsort(iv[:, 0], kind="stable")]
    return res


def _window_candidates(by_chrom: dict[str, np.ndarray], chrom: str, lo: int, hi: int
                       ) -> np.ndarray:
    """Return the candidates overlapping ``[lo, hi)`` as window offsets, clipped, (n, 2)."""
    iv = by_chrom.get(chrom)
    if iv is None or not len(iv):
        return np.zeros((0, 2), dtype=np.int64)
    # candidates are short: any that overlaps starts after lo - the longest one
    longest = int((iv[:, 1] - iv[:, 0]).max())
    a = np.searchsorted(iv[:, 0], lo - longest, side="left")
    b = np.searchsorted(iv[:, 0], hi, side="left")
    sel = iv[a:b]
    sel = sel[(sel[:, 1] > lo) & (sel[:, 0] < hi)]
    out = np.clip(sel - lo, 0, hi - lo)
    return out[out[:, 1] > out[:, 0]]


__all__ = ["ABC_TRACKS", "LINK_COLUMNS", "SCORES", "gene_links"]
