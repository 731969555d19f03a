"""Tokens per second of one training step (forward + backward + AdamW) of a preset.

Run ``python benchmarks/bench_train_step.py STORE --preset cpu-hard --steps 12``: batches
of real store windows (``--batch-size``, default the preset's; training genes with a
target), the model in train mode (sampled Beta masks), SmoothL1 + KL loss,
``loss.backward()``, an AdamW step.  The first ``--warmup`` steps (numba compilation) are
not timed.  Prints the median step (wall and CPU seconds), tokens/s (``batch * window /
bin_size`` tokens per step), the embedding forward's share and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("store", type=Path)
    p.add_argument("--preset", default="cpu-hard")
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--label", default="")
    args = p.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import torch

    from seq2exp_cli.models.presets import preset
    from seq2exp_cli.models.seq2exp import Seq2Exp
    from seq2exp_cli.store import Store
    from seq2exp_cli.inference.forward import to_tensors

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    mcfg, tcfg = preset(args.preset)
    bs = args.batch_size or tcfg.batch_size
    net = Seq2Exp(mcfg)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    store = Store(args.store)
    sig = [store.signal_names.index(s) for s in mcfg.signal_names]
    pool = store.indices("train", with_target=True)  # as training draws: genes with a target
    rng = np.random.default_rng(0)
    emb = [0.0]
    orig = net.embed.forward

    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            emb[0] += time.perf_counter() - t0

    net.embed.forward = timed
    walls, cpus, embs = [], [], []
    for step in range(args.warmup + args.steps):
        idx = rng.choice(pool, bs, replace=False)
        b = to_tensors(store.batch(idx, mcfg.window_bp), torch.device("cpu"), sig)
        emb[0] = 0.0
        c0, t0 = time.process_time(), time.perf_counter()
        out = net(b["seq"], b["signals"], None, b["blacklist"])
        loss, _ = net.loss(out, b["target"].float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= args.warmup:
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            embs.append(emb[0])
    tokens = bs * mcfg.window_bp // mcfg.bin_size
    w = statistics.median(walls)
    print(f"| {args.label} | {args.preset} | {bs} | {args.threads} | {w:.3f} | "
          f"{statistics.median(cpus):.3f} | {tokens / w:,.0f} | "
          f"{100 * statistics.median(embs) / w:.0f} % | {os.getloadavg()[0]:.2f} |")
    if not np.isfinite(float(loss.detach())):
        print("warning: the loss is not finite; the figures are not those of a real training")


if __name__ == "__main__":
    main()
