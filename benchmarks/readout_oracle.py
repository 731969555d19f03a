"""Where a trained model loses the enhancer drive: its readout with its own mask, with the
planted enhancers as the mask, and with no mask.

For each gene of a split, the additive readout's sum ``S = sum_t m_t c_t a_t`` (learned
activity ``a_t`` and Hi-C contact ``c_t`` of the model, the promoter span left out) is
computed three ways: with the model's mask (its Beta mean, as at inference), with the
planted enhancers of the simulation (1 on every token they touch, 0 elsewhere) and with 1
everywhere.  Each ``ln(b + S)`` is correlated with the simulator's own drive
``log10(baseline + sum_e a_e c(e, g))`` (``truth_genes.tsv``), and the expression Pearson is
given with the model's readout term swapped for the planted mask's (the rest of the
prediction unchanged).  Last, the headroom of each part of the prediction: the Pearson when
the readout term is replaced by its least-squares line on the simulator's drive, when the
rest (predictor, head, feature term) is replaced by its least-squares fit on the
simulator's log10 promoter strength and stability score, and both.  A simulation only: it
needs the planted truth.

    python benchmarks/readout_oracle.py RUN STORE SIM [--split test] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="trained run (its best model) or checkpoint folder")
    ap.add_argument("store", help="the store the run was trained on")
    ap.add_argument("sim", help="the simulation folder (truth_elements.bed, truth_genes.tsv, truth.json)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)

    from seq2exp_cli.inference.forward import check_compatible, load_batch, run_model, to_tensors
    from seq2exp_cli.models.beta_mask import promoter_token_span
    from seq2exp_cli.models.checkpoint import find_model_dir, load_model
    from seq2exp_cli.store import Store
    from seq2exp_cli.training.fixed_mask import PeakTopK

    store = Store(a.store)
    model, cfg, _ = load_model(find_model_dir(a.run), device="cpu")
    if model.readout is None:
        print("readout_oracle: the model has no additive readout", file=sys.stderr)
        return 2
    sim = Path(a.sim)
    el = pd.read_csv(sim / "truth_elements.bed", sep="\t", comment="#", header=None,
                     usecols=[0, 1, 2, 3], names=["chrom", "start", "end", "kind"])
    planted = PeakTopK(el[el.kind == "enhancer"].assign(score=1.0), 1.0)
    truth = pd.read_csv(sim / "truth_genes.tsv", sep="\t").set_index("gene_id")
    baseline = float(json.loads((sim / "truth.json").read_text())["config"]["baseline"])
    idx = store.indices(a.split)
    sig = check_compatible(store, cfg, str(store.path))
    rows = []
    model.eval()
    with torch.no_grad():
        for s in range(0, len(idx), a.batch_size):
            chunk = idx[s: s + a.batch_size]
            batch = load_batch(store, chunk, model)  # read once: the model and the masks use it
            b = to_tensors(batch, torch.device("cpu"), sig)
            out = run_model(model, batch, b)
            binned = model._embed(b["seq"], b["signals"])[2]
            span = promoter_token_span(b["seq"].shape[1], cfg.bin_size, cfg.promoter_bp)
            om = planted(batch, b, cfg.bin_size)
            s_planted = model.readout(om, binned, span).contribution.sum(1)
            s_all = model.readout(torch.ones_like(om), binned, span).contribution.sum(1)
            for j, g in enumerate(chunk):
                rows.append({"gene_id": store.genes.gene_id.iloc[int(g)],
                             "target": float(b["target"][j]), "pred": float(out.pred[j]),
                             "term": float(out.readout.term[j]),
                             "S_model": float(out.readout.contribution[j].sum()),
                             "S_planted": float(s_planted[j]), "S_none": float(s_all[j])})
    d = pd.DataFrame(rows).set_index("gene_id").join(
        truth[["enhancer_sum", "promoter_strength", "stability"]])
    bb, w = float(model.readout.log_b.detach().exp()), float(model.readout.weight.detach())
    drive = np.log10(baseline + d.enhancer_sum.to_numpy())
    r = lambda x, y: float(np.corrcoef(x, y)[0, 1])  # noqa: E731
    swapped = d.pred - d.term + w * np.log1p(d.S_planted / bb)
    print(f"{a.run}: {a.split} split, {len(d)} genes")
    print("mask\tcorr ln(b + S) with the simulator's drive")
    for k, name in (("S_model", "the model's"), ("S_planted", "planted enhancers"), ("S_none", "none (1 everywhere)")):
        print(f"{name}\t{r(np.log(bb + d[k]), drive):.3f}")
    print(f"expression Pearson: the model {r(d.pred, d.target):.3f}; its readout with the "
          f"planted mask {r(swapped, d.target):.3f}")

    def line(x, y):  # least-squares fit of y on the columns of x (with an intercept)
        X = np.c_[np.ones(len(y)), x]
        return X @ np.linalg.lstsq(X, y, rcond=None)[0]

    rest = (d.pred - d.term).to_numpy()
    term_ideal = line(drive, d.term.to_numpy())
    rest_ideal = line(np.c_[np.log10(d.promoter_strength), d.stability], rest)
    print(f"headroom: readout on the drive {r(rest + term_ideal, d.target):.3f}; rest on "
          f"promoter and stability {r(rest_ideal + d.term, d.target):.3f}; both "
          f"{r(rest_ideal + term_ideal, d.target):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
