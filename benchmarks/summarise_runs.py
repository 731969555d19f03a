"""One line per scored run (benchmarks/score_run.sh), and mean ± sd over runs.

Reads ``PREFIX.cmp.tsv`` (compare-peaks) and ``PREFIX.eval.tsv`` (evaluate) of each prefix:
expression Pearson and its ratio to the simulator's noise ceiling, the mask's bp AUPRC
against planted enhancers beside MACS3's, DNase's and ABC activity's, the coverage, the
planted enhancers recalled and decoys touched at the mask cutoff, and the link AUPRC
against the CRISPRi table beside ABC's: of the mask's own elements (``PREFIX.cmp.tsv``) and
of every MACS3 peak as candidate (``PREFIX.clinkscmp.tsv``), and the mask-weighted ABC
score on the same candidates (``PREFIX.mlinkscmp.tsv``), when present.

    python benchmarks/summarise_runs.py [--truth truth.json] [--split test] PREFIX...
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics

COLUMNS = [
    ("pearson", "Pearson"), ("pearson_ceiling", "Pearson / ceiling"),
    ("auprc_mask", "bp AUPRC mask"), ("auprc_macs3", "MACS3"), ("auprc_dnase", "DNase"),
    ("auprc_abc", "ABC activity"), ("mask_over_macs3", "mask / MACS3"),
    ("mask_over_abc", "mask / ABC act."), ("coverage_mask", "coverage mask"),
    ("coverage_macs3", "coverage MACS3"), ("recall_mask", "enhancers recalled"),
    ("decoys_mask", "decoys touched, mask"), ("decoys_macs3", "decoys touched, MACS3"),
    ("links_mask", "link AUPRC seq2exp"), ("links_candidates", "seq2exp on MACS3 peaks"),
    ("links_mask_abc", "mask x ABC on MACS3 peaks"),
    ("links_abc_hic", "ABC (Hi-C)"),
    ("links_abc_tracks", "ABC (power law)"), ("links_distance", "distance"),
]


def _report(path: str) -> dict:
    out = {}
    with open(path) as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            try:
                out[(r["method"], r["metric"], r["scope"])] = float(r["value"])
            except ValueError:
                pass
    return out


def summarise(prefix: str, ceiling: float | None, split: str) -> dict:
    """The figures of one scored run."""
    c = _report(f"{prefix}.cmp.tsv")
    peaks = "MACS3" if ("MACS3", "bp_auprc", "overall") in c else "peaks"
    row = {
        "auprc_mask": c.get(("seq2exp", "bp_auprc", "overall")),
        "auprc_macs3": c.get((peaks, "bp_auprc", "overall")),
        "auprc_dnase": c.get(("DNase", "bp_auprc", "overall")),
        "auprc_abc": c.get(("ABC activity", "bp_auprc", "overall")),
        "coverage_mask": c.get(("seq2exp", "coverage", "overall")),
        "coverage_macs3": c.get((peaks, "coverage", "overall")),
        "recall_mask": c.get(("seq2exp", "interval_recall", "overall")),
        "decoys_mask": c.get(("seq2exp", "decoy_fpr", "overall")),
        "decoys_macs3": c.get((peaks, "decoy_fpr", "overall")),
        "links_mask": c.get(("seq2exp links", "auprc", "all")),
        "links_abc_hic": c.get(("ABC-HiC", "auprc", "all")),
        "links_abc_tracks": c.get(("ABC-tracks", "auprc", "all")),
        "links_distance": c.get(("distance", "auprc", "all")),
    }
    for key, name in (("links_candidates", "clinkscmp"), ("links_mask_abc", "mlinkscmp")):
        if os.path.exists(f"{prefix}.{name}.tsv"):
            row[key] = _report(f"{prefix}.{name}.tsv").get(("seq2exp links", "auprc", "all"))
    with open(f"{prefix}.eval.tsv") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if r.get("split") == split:
                row["pearson"] = float(r["pearson"])
    if row.get("pearson") is not None and ceiling:
        row["pearson_ceiling"] = row["pearson"] / ceiling
    for k, (a, b) in {"mask_over_macs3": ("auprc_mask", "auprc_macs3"),
                      "mask_over_abc": ("auprc_mask", "auprc_abc")}.items():
        if row.get(a) is not None and row.get(b):
            row[k] = row[a] / row[b]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("prefixes", nargs="+")
    ap.add_argument("--truth", help="truth.json of the simulated data (noise ceiling)")
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    ceiling = None
    if args.truth:
        nc = json.load(open(args.truth))["noise_ceiling"]
        ceiling = nc["pearson_log10_test"] if args.split == "test" else None
    rows = [summarise(p, ceiling, args.split) for p in args.prefixes]
    keys = [k for k, _ in COLUMNS if any(r.get(k) is not None for r in rows)]
    print("run\t" + "\t".join(dict(COLUMNS)[k] for k in keys))
    for p, r in zip(args.prefixes, rows):
        print(p + "\t" + "\t".join("" if r.get(k) is None else f"{r[k]:.4f}" for k in keys))
    if len(rows) > 1:
        cells = []
        for k in keys:
            v = [r[k] for r in rows if r.get(k) is not None and math.isfinite(r[k])]
            cells.append(f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}"
                         if len(v) > 1 else "")
        print("mean ± sd\t" + "\t".join(cells))


if __name__ == "__main__":
    main()
