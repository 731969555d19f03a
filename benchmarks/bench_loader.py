"""Loader benchmark: windows per second from a seq2exp store versus a reference-style loader.

Both loaders run side by side in one process over the same genes:

- ``store``: :meth:`seq2exp_cli.store.Store.window` -- sequence codes, H3K27ac, DNase and the
  per-bp contact channel (memory-mapped arrays), 200 kb per window.
- ``store + one-hot``: the same, plus the (L, 4) float32 one-hot of the sequence.
- ``reference-style``: what the authors' loader does per window -- pyBigWig ``values`` for
  each track, pyfaidx for the sequence, one-hot encoded character by character in Python,
  the contact profile expanded per bp.

Usage::

    python benchmarks/bench_loader.py [--data DIR] [--store STORE] [--n 2000] [--n-ref 20]

Without ``--data`` a ``ci``-preset cell type is simulated into a temporary folder and
preprocessed first.  Prints a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def reference_window(fa, bws, store, i, width):
    """One window the way the reference code builds it (per-character one-hot)."""
    g = store.genes.iloc[i]
    chrom, tss = g["chrom"], int(g["tss"])
    start, end = tss - width // 2, tss + width // 2
    size = store.chrom_sizes[chrom]
    lo, hi = max(start, 0), min(end, size)
    seq = "N" * (lo - start) + str(fa[chrom][lo:hi]) + "N" * (end - hi)
    onehot = np.zeros((width, 4), dtype=np.float32)
    lut = {"A": 0, "C": 1, "G": 2, "T": 3}
    for j, ch in enumerate(seq):
        k = lut.get(ch.upper())
        if k is not None:
            onehot[j, k] = 1.0
    sig = np.zeros((width, len(bws) + 1), dtype=np.float32)
    for c, bw in enumerate(bws):
        vals = np.array(bw.values(chrom, lo, hi))
        sig[lo - start: hi - start, c] = np.nan_to_num(vals)
    prof = np.log10(1 + store.contact_bins(i))
    bin0 = start // store.resolution
    for j in range(lo, hi):
        sig[j - start, -1] = prof[j // store.resolution - bin0]
    return onehot, sig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="simulated data folder (seq2exp simulate)")
    ap.add_argument("--store", type=Path, help="store preprocessed from --data")
    ap.add_argument("--n", type=int, default=2000, help="windows for the store loaders")
    ap.add_argument("--n-ref", type=int, default=20, help="windows for the reference-style loader")
    args = ap.parse_args()

    import pyBigWig
    import pyfaidx

    from seq2exp_cli.io.fasta import onehot
    from seq2exp_cli.simulate import simulate
    from seq2exp_cli.store import Store, preprocess

    tmp = tempfile.TemporaryDirectory()
    data = args.data
    if data is None:
        data = Path(tmp.name) / "sim"
        simulate(data, preset="ci", seed=0)
    store_path = args.store
    if store_path is None:
        store_path = Path(tmp.name) / "store"
        preprocess(store_path, fasta=data / "genome.fa", genes=data / "genes.tsv",
                   tracks={"h3k27ac": data / "h3k27ac.bw", "dnase": data / "dnase.bw"},
                   hic=data / "contacts.hic", targets=data / "cage.tsv", show_progress=False)
    store = Store(store_path)
    width = store.window_bp
    rng = np.random.default_rng(0)
    order = rng.integers(0, len(store), size=args.n)
    for i in order[:50]:  # warm the page cache the same way for every loader
        store.window(int(i))

    t0 = time.perf_counter()
    for i in order:
        store.window(int(i))
    t_store = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i in order:
        w = store.window(int(i))
        onehot(w.seq)
    t_store_oh = time.perf_counter() - t0

    fa = pyfaidx.Fasta(str(data / "genome.fa"))
    bws = [pyBigWig.open(str(data / f"{t}.bw")) for t in ("h3k27ac", "dnase")]
    t0 = time.perf_counter()
    for i in order[: args.n_ref]:
        reference_window(fa, bws, store, int(i), width)
    t_ref = time.perf_counter() - t0

    rate = {"store": args.n / t_store, "store + one-hot": args.n / t_store_oh,
            "reference-style": args.n_ref / t_ref}
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    print(f"Windows of {width:,} bp (sequence + {len(store.track_names)} tracks + contact); "
          f"{os.cpu_count()} CPUs, OMP_NUM_THREADS={threads}; store {store_path}\n")
    print("| loader | windows | seconds | windows/s | speed-up vs reference |")
    print("|---|---:|---:|---:|---:|")
    for name, n, t in (("store", args.n, t_store), ("store + one-hot", args.n, t_store_oh),
                       ("reference-style", args.n_ref, t_ref)):
        print(f"| {name} | {n} | {t:.2f} | {rate[name]:.1f} | {rate[name] / rate['reference-style']:.0f}x |")


if __name__ == "__main__":
    main()
