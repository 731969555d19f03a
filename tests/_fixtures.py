"""Tiny hand-made inputs shared by several test files (not a test module).

Written with pyBigWig and plain text, independently of seq2exp's own writers::

    chr1  50,000 bp   g1 + TSS 25,000   g2 - TSS 3,000 (window runs off the start)
    chr22 30,000 bp   g3 + TSS 28,000 (window runs off the end)
    chrX  25,000 bp   g4 - TSS 12,000 (no target)
    window 20,000 bp, Hi-C resolution 1,000 bp (power-law fallback)
    blacklist chr1:24,000-24,100; no bigWig data on chr1:1,000-2,000
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig

W, RES = 20_000, 1_000
SIZES = {"chr1": 50_000, "chr22": 30_000, "chrX": 25_000}


def make_tiny_inputs(d: Path):
    """Write the inputs into ``d``; return ``(d, sequences, tracks)``."""
    rng = np.random.default_rng(7)
    seqs = {}
    with open(d / "genome.fa", "w") as fh:
        for c, n in SIZES.items():
            s = "".join(rng.choice(list("ACGTacgtN"), n, p=[.2, .2, .2, .2, .04, .04, .04, .04, .04]))
            seqs[c] = s
            fh.write(f">{c}\n")
            for i in range(0, n, 60):
                fh.write(s[i: i + 60] + "\n")
    (d / "genes.tsv").write_text(
        "gene_id\tname\tchrom\ttss\tstrand\n"
        "g1\tONE\tchr1\t25000\t+\ng2\tTWO\tchr1\t3000\t-\n"
        "g3\tTHREE\tchr22\t28000\t+\ng4\tFOUR\tchrX\t12000\t-\n"
    )
    (d / "targets.tsv").write_text("gene_id\tvalue\ng1\t10\ng2\t0\ng3\t5\n")
    (d / "blacklist.bed").write_text("chr1\t24000\t24100\n")
    tracks = {}
    for name in ("h3k27ac", "dnase"):
        vals = {c: np.round(rng.gamma(1.0, 2.0, n), 2).astype(np.float32) for c, n in SIZES.items()}
        # no-data stretch on chr1: reads back as 0
        bw = pyBigWig.open(str(d / f"{name}.bw"), "w")
        bw.addHeader(list(SIZES.items()))
        for c, v in vals.items():
            if c == "chr1":
                bw.addEntries(c, 0, values=v[:1000].tolist(), span=1, step=1)
                bw.addEntries(c, 2000, values=v[2000:].tolist(), span=1, step=1)
                v[1000:2000] = 0
            else:
                bw.addEntries(c, 0, values=v.tolist(), span=1, step=1)
        bw.close()
        tracks[name] = vals
    return d, seqs, tracks


def local_track_task(rng: np.random.Generator, B: int, L: int = 20_000):
    """Toy task of the track-only baselines: two tracks on windows of ``L`` bp (100 bp
    bins); y = log1p(a) - 0.5 log1p(b) where a (track 0) and b (track 1) are peaks within
    2 kb of the TSS; two distractor peaks per track lie 6-9.5 kb away.  Returns per-bp
    signals (B, L, 2) and y (B,) as tensors."""
    import torch

    sig = rng.gamma(2.0, 0.1, size=(B, L // 100, 2)).astype(np.float32)
    heights = rng.uniform(0, 8, size=(B, 2))
    for b in range(B):
        for k in range(2):
            c = L // 200 + rng.integers(-20, 17)
            sig[b, c:c + 4, k] += heights[b, k]
            for _ in range(2):
                d = rng.integers(60, 95) * rng.choice([-1, 1])
                sig[b, L // 200 + d - 2:L // 200 + d + 2, k] += rng.uniform(0, 8)
    y = np.log1p(heights[:, 0]) - 0.5 * np.log1p(heights[:, 1]) + rng.normal(0, 0.05, B)
    return torch.from_numpy(np.repeat(sig, 100, axis=1)), torch.from_numpy(y.astype(np.float32))


def tiny_store(d: Path, out: Path, **options) -> Path:
    """Preprocess the inputs of :func:`make_tiny_inputs` in ``d`` (both tracks, targets) into
    a store at ``out`` (20 kb windows, 1 kb Hi-C bins); ``options`` go to ``preprocess``."""
    from seq2exp_cli.store import preprocess

    return preprocess(out, fasta=d / "genome.fa", genes=d / "genes.tsv",
                      tracks={"h3k27ac": d / "h3k27ac.bw", "dnase": d / "dnase.bw"},
                      targets=d / "targets.tsv", window_bp=W, resolution=RES,
                      show_progress=False, **options)


def simulated_store(d: Path, seed: int, **options) -> Path:
    """Simulate a two-chromosome ``ci`` cell type into ``d/sim`` and preprocess it into
    ``d/store`` (20 kb windows, 5 kb Hi-C bins); ``options`` go to ``preprocess``."""
    from seq2exp_cli.simulate import simulate
    from seq2exp_cli.store import preprocess

    simulate(d / "sim", preset="ci", seed=seed, chrom_sizes={"chr1": 300_000, "chr22": 300_000})
    sim = d / "sim"
    preprocess(d / "store", fasta=sim / "genome.fa", genes=sim / "genes.tsv",
               tracks={"h3k27ac": sim / "h3k27ac.bw", "dnase": sim / "dnase.bw"},
               targets=sim / "cage.tsv", window_bp=20_000, resolution=5000,
               show_progress=False, **options)
    return d


#: a tiny model of the ``cpu`` preset (the gate form with the additive readout)
TINY_GATE = dict(window_bp=W, bin_size=100, d_model=8, n_layers_generator=1,
                 n_layers_predictor=1, head_hidden=8, promoter_bp=1000,
                 signal_names=("h3k27ac", "dnase", "contact"), steps=3, warmup=1,
                 batch_size=2, eval_every=3, checkpoint_every=3, seed=1)


def tiny_gate_run(tmp_path_factory):
    """The tiny inputs, their store, and a 3-step ``cpu``-preset run on them.

    Returns ``(inputs_dir, store, run, tracks)``.
    """
    from seq2exp_cli.models.presets import preset
    from seq2exp_cli.store import preprocess
    from seq2exp_cli.training.loop import train

    d, _, tracks = make_tiny_inputs(tmp_path_factory.mktemp("tin"))
    store = tmp_path_factory.mktemp("st") / "store"
    preprocess(store, fasta=d / "genome.fa", genes=d / "genes.tsv",
               tracks={"h3k27ac": d / "h3k27ac.bw", "dnase": d / "dnase.bw"},
               targets=d / "targets.tsv", blacklist=d / "blacklist.bed", window_bp=W,
               resolution=RES, show_progress=False)
    m, t = preset("cpu", **TINY_GATE)
    run = train(store, tmp_path_factory.mktemp("r") / "run", m, t, device="cpu",
                show_progress=False)
    return d, store, run, tracks
