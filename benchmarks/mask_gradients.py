"""Where a trained Seq2Exp's mask gets its learning signal: task loss vs the KL term.

For training windows of a store, this measures per token

* ``dL_task / dm``: the gradient of the SmoothL1 expression loss with respect to the mask
  value the predictor sees (the mask is deterministic here: the Beta mean, eval mode);
* ``dL_KL / dmu``: the gradient of ``kl_weight * mean KL`` with respect to the Beta mean
  ``mu = alpha / (alpha + beta)`` at fixed concentration ``alpha + beta``
  (``= (alpha + beta) * (dL/dalpha - dL/dbeta)``);

and the spread (sd over tokens) of the generator's own Beta parameters ``alpha_x, beta_x``
before the signal Beta is combined in; it summarises both gradients over the tokens of planted enhancers, of decoys (open sites that
regulate nothing) and of the background, promoters left out.  A generator can only learn to
keep enhancers and drop decoys when the task gradient at those tokens is not swamped by the
KL term, which pulls every token towards the prior alike.

Usage::

    python benchmarks/mask_gradients.py RUN/best STORE TRUTH_ELEMENTS_BED [--genes 32]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

KINDS = ("enhancer", "decoy", "background")


def token_labels(truth, win, n_tokens: int, bin_size: int) -> np.ndarray:
    """Per token of ``win`` (transcript orientation): 1 enhancer, 2 decoy, 0 other."""
    from seq2exp_cli.io.bed import intervals_to_mask

    lab = np.zeros(win.end - win.start, dtype=np.int8)
    for code, kind in ((1, "enhancer"), (2, "decoy")):
        lab[intervals_to_mask(truth[truth["name"] == kind], win.chrom, win.start, win.end)] = code
    lab = win.to_genome(lab)  # genome <-> transcript orientation is the same reversal
    return lab.reshape(n_tokens, bin_size).max(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("store")
    ap.add_argument("truth")
    ap.add_argument("--genes", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from seq2exp_cli.io.bed import read_bed
    from seq2exp_cli.models.beta_mask import beta_kl, promoter_token_span
    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.store import Store
    from seq2exp_cli.inference.forward import check_compatible, load_batch, to_tensors

    net, cfg, _ = load_model(args.model, device="cpu")
    if cfg.mask_source != "learned":
        raise SystemExit("this model has no learned mask")
    store = Store(args.store)
    sig_idx = check_compatible(store, cfg, args.model)
    truth = read_bed(args.truth)
    pool = store.indices("train")
    genes = np.random.default_rng(args.seed).choice(pool, min(args.genes, len(pool)), False)
    task_g = {k: [] for k in KINDS}
    gen_ab = []
    kl_g = {k: [] for k in KINDS}
    for lo in range(0, len(genes), 4):
        idx = genes[lo : lo + 4]
        b = to_tensors(load_batch(store, idx, net), torch.device("cpu"), sig_idx)
        out = net(b["seq"], b["signals"], b["features"] if cfg.n_gene_features else None,
                  b["blacklist"])
        out.mask.retain_grad()
        F.smooth_l1_loss(out.pred, b["target"].to(out.pred.dtype)).backward()
        with torch.no_grad():  # the generator once more, for its own and the combined Betas
            seq_emb, sig_emb, binned = net._embed(b["seq"], b["signals"])
            h = net.generator(seq_emb + sig_emb if cfg.generator_signals else seq_emb)
            gen_ab.append(torch.stack(net.mask_head(h), -1).reshape(-1, 2).numpy())
            alpha, beta = net._beta_params(h, binned)
        alpha.requires_grad_(True)
        beta.requires_grad_(True)
        kl = cfg.kl_weight * beta_kl(alpha, beta, net.prior_alpha, net.prior_beta).mean()
        ga, gb = torch.autograd.grad(kl, [alpha, beta])
        g_mu = ((alpha + beta) * (ga - gb)).detach().numpy()
        g_task = out.mask.grad.numpy()
        T = g_task.shape[1]
        t0, t1 = promoter_token_span(cfg.window_bp, cfg.bin_size, cfg.promoter_bp)
        for j, i in enumerate(idx):
            win = store.window(int(i), cfg.window_bp)
            lab = token_labels(truth, win, T, cfg.bin_size)
            keep = np.ones(T, dtype=bool)
            keep[t0:t1] = False
            for code, kind in ((1, "enhancer"), (2, "decoy"), (0, "background")):
                sel = keep & (lab == code)
                task_g[kind].append(g_task[j, sel])
                kl_g[kind].append(g_mu[j, sel])
    ab = np.concatenate(gen_ab)
    print(f"# generator alpha_x: mean {ab[:, 0].mean():.4g} sd {ab[:, 0].std():.3g}; "
          f"beta_x: mean {ab[:, 1].mean():.4g} sd {ab[:, 1].std():.3g} (over tokens)")
    print("tokens\tn\tmean_dLtask_dm\tmean_abs_dLtask_dm\tmean_dLkl_dmu\tratio_abs_task_to_kl")
    for kind in KINDS:
        t, k = np.concatenate(task_g[kind]), np.concatenate(kl_g[kind])
        print(f"{kind}\t{len(t)}\t{t.mean():.3g}\t{np.abs(t).mean():.3g}\t{k.mean():.3g}\t"
              f"{np.abs(t).mean() / np.abs(k).mean():.3g}")


if __name__ == "__main__":
    main()
