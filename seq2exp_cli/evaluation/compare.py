"""``seq2exp compare-peaks``: learned elements against peak calls (and planted truth).

Model-free: it reads BED / bigWig / TSV files only.

Universe
    The union of the chosen genes' windows (TSS ± window/2 bp, clipped to the
    chromosome) minus the promoters: TSS ± ``promoter_flank`` (1 kb) of *every* gene of
    the gene table and, with a truth table, its ``promoter`` intervals.  Promoters are
    always kept by the model (the central 2 kb are forced into the mask), so counting them
    would inflate every method alike.  All bp metrics are computed inside the universe;
    interval metrics use the intervals overlapping it by >= 1 bp.

Methods
-------
    ``seq2exp`` (learned elements, scored per bp by ``mean_mask``, or a mask bigWig),
    the peaks (``MACS3`` when called here, else ``peaks``; scored by narrowPeak
    ``signalValue``), ``DNase`` (the raw DNase value per bp as a score) and ``random``
    (the positive fraction, the AUPRC of a random ranking).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from . import intervals as ivs
from ..io.bed import read_interval_table, read_peaks
from ..io.chroms import read_chrom_sizes
from ..io.crispri import read_crispri
from ..io.links import read_links
from .links import abc_score, learned_link_score, link_auprc, track_means
from .peaks import abc_activity_runs, call_peaks_macs3, signal_runs
from ..plot import plot_pr_curves
from .report import Report

S_COVER = "Coverage of the evaluated windows"
S_OVERLAP = "Learned elements vs peaks"
S_TRUTH = "Against planted enhancers"
S_LINKS = "Enhancer-gene links (CRISPRi)"
S_GENES = "Per gene window"


def _elements_from_mask(track, universe: ivs.IntervalSet, cutoff: float):
    scored = signal_runs(track, universe)
    rows = []
    for c, (s, e, v) in scored.items():
        on = v >= cutoff
        iv = ivs.merge(s[on], e[on])
        # mean mask of each element: bp-weighted mean of the runs it is made of
        grp = np.searchsorted(iv[:, 0], s[on], side="right") - 1
        w = (e[on] - s[on]).astype(np.float64)
        sums = np.bincount(grp, weights=w * v[on], minlength=len(iv))
        rows.append(pd.DataFrame({"chrom": c, "start": iv[:, 0], "end": iv[:, 1],
                                  "mean_mask": sums / np.maximum(iv[:, 1] - iv[:, 0], 1)}))
    df = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {"chrom": pd.Series(dtype=str), "start": pd.Series(dtype=np.int64),
         "end": pd.Series(dtype=np.int64), "mean_mask": pd.Series(dtype=float)})
    return df, scored


def _per_gene(report: Report, windows: pd.DataFrame, universe, elements: pd.DataFrame | None,
              el_set, peak_set, label: str) -> dict[str, float]:
    """Per-gene mask ratio (the gene's own elements when ``gene_id`` is known), peak coverage and bp Jaccard inside the gene's window part of the universe."""
    own = None
    if elements is not None and "gene_id" in elements and len(elements):
        ex = elements.assign(gene_id=elements["gene_id"].astype(str).str.split(",")) \
            .explode("gene_id")
        own = {g: (sub["start"].to_numpy(), sub["end"].to_numpy())
               for g, sub in ex.groupby("gene_id", sort=False)}
    empty = np.zeros((0, 2), dtype=np.int64)
    cover = {"seq2exp": [], "peaks": []}
    for g, c, a, b in windows[["gene_id", "chrom", "start", "end"]].itertuples(index=False):
        u = ivs.window_slice(universe.get(c, empty), a, b)
        ub = int((u[:, 1] - u[:, 0]).sum())
        if own is not None:
            e = ivs.intersect({c: ivs.merge(*own[g]) if g in own else empty}, {c: u})
        else:
            e = {c: ivs.window_slice(el_set.get(c, empty), a, b)} if el_set is not None else None
        p = {c: ivs.window_slice(peak_set.get(c, empty), a, b)} if peak_set is not None else None
        report.add(S_GENES, "universe", "covered_bp", ub, g)
        if e is not None:
            cover["seq2exp"].append(ivs.total_bp(e) / ub if ub else np.nan)
            report.add(S_GENES, "seq2exp", "coverage", cover["seq2exp"][-1], g)
        if p is not None:
            cover["peaks"].append(ivs.total_bp(p) / ub if ub else np.nan)
            report.add(S_GENES, label, "coverage", cover["peaks"][-1], g)
        if e is not None and p is not None:
            report.add(S_GENES, f"seq2exp vs {label}", "bp_jaccard",
                       ivs.bp_overlap(e, p)["jaccard"], g)
    return {k: float(np.nanmean(v)) if len(v) and np.isfinite(v).any() else np.nan
            for k, v in cover.items()}


def compare_peaks(
    genes: pd.DataFrame, window: int = 200_000, *, all_genes: pd.DataFrame | None = None,
    chrom_sizes: dict[str, int] | None = None, elements: pd.DataFrame | None = None,
    mask_track=None, mask_cutoff: float = 0.5, truth: pd.DataFrame | None = None,
    peaks: pd.DataFrame | None = None, call_peaks: bool = False, dnase_track=None,
    h3k27ac_track=None, crispri: str | os.PathLike | None = None,
    macs3_cutoff: float | None = None, macs3_quantile: float = 0.9, macs3_min_length: int = 150,
    macs3_max_gap: int = 50, peaks_out: str | os.PathLike | None = None,
    plot_dir: str | os.PathLike | None = None, promoter_flank: int = 1000,
    title: str = "seq2exp compare-peaks", links: pd.DataFrame | None = None,
    contact_of=None,
) -> Report:
    """Compare learned elements with peaks inside the genes' windows (see module doc).

    Parameters
    ----------
    genes:
        The evaluated genes (``gene_id, chrom, tss``; tss 0-based bp).
    all_genes:
        Every gene of the table, for the TSS ± ``promoter_flank`` exclusion (default
        ``genes``).
    elements / mask_track, mask_cutoff:
        Learned elements (``seq2exp call-elements`` BED6+4) or a mask bigWig whose bp
        with mask >= ``mask_cutoff`` form the elements.
    truth:
        Planted elements (``name`` = promoter / enhancer / decoy / ctcf).
    peaks / call_peaks:
        Peak intervals (``peak_score`` column), or call them with MACS3 on ``dnase_track``.
    crispri:
        ENCODE-layout CRISPRi table for the link AUPRC.
    links:
        ``seq2exp call-links`` table (``chr, start, end, TargetGeneEnsembl_ID, Score``): each
        tested pair scores the largest Score of the gene's links overlapping its element.
    contact_of:
        Callable ``pairs -> contact`` (one value per pair, the Hi-C contact of the gene's
        TSS bin with the element's bin, as the store holds it): adds ABC with Hi-C.
    peaks_out, plot_dir:
        Where to keep MACS3's narrowPeak; folder for PR-curve PNGs.

    Returns
    -------
    Report
    """
    rep = Report(title)
    all_genes = genes if all_genes is None else all_genes
    if truth is not None and "name" not in truth:
        raise InputError("the truth table needs a name column with the element kind "
                         "(promoter / enhancer / decoy / ctcf), as truth_elements.bed")
    if peaks is not None and "peak_score" not in peaks:
        peaks = peaks.assign(peak_score=1.0)
    windows = ivs.gene_windows(genes, window, chrom_sizes)
    universe = ivs.subtract(ivs.from_frame(windows),
                            ivs.promoter_set(all_genes, promoter_flank, truth))
    ubp = ivs.total_bp(universe)
    rep.section(S_COVER, note=(
        f"Universe: {len(genes)} gene windows of {window:,} bp (TSS ± {window // 2:,}), "
        f"minus promoters (TSS ± {promoter_flank:,} bp of every gene"
        + (", and truth promoters" if truth is not None else "") + f"): {ubp:,} bp."))
    rep.add(S_COVER, "universe", "n_genes", len(genes))
    rep.add(S_COVER, "universe", "covered_bp", ubp)

    el_df = el_set = el_scored = None
    if mask_track is not None:
        el_df, el_scored = _elements_from_mask(mask_track, universe, mask_cutoff)
    elif elements is not None:
        el_df = elements
        col = "mean_mask" if "mean_mask" in elements else "score"
        s = pd.to_numeric(elements[col], errors="coerce").fillna(0.0) if col in elements else 1.0
        el_scored = ivs.scored_from_frame(elements.assign(_s=s), "_s")
    if el_df is not None:
        el_set = ivs.intersect(ivs.from_frame(el_df), universe)
        rep.section(S_COVER, note=_form_note(mask_track is not None, mask_cutoff))
    label = "MACS3" if call_peaks else "peaks"
    if call_peaks:
        if dnase_track is None:
            raise InputError("--call-peaks needs --dnase DNASE.bw")
        sizes = {c: (chrom_sizes or dnase_track.chrom_sizes).get(c) for c in universe}
        peaks, cut, rule = call_peaks_macs3(
            dnase_track, universe, ubp, {c: n for c, n in sizes.items() if n}, out=peaks_out,
            cutoff=macs3_cutoff, quantile=macs3_quantile, min_length=macs3_min_length,
            max_gap=macs3_max_gap)
        rep.section(S_COVER, note=(
            f"MACS3 bdgpeakcall on DNase: cutoff {cut:.4g} ({rule}), "
            f"min length {macs3_min_length} bp, max gap {macs3_max_gap} bp; "
            f"{len(peaks):,} peaks genome-wide."))
    pk_set = ivs.intersect(ivs.from_frame(peaks), universe) if peaks is not None else None

    for method, df, s in (("seq2exp", el_df, el_set), (label, peaks, pk_set)):
        if s is None:
            continue
        rep.add(S_COVER, method, "covered_bp", ivs.total_bp(s))
        rep.add(S_COVER, method, "coverage", ivs.total_bp(s) / ubp if ubp else np.nan)
        rep.add(S_COVER, method, "n_intervals", len(ivs.restrict(df, universe)))

    if el_set is not None and pk_set is not None:
        m = f"seq2exp vs {label}"
        ov = ivs.bp_overlap(el_set, pk_set)
        rep.add(S_OVERLAP, m, "bp_jaccard", ov["jaccard"])
        rep.add(S_OVERLAP, m, "bp_frac_elements_in_peaks", ov["frac_a_in_b"])
        rep.add(S_OVERLAP, m, "bp_frac_peaks_in_elements", ov["frac_b_in_a"])
        rep.add(S_OVERLAP, m, "frac_elements_overlapping_peaks",
                ivs.fraction_overlapping(ivs.restrict(el_df, universe), pk_set))
        rep.add(S_OVERLAP, m, "frac_peaks_overlapping_elements",
                ivs.fraction_overlapping(ivs.restrict(peaks, universe), el_set))

    if truth is not None:
        _truth_section(rep, truth, universe, label, el_df, el_set, el_scored, peaks, pk_set,
                       dnase_track, plot_dir, h3k27ac_track)
    if crispri is not None:
        _links_section(rep, crispri, genes, el_df, mask_track, dnase_track, h3k27ac_track,
                       plot_dir, links, contact_of)
    rep.section(S_GENES, layout="gene",
                note="Coverage of each gene's window (its universe bp); seq2exp counts the "
                "gene's own elements (gene_id column) when known: the per-gene mask ratio.")
    means = _per_gene(rep, windows, universe, el_df if mask_track is None else None,
                      el_set, pk_set, label)
    if el_set is not None:
        rep.add(S_COVER, "seq2exp", "mean_gene_coverage", means["seq2exp"])
    if pk_set is not None:
        rep.add(S_COVER, label, "mean_gene_coverage", means["peaks"])
    return rep


def _form_note(from_mask: bool, cutoff: float) -> str:
    """Say which form the seq2exp scores come from, and why the two forms score differently."""
    if from_mask:
        return ("seq2exp scores come from the per-bp mask (--mask): every bp of the universe "
                "is ranked by its own mask value; the intervals (coverage, overlap, interval "
                f"precision/recall, decoys) are its runs of bp with mask >= {cutoff:g}. The "
                "same model's --elements BED usually gets a lower bp_auprc, since there every "
                "bp outside a called element scores 0 (a tie at the bottom of the ranking).")
    return ("seq2exp scores come from the called intervals (--elements): each bp inside an "
            "element scores the element's mean_mask, every other bp 0, so the bases below "
            "call-elements' cutoff tie at the bottom of the ranking. Pass the per-bp mask "
            "(call-elements --bigwig mask.bw, then --mask mask.bw) to rank every bp by its "
            "own value: its bp_auprc is usually higher, and is the one to compare with DNase.")


def _truth_section(rep, truth, universe, label, el_df, el_set, el_scored, peaks, pk_set,
                   dnase_track, plot_dir, h3k27ac_track=None) -> None:
    enh = ivs.restrict(truth[truth["name"] == "enhancer"], universe)
    dec = ivs.restrict(truth[truth["name"] == "decoy"], universe)
    pos = ivs.intersect(ivs.from_frame(enh), universe)
    rep.section(S_TRUTH, note=(
        "bp metrics inside the universe; interval precision = fraction of called intervals "
        "overlapping an enhancer, recall = fraction of enhancers overlapped, decoy_fpr = "
        "fraction of decoys overlapped; bp_auprc ranks every universe bp by its score "
        "(0 outside called intervals); ABC activity = sqrt(DNase x H3K27ac) of the 500-bp "
        "element centred on each bp (ABC's candidate activity)."))
    rep.add(S_TRUTH, "truth", "n_enhancers", len(enh))
    rep.add(S_TRUTH, "truth", "n_decoys", len(dec))
    rep.add(S_TRUTH, "truth", "enhancer_bp", ivs.total_bp(pos))
    curves, prev = {}, np.nan
    methods = []
    if el_set is not None:
        methods.append(("seq2exp", ivs.restrict(el_df, universe), el_set, el_scored))
    if pk_set is not None:
        methods.append((label, ivs.restrict(peaks, universe), pk_set,
                        ivs.scored_from_frame(peaks, "peak_score")))
    for method, df, s, scored in methods:
        prf = ivs.bp_prf(s, pos)
        for k in ("precision", "recall", "f1"):
            rep.add(S_TRUTH, method, f"bp_{k}", prf[k])
        rep.add(S_TRUTH, method, "interval_precision", ivs.fraction_overlapping(df, pos))
        rep.add(S_TRUTH, method, "interval_recall",
                ivs.fraction_overlapping(enh, ivs.from_frame(df)))
        rep.add(S_TRUTH, method, "decoy_fpr", ivs.fraction_overlapping(dec, ivs.from_frame(df)))
        sc, w, y = ivs.bp_scores(scored, universe, pos)
        rep.add(S_TRUTH, method, "bp_auprc", ivs.average_precision(sc, y, w))
        curves[method] = ivs.pr_curve(sc, y, w)[:2]
        prev = ivs.prevalence(y, w)
    if dnase_track is not None:
        sc, w, y = ivs.bp_scores(signal_runs(dnase_track, universe), universe, pos)
        rep.add(S_TRUTH, "DNase", "bp_auprc", ivs.average_precision(sc, y, w))
        curves["DNase"] = ivs.pr_curve(sc, y, w)[:2]
        prev = ivs.prevalence(y, w)
    if dnase_track is not None and h3k27ac_track is not None:
        sc, w, y = ivs.bp_scores(abc_activity_runs(dnase_track, h3k27ac_track, universe),
                                 universe, pos)
        rep.add(S_TRUTH, "ABC activity", "bp_auprc", ivs.average_precision(sc, y, w))
        curves["ABC activity"] = ivs.pr_curve(sc, y, w)[:2]
    if not np.isfinite(prev):
        prev = ivs.total_bp(pos) / max(ivs.total_bp(universe), 1)
    rep.add(S_TRUTH, "random", "bp_auprc", prev)
    if plot_dir is not None and curves:
        plot_pr_curves(curves, Path(plot_dir) / "pr_bp.png",
                       "bp-level PR: planted enhancers in the gene windows", prev,
                       xlabel="recall (enhancer bp)", ylabel="precision (bp)")


def _links_section(rep, crispri, genes, el_df, mask_track, dnase_track, h3k27ac_track,
                   plot_dir, links=None, contact_of=None) -> None:
    pairs = read_crispri(crispri, genes)
    rep.section(S_LINKS, layout="scope", note=(
        f"{len(pairs):,} tested pairs of the evaluated genes; positives = Regulated. "
        "seq2exp: max mean_mask of the gene's elements overlapping the element; seq2exp "
        "links: max Score (share of the gene's predicted enhancer drive) of the gene's "
        "call-links rows overlapping the element; ABC: activity x contact normalised over "
        "the gene's tested elements, named ABC-table when it uses the table's activity and "
        "contact columns (on simulated data those are the simulator's own: an oracle, not a "
        "method); ABC-HiC: the same from "
        "sqrt(DNase x H3K27ac) and the store's Hi-C contact; ABC-tracks: from "
        "sqrt(DNase x H3K27ac) and the ABC power law; distance: -|d|."))
    scores: dict[str, np.ndarray] = {}
    if links is not None:
        ln = pd.DataFrame({"chrom": links["chr"].astype(str), "start": links["start"],
                           "end": links["end"],
                           "gene_id": links["TargetGeneEnsembl_ID"].astype(str),
                           "_s": pd.to_numeric(links["Score"], errors="coerce").fillna(0.0)})
        scores["seq2exp links"] = learned_link_score(pairs, ln, "_s")
    if mask_track is not None:
        scores["seq2exp"] = track_means(mask_track, pairs)
    elif el_df is not None:
        col = "mean_mask" if "mean_mask" in el_df else "score"
        s = pd.to_numeric(el_df[col], errors="coerce").fillna(0.0) if col in el_df else 1.0
        scores["seq2exp"] = learned_link_score(pairs, el_df.assign(_s=s), "_s")
    abc = abc_score(pairs, dnase_track, h3k27ac_track)
    from_table = "activity" in pairs or "contact" in pairs
    if abc is not None:
        scores["ABC-table" if from_table else "ABC"] = abc
    if dnase_track is not None and contact_of is not None:
        hic_pairs = pairs.drop(columns=["activity", "contact"], errors="ignore")
        scores["ABC-HiC"] = abc_score(hic_pairs.assign(contact=contact_of(hic_pairs)),
                                      dnase_track, h3k27ac_track)
    if dnase_track is not None and ("activity" in pairs or "contact" in pairs):
        # ABC from the tracks and the power law alone (the table's columns may be oracles)
        scores["ABC-tracks"] = abc_score(pairs.drop(columns=["activity", "contact"],
                                                    errors="ignore"), dnase_track, h3k27ac_track)
    scores["distance"] = -np.abs(pairs["distance"].to_numpy(np.float64))
    rows, curves = link_auprc(pairs, scores)
    for method, metric, scope, value in rows:
        rep.add(S_LINKS, method, metric, value, scope)
    if plot_dir is not None and len(pairs):
        shown = {("oracle: the table's activity x contact" if k == "ABC-table" else k): v
                 for k, v in curves.items()}
        plot_pr_curves(shown, Path(plot_dir) / "pr_links.png",
                       "element-gene links against CRISPRi (Regulated)",
                       float(pairs["regulated"].mean()), xlabel="recall (regulated pairs)",
                       ylabel="precision")


def select_genes(genes: pd.DataFrame, split: str, chrom_sizes=None) -> pd.DataFrame:
    """Genes of ``split`` (``all`` for every gene).  Without a ``split`` column the paper's chromosome split is used (val chr3, chr21.

    Test chr22, chrX).
    """
    if split == "all":
        return genes
    if "split" not in genes:
        from ..io.chroms import ChromNames
        from ..store.layout import DEFAULT_TEST_CHROMS, DEFAULT_VAL_CHROMS, assign_split

        names = ChromNames(chrom_sizes or {c: 1 for c in pd.unique(genes["chrom"])})
        genes = genes.assign(split=assign_split(genes["chrom"].to_numpy(), DEFAULT_VAL_CHROMS,
                                                DEFAULT_TEST_CHROMS, names.get))
    sel = genes[genes["split"] == split].reset_index(drop=True)
    if sel.empty:
        raise InputError(f"no genes in split '{split}' (splits present: "
                         f"{', '.join(map(str, pd.unique(genes['split'])))}); use --split all "
                         "or another split")
    return sel


def compare_peaks_files(
    *, genes=None, store=None, split: str = "test", window: int | None = None,
    chrom_sizes=None, elements=None, mask=None, truth=None, peaks=None,
    call_peaks: bool = False, dnase=None, h3k27ac=None, crispri=None, out_prefix=None,
    plot_dir=None, links=None, peaks_out=None, **options,
) -> Report:
    """Read the files, run :func:`compare_peaks`, write ``PREFIX.tsv``/``.md`` and the PR curves.

    Called peaks are kept in ``peaks_out`` (default ``PREFIX.macs3.narrowPeak`` with an
    ``out_prefix``).
    """
    from ..io.bigwig import BigWigTrack
    from ..io.chroms import ChromNames
    from ..io.genes import read_genes

    if elements is not None and mask is not None:
        raise InputError("give learned elements as --elements BED or --mask bigWig, not both")
    if peaks is not None and call_peaks:
        raise InputError("give --peaks FILE or --call-peaks, not both")
    if elements is None and mask is None and peaks is None and not call_peaks and links is None:
        raise InputError("nothing to compare: give --elements/--mask and --peaks/--call-peaks, "
                         "or --links with --crispri")
    if call_peaks and dnase is None:
        raise InputError("--call-peaks needs --dnase DNASE.bw (the signal MACS3 calls on)")
    sizes = read_chrom_sizes(chrom_sizes) if chrom_sizes is not None else None
    contact_of = None
    if store is not None:
        from ..store import Store

        st = Store(store)
        table = st.genes
        if st.manifest["options"].get("contact_source") == "hic":
            contact_of = _store_contact(st)
        sizes = sizes or dict(st.chrom_sizes)
        window = window or st.window_bp
    elif genes is not None:
        table = read_genes(genes, ChromNames(sizes) if sizes else None)
    else:
        raise InputError("give the genes with --genes FILE or --store STORE")
    names = ChromNames(sizes) if sizes else None
    tracks = {k: BigWigTrack(p, names) if p is not None else None
              for k, p in (("dnase", dnase), ("h3k27ac", h3k27ac), ("mask", mask))}
    if sizes is None:
        for t in tracks.values():
            if t is not None:
                sizes = {**t.chrom_sizes, **(sizes or {})}
    chosen = select_genes(table, split, sizes)
    if plot_dir is not None:
        Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        rep = compare_peaks(
            chosen, int(window or 200_000), all_genes=table, chrom_sizes=sizes,
            elements=read_interval_table(elements) if elements is not None else None,
            mask_track=tracks["mask"],
            truth=read_interval_table(truth) if truth is not None else None,
            peaks=read_peaks(peaks) if peaks is not None else None, call_peaks=call_peaks,
            dnase_track=tracks["dnase"], h3k27ac_track=tracks["h3k27ac"], crispri=crispri,
            peaks_out=(peaks_out if peaks_out is not None else
                       f"{out_prefix}.macs3.narrowPeak" if out_prefix and call_peaks else None),
            plot_dir=plot_dir, title=f"seq2exp compare-peaks (split {split})",
            links=read_links(links) if links is not None else None, contact_of=contact_of,
            **options)
    finally:
        for t in tracks.values():
            if t is not None:
                t.close()
    if out_prefix is not None:
        rep.write(out_prefix)
    return rep


def _store_contact(st):
    """Return ``pairs -> contact`` over the store's per-gene contact profiles.

    Each pair gets the Hi-C contact between its gene's TSS bin and the bin of the element's
    midpoint (ABC's contact as the models see it); 0 outside the gene's window.
    """
    def contact_of(pairs: pd.DataFrame) -> np.ndarray:
        res, half = st.resolution, st.window_bp // 2
        out = np.zeros(len(pairs))
        rows = {g: i for i, g in enumerate(st.genes["gene_id"].astype(str))}
        cache: dict[int, np.ndarray] = {}
        for k, (g, s, e, tss) in enumerate(zip(pairs["gene_id"], pairs["start"], pairs["end"],
                                                pairs["tss"])):
            i = rows.get(str(g))
            if i is None:
                continue
            prof = cache.get(i)
            if prof is None:
                prof = cache[i] = st.contact_bins(i)
            b = (int(s) + int(e)) // 2 // res - (int(tss) - half) // res
            if 0 <= b < len(prof):
                out[k] = float(prof[b])
        return out

    return contact_of


__all__ = ["compare_peaks", "compare_peaks_files",
           "select_genes"]
