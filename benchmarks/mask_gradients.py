"""Where a trained Seq2Exp's mask gets its learning signal: task loss vs the information term.

For training windows of a store, this measures per token

* ``dL_task / dm``: the gradient of the SmoothL1 expression loss with respect to the mask
  value the model uses (deterministic here: the Beta mean, eval mode);
* ``dL_KL / dmu``: the gradient of ``kl_weight * mean KL`` with respect to the Beta mean
  ``mu``.  For the paper's Beta KL at fixed concentration ``alpha + beta``
  (``= (alpha + beta) * (dL/dalpha - dL/dbeta)``); for the Bernoulli gate (``sparsity=
  bernoulli``) the KL depends on ``mu`` alone;

and the generator's own part of the Beta before the signals are combined in: the spread
(sd over tokens) of ``alpha_x, beta_x`` (paper forms) or of the sequence vote ``mu_x``
(vote form), and the mean mask at each kind of token.  Both gradients are summarised over
the tokens of planted enhancers, of decoys (open sites that regulate nothing) and of the
background, promoters left out.  A generator can only learn to keep enhancers and drop
decoys when the task gradient there is not swamped by the information term, and points
*down* at decoys (positive ``dL/dm``: less mask lowers the loss) and *up* at enhancers.

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


def kl_gradient(net, cfg, h, binned) -> tuple[np.ndarray, np.ndarray]:
    """``d (kl_weight * mean KL) / d mu`` per token (B, T) and the generator's own part
    (rows of ``(alpha_x, beta_x)`` or of ``mu_x``) for the spread."""
    from seq2exp_cli.models.beta_mask import bernoulli_kl, beta_kl

    with torch.no_grad():
        alpha, beta = net._beta_params(h, binned)
        own = (net.mask_head.mean(h).reshape(-1, 1) if cfg.beta_product in ("vote", "gate")
               else torch.stack(net.mask_head(h), -1).reshape(-1, 2))
    if cfg.sparsity == "bernoulli":
        mu = (alpha / (alpha + beta)).detach().requires_grad_(True)
        kl = cfg.kl_weight * bernoulli_kl(mu, cfg.prior_fraction).mean()
        (g_mu,) = torch.autograd.grad(kl, [mu])
        return g_mu.numpy(), own.numpy()
    alpha = alpha.detach().requires_grad_(True)
    beta = beta.detach().requires_grad_(True)
    kl = cfg.kl_weight * beta_kl(alpha, beta, net.prior_alpha, net.prior_beta).mean()
    ga, gb = torch.autograd.grad(kl, [alpha, beta])
    return ((alpha + beta) * (ga - gb)).detach().numpy(), own.numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("store")
    ap.add_argument("truth")
    ap.add_argument("--genes", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from seq2exp_cli.io.bed import read_bed
    from seq2exp_cli.evaluation.intervals import average_precision
    from seq2exp_cli.models.beta_mask import signal_vote
    from seq2exp_cli.models.beta_mask import promoter_token_span
    from seq2exp_cli.models.checkpoint import load_model
    from seq2exp_cli.store import Store
    from seq2exp_cli.inference.forward import check_compatible, load_batch, to_tensors

    net, cfg, _ = load_model(args.model, device="cpu")
    if cfg.mask_source != "learned":
        raise SystemExit("this model has no learned mask")
    net.eval()
    store = Store(args.store)
    sig_idx = check_compatible(store, cfg, args.model)
    truth = read_bed(args.truth)
    pool = store.indices("train")
    genes = np.random.default_rng(args.seed).choice(pool, min(args.genes, len(pool)), False)
    task_g = {k: [] for k in KINDS}
    kl_g = {k: [] for k in KINDS}
    mask_v = {k: [] for k in KINDS}
    own_parts = []
    gate_v = {"enhancer": [], "decoy": []}
    labels, parts = [], {k: [] for k in ("mask", "generator mu_x", "generator alpha_x",
                                         "signal vote mu_s", "mu_x * mu_s",
                                         "DNase (token mean)")}
    for lo in range(0, len(genes), 4):
        idx = genes[lo: lo + 4]
        b = to_tensors(load_batch(store, idx, net), torch.device("cpu"), sig_idx)
        out = net(b["seq"], b["signals"], b["features"] if cfg.n_gene_features else None,
                  b["blacklist"])
        out.mask.retain_grad()
        F.smooth_l1_loss(out.pred, b["target"].to(out.pred.dtype)).backward()
        with torch.no_grad():  # the generator once more, for its own and the combined Betas
            h, binned = net.generator_states(b["seq"], b["signals"])
        g_mu, own = kl_gradient(net, cfg, h, binned)
        own_parts.append(own)
        own_bt = own[:, 0].reshape(len(idx), -1)
        mu_s = (signal_vote(binned.float(), net._vote_weights).numpy()
                if cfg.beta_product == "vote" else
                net.gate(binned.float()).numpy() if cfg.beta_product == "gate" else None)
        dn = binned[..., list(cfg.signal_names).index("dnase")].numpy() \
            if "dnase" in cfg.signal_names else None
        g_task = out.mask.grad.numpy()
        m = out.mask_mean.detach().numpy()
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
                mask_v[kind].append(m[j, sel])
            labels.append(lab[keep])
            parts["mask"].append(m[j, keep])
            parts["generator mu_x" if own.shape[1] == 1 else "generator alpha_x"].append(
                own_bt[j, keep])
            if mu_s is not None:
                parts["signal vote mu_s"].append(mu_s[j, keep])
                parts["mu_x * mu_s"].append(own_bt[j, keep] * mu_s[j, keep])
                for code, kind in ((1, "enhancer"), (2, "decoy")):
                    gate_v[kind].append(mu_s[j, keep & (lab == code)])
            if dn is not None:
                parts["DNase (token mean)"].append(dn[j, keep])
    own = np.concatenate(own_parts)
    if own.shape[1] == 1:
        print(f"# generator vote mu_x: mean {own[:, 0].mean():.4g} sd {own[:, 0].std():.3g} "
              "(over tokens)")
    else:
        print(f"# generator alpha_x: mean {own[:, 0].mean():.4g} sd {own[:, 0].std():.3g}; "
              f"beta_x: mean {own[:, 1].mean():.4g} sd {own[:, 1].std():.3g} (over tokens)")
    print("tokens\tn\tmean_mask\tmean_dLtask_dm\tmean_abs_dLtask_dm\tmean_dLkl_dmu"
          "\tratio_abs_task_to_kl")
    for kind in KINDS:
        t, k = np.concatenate(task_g[kind]), np.concatenate(kl_g[kind])
        mv = np.concatenate(mask_v[kind])
        print(f"{kind}\t{len(t)}\t{mv.mean():.3g}\t{t.mean():.3g}\t{np.abs(t).mean():.3g}\t"
              f"{k.mean():.3g}\t{np.abs(t).mean() / max(np.abs(k).mean(), 1e-30):.3g}")

    lab = np.concatenate(labels)
    name = "gate g" if cfg.beta_product == "gate" else "signal vote mu_s"
    for kind, vals in gate_v.items():
        if vals:
            q = np.quantile(np.concatenate(vals), [0.1, 0.5, 0.9])
            print(f"# {name} at {kind} tokens: 10/50/90 % quantiles "
                  f"{q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}")
    print("# token AUPRC (promoters left out): enhancer tokens among all tokens; among "
          "open ones (enhancer vs decoy)")
    print(f"score\tauprc_all\tauprc_enh_vs_decoy\t(base rates {np.mean(lab == 1):.4f}, "
          f"{np.mean(lab[lab > 0] == 1):.3f})")
    for name, vals in parts.items():
        if not vals:
            continue
        v = np.concatenate(vals)
        print(f"{name}\t{average_precision(v, lab == 1):.4f}\t"
              f"{average_precision(v[lab > 0], lab[lab > 0] == 1):.4f}")


if __name__ == "__main__":
    main()
