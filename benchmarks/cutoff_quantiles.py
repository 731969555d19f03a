"""Enhancers recalled and decoys touched at each calibration quantile of the element cutoff.

    python benchmarks/cutoff_quantiles.py RUN STORE TRUTH_BED MASK_BW --split val \\
        [--quantiles 0.5,0.52,...]

For a gate-form model (RUN) the cutoff of quantile q is the q quantile of the largest mask
value of each accessible region of the split's windows (:mod:`seq2exp_cli.inference
.calibrate`, the rule ``seq2exp train`` records).  For each q it prints that cutoff and,
against the planted truth (``truth_elements.bed`` of the simulation), the fraction of the
split's enhancers and decoys whose largest value in MASK_BW (``call-elements --bigwig`` of
the same model and split) reaches it: an element counts as recalled, or a decoy as touched,
when any of its bases is called.  Used to choose :data:`ELEMENT_QUANTILE` on the
validation chromosomes (docs/models.md).
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("store")
    ap.add_argument("truth")
    ap.add_argument("mask_bw")
    ap.add_argument("--split", default="val")
    ap.add_argument("--quantiles", default=",".join(f"{q:.2f}" for q in np.arange(0.5, 0.66, 0.02)))
    args = ap.parse_args()
    import pyBigWig

    from seq2exp_cli.inference.calibrate import accessible_region_scores
    from seq2exp_cli.io.bed import read_bed
    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.store import Store

    st = Store(args.store)
    idx = st.indices(args.split)
    scores = accessible_region_scores(st, load_model(args.run, device="cpu"), idx, progress=False)
    chroms = set(st.genes["chrom"].iloc[idx].astype(str))
    truth = read_bed(args.truth)
    truth = truth[truth["chrom"].astype(str).isin(chroms)]
    kind = truth["name"].astype(str).str.split("|").str[0]
    bw = pyBigWig.open(str(args.mask_bw))
    best = {}
    for k in ("enhancer", "decoy"):
        sel = truth[kind == k]
        best[k] = np.array([float(np.nan_to_num(bw.values(c, int(s), int(e), numpy=True)).max())
                            for c, s, e in zip(sel["chrom"], sel["start"], sel["end"])])
    print(f"# {args.run}, {args.split}: {len(idx)} genes, {len(scores):,} accessible regions, "
          f"{len(best['enhancer']):,} enhancers, {len(best['decoy']):,} decoys")
    print("quantile\tcutoff\tenhancers_recalled\tdecoys_touched")
    for q in (float(x) for x in args.quantiles.split(",")):
        c = float(np.quantile(scores, q))
        print(f"{q:.2f}\t{c:.4f}\t{np.mean(best['enhancer'] >= c):.3f}\t"
              f"{np.mean(best['decoy'] >= c):.3f}")


if __name__ == "__main__":
    main()
