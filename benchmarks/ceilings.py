"""Noise ceilings of a simulated cell type: what a perfect model could reach, by input.

Expression is simulated as ``mu = scale * p * (baseline + S) * 10**(0.15 h)``
(:mod:`seq2exp_cli.simulate.expression`), observed as negative-binomial counts.  The
ceiling is Pearson r between log10(1 + observed) and log10(1 + mu) over the split's genes
with a target.  A model that reads no gene features cannot see the stability score ``h``
(built from the eight half-life features), so its ceiling replaces ``mu`` by
``mu / 10**(0.15 h)``; the ceilings without the promoter term, or the enhancer term, say
how much of the signal each carries.

    python benchmarks/ceilings.py SIM [--split test]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd


def ceilings(sim: Path, split: str = "test") -> dict[str, float]:
    """Pearson ceilings over the split's genes with a target (``split``: test, train+val, all)."""
    truth = json.loads((sim / "truth.json").read_text())
    g = pd.read_csv(sim / "truth_genes.tsv", sep="\t", dtype={"chrom": str})
    test = g["chrom"].isin(truth["test_chromosomes"])
    keep = g["in_cage"] & (test if split == "test" else ~test if split == "train+val" else True)
    g = g[keep]
    y = np.log10(1 + g["observed_cage"].to_numpy(float))
    mu = g["expected_cage"].to_numpy(float)
    no_h = mu / 10 ** (0.15 * g["stability"].to_numpy(float))

    def r(x):
        return float(np.corrcoef(y, np.log10(1 + x))[0, 1])

    p = g["promoter_strength"].to_numpy(float)
    return {"genes": int(len(g)), "ceiling": r(mu), "without gene features (no h)": r(no_h),
            "without the promoter term": r(mu / p),
            "promoter and h only (no enhancers)": r(p * 10 ** (0.15 * g["stability"].to_numpy(float)))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sim", type=Path, help="a simulated cell type (seq2exp simulate)")
    ap.add_argument("--split", default="test", choices=("test", "train+val", "all"))
    args = ap.parse_args(argv)
    for k, v in ceilings(args.sim, args.split).items():
        print(f"{k}\t{v:.4f}" if isinstance(v, float) else f"{k}\t{v}")


if __name__ == "__main__":
    main()
