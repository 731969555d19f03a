"""The ``paper`` preset on a CPU: one checkpoint serves ``predict`` and ``call-elements``.

Builds the paper-preset Seq2Exp (200 kb at 1 bp per token, 4 + 4 Caduceus layers of width
128, 9 gene features) for a store's signals, saves it as safetensors + config like any
trained model, loads it back through the same path the CLI uses, and times
``predict`` and ``call-elements`` on a few genes.  The weights are the initialisation
(training the paper preset needs a GPU); the timing does not depend on the values.

Usage::

    python benchmarks/bench_paper_cpu.py STORE [--genes 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("--genes", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="where to keep the checkpoint")
    args = ap.parse_args()

    from seq2exp_cli.inference.elements import gene_elements
    from seq2exp_cli.inference.predict import predict_expression
    from seq2exp_cli.models.checkpoint import load_model, save_model
    from seq2exp_cli.models.presets import preset
    from seq2exp_cli.models.seq2exp import Seq2Exp
    from seq2exp_cli.store import Store

    store = Store(args.store)
    cfg, _ = preset("paper", signal_names=tuple(store.signal_names),
                    n_gene_features=len(store.feature_names))
    torch.manual_seed(2)
    out = args.out or Path(tempfile.mkdtemp()) / "paper"
    save_model(out, Seq2Exp(cfg), cfg, {"note": "paper preset, initial weights (benchmark)"})
    model = load_model(out, device="cpu")
    net = model.net
    idx = store.indices("test")[: args.genes]
    n_params = sum(p.numel() for p in net.parameters())
    t0 = time.perf_counter()
    pred = predict_expression(store, model, indices=idx, batch_size=1, progress=False)
    t_pred = time.perf_counter() - t0
    t0 = time.perf_counter()
    elements = gene_elements(store, model, indices=idx, batch_size=1, progress=False)
    t_el = time.perf_counter() - t0
    print(f"paper preset: {n_params:,} parameters, {cfg.n_tokens:,} tokens per gene, "
          f"torch threads {torch.get_num_threads()}, checkpoint {out}\n")
    print("| command | genes | seconds | genes/s |")
    print("|---|---:|---:|---:|")
    print(f"| predict | {len(pred)} | {t_pred:.1f} | {len(pred) / t_pred:.4f} |")
    print(f"| call-elements | {len(idx)} ({len(elements)} elements) | {t_el:.1f} | {len(idx) / t_el:.4f} |")


if __name__ == "__main__":
    main()
