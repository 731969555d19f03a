"""Genes per second of ``seq2exp predict`` and ``call-elements``, by stage, with the load.

Run on the ``train`` simulation (598 genes)::

    seq2exp simulate sim --preset train --seed 1
    seq2exp preprocess store --fasta sim/genome.fa --genes sim/genes.tsv --dnase sim/dnase.bw \\
        --h3k27ac sim/h3k27ac.bw --hic sim/contacts.hic --targets sim/cage.tsv \\
        --blacklist sim/blacklist.bed
    python benchmarks/bench_predict.py --store store --data sim --threads 1 --batch-size 8

Each mode (``--modes``, default all four) runs the library functions the commands call
(:func:`seq2exp_cli.inference.predict.predict_expression`,
:func:`seq2exp_cli.inference.elements.gene_elements`) on a
window source opened as the commands open it: the store (``--store``) or the raw files of
``--data`` (``genome.fa``, ``genes.tsv``, ``dnase.bw``, ``h3k27ac.bw``, ``contacts.hic``
and ``blacklist.bed`` when present).  One gene is run first, untimed, so that numba's
compilation (or cache load) is not counted.

Stages are timed in process, by wrapping (wall clock, inclusive):

- ``read``: the source's ``batch`` / ``window`` (reading and assembling windows);
- ``embed``: the model's ``embed`` (one-hot, motif convolution, max-pool, signal bins);
- ``generator``: the Caduceus call of the mask generator (its scans included);
- ``predictor``: the Caduceus calls outside the generator (its scans included);
- ``scan``: every ``selective_scan`` call (inside generator and predictor);
- ``other``: the rest (Beta maths, compaction, head, tensors, element intervals).

Every figure is printed beside ``os.getloadavg()`` (1-minute load) taken before and after
the mode, the thread count and the batch size: on a shared machine a figure means little
without the load it was measured under.  ``--repeats`` runs each mode several times and
reports the median genes/s; ``--save DIR`` writes each mode's output (predictions TSV,
elements BED) for comparing runs.

``--workers N`` runs each mode as the commands' ``--workers N`` does: the genes split by
whole chromosomes over N one-thread processes (:mod:`seq2exp_cli.inference.workers`); the
stages are then not timed (they run in the workers), and the wall time includes starting
the workers.

``--threads N`` sets ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``NUMBA_NUM_THREADS``
for this process before torch and numba are imported, then ``torch.set_num_threads`` and
``numba.set_num_threads``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

STAGES = ("read", "embed", "generator", "predictor", "scan", "other")
MODES = ("predict-store", "predict-files", "elements-store", "elements-files")


def _set_threads_env(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


class StageTimer:
    """Inclusive wall time per stage; a stage re-entered inside itself is not counted twice."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.stack: list[str] = []

    def wrap(self, obj, attr: str, stage) -> None:
        """Replace ``obj.attr`` by a timed wrapper; ``stage`` a name or ``f(timer) -> name``."""
        orig = getattr(obj, attr)

        def timed(*args, **kwargs):
            name = stage(self) if callable(stage) else stage
            if name in self.stack:
                return orig(*args, **kwargs)
            self.stack.append(name)
            t0 = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t0
                self.calls[name] += 1
                self.stack.pop()

        setattr(obj, attr, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def instrument(net, source, timer: StageTimer) -> None:
    """Wrap the model's and the source's stage entry points (see the module docstring)."""
    import seq2exp_cli.models.mamba as mamba_mod

    timer.wrap(source, "batch", "read")
    timer.wrap(source, "window", "read")
    timer.wrap(net.embed, "forward", "embed")
    timer.wrap(net, "_generate", "generate")  # only to tell generator from predictor
    caduceus = {id(m): m for m in (net.generator, net.predictor) if m is not None}
    for m in caduceus.values():
        timer.wrap(m, "forward",
                   lambda t: "generator" if "generate" in t.stack else "predictor")
    if not getattr(mamba_mod, "_bench_wrapped", False):
        timer.wrap(mamba_mod, "selective_scan", "scan")
        mamba_mod._bench_wrapped = True


def open_sources(args, model):
    from seq2exp_cli.api import open_source

    if args.mode_source == "store":
        return open_source(model, args.store)
    d = args.data
    bl = d / "blacklist.bed"
    return open_source(model, None, genes=d / "genes.tsv", fasta=d / "genome.fa",
                       dnase=d / "dnase.bw", h3k27ac=d / "h3k27ac.bw", hic=d / "contacts.hic",
                       blacklist=bl if bl.exists() else None, resolution=args.resolution,
                       normalization="VC", quiet=True)


def run_mode(mode: str, args, model, timer: StageTimer) -> dict:
    import numpy as np

    from seq2exp_cli.inference.elements import gene_elements, write_elements
    from seq2exp_cli.inference.predict import predict_expression
    from seq2exp_cli.io.tables import write_tsv

    net = model.net
    args.mode_source = mode.split("-")[1]
    t_open = time.perf_counter()
    source = open_sources(args, model)
    t_open = time.perf_counter() - t_open
    n = len(source) if args.genes is None else min(args.genes, len(source))
    idx = np.arange(n)
    if args.workers == 1:
        instrument(net, source, timer)
    elements = mode.startswith("elements")

    def run(indices, workers=1):
        if elements:
            return gene_elements(source, model, indices=indices, batch_size=args.batch_size,
                                 progress=False, workers=workers)
        return predict_expression(source, model, indices=indices, batch_size=args.batch_size,
                                  progress=False, workers=workers)

    run(idx[:1])  # warm-up: numba compile / cache load, first allocations
    results = []
    out = None
    for _ in range(args.repeats):
        timer.reset()
        load0 = os.getloadavg()[0]
        cpu0 = os.times()
        t0 = time.perf_counter()
        out = run(idx, args.workers)
        wall = time.perf_counter() - t0
        cpu1 = os.times()
        load1 = os.getloadavg()[0]
        st = {k: timer.seconds.get(k, 0.0) for k in ("read", "embed", "generator", "predictor",
                                                      "scan")}
        st["other"] = (wall - st["read"] - st["embed"] - st["generator"] - st["predictor"]
                       if args.workers == 1 else 0.0)
        results.append({
            "genes": int(n), "seconds": wall, "genes_per_s": n / wall,
            "load_before": load0, "load_after": load1,
            # the workers' CPU counts once they are joined (children_*)
            "user_s": (cpu1.user - cpu0.user) + (cpu1.children_user - cpu0.children_user),
            "sys_s": (cpu1.system - cpu0.system) + (cpu1.children_system - cpu0.children_system),
            "stages": st,
        })
    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)
        if elements:
            write_elements(out, args.save / f"{mode}.bed")
        else:
            write_tsv(out, args.save / f"{mode}.tsv", float_format="%.9g")
    close = getattr(source, "close", None)
    if close is not None:
        close()
    med = sorted(results, key=lambda r: r["genes_per_s"])[len(results) // 2]
    return {"mode": mode, "workers": args.workers, "open_s": t_open, "median": med,
            "runs": results}


def fmt_row(r: dict) -> str:
    m = r["median"]
    st = m["stages"]
    gps = [x["genes_per_s"] for x in r["runs"]]
    spread = f"{min(gps):.1f}–{max(gps):.1f}" if len(gps) > 1 else ""
    cells = [r["mode"], f"{m['genes_per_s']:.1f}", spread, f"{m['seconds']:.1f}",
             f"{m['load_before']:.2f}/{m['load_after']:.2f}",
             f"{m['user_s']:.1f}/{m['sys_s']:.1f}"]
    if r.get("workers", 1) > 1:
        cells += ["(in workers)"] * len(STAGES)
    else:
        cells += [f"{st[k]:.1f} ({100 * st[k] / m['seconds']:.0f} %)" for k in STAGES]
    return "| " + " | ".join(cells) + " |"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", type=Path, help="dataset store (modes *-store)")
    p.add_argument("--data", type=Path, help="folder of raw files (modes *-files)")
    p.add_argument("--model", type=Path, default=None, help="model (default: bundled weights)")
    p.add_argument("--threads", type=int, default=1, help="torch and numba threads")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--workers", type=int, default=1,
                   help="split the genes over this many one-thread processes")
    p.add_argument("--genes", type=int, default=None, help="first N genes only")
    p.add_argument("--repeats", type=int, default=1, help="runs per mode (median reported)")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated of {MODES}")
    p.add_argument("--resolution", type=int, default=5000, help="Hi-C bin size of the raw files")
    p.add_argument("--save", type=Path, default=None, help="write each mode's output here")
    p.add_argument("--json", type=Path, default=None, help="write all figures as JSON here")
    p.add_argument("--label", default="", help="a label printed with the table")
    args = p.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            p.error(f"unknown mode {m!r}; choose from {MODES}")
        if m.endswith("store") and args.store is None:
            p.error(f"mode {m} needs --store")
        if m.endswith("files") and args.data is None:
            p.error(f"mode {m} needs --data")

    _set_threads_env(args.threads)
    os.environ.setdefault("SEQ2EXP_PROGRESS", "0")
    import numba
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    from seq2exp_cli.api import load_model

    model = load_model(args.model, device="cpu")
    timer = StageTimer()
    rows = []
    for mode in modes:
        rows.append(run_mode(mode, args, model, timer))
        print(f"# {mode}: {rows[-1]['median']['genes_per_s']:.1f} genes/s "
              f"(load {rows[-1]['median']['load_before']:.2f})", file=sys.stderr, flush=True)

    import seq2exp_cli

    where = Path(seq2exp_cli.__file__).parent
    print(f"\n{args.label}  seq2exp {seq2exp_cli.__version__} at {where}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), numba "
          f"{numba.__version__} ({numba.get_num_threads()} threads), batch {args.batch_size}, "
          f"{os.cpu_count()} CPUs, {args.workers} worker process(es), repeats {args.repeats}\n")
    head = ["mode", "genes/s (median)", "range", "seconds", "load 1-min before/after",
            "CPU user/sys s"] + [f"{s} s" for s in STAGES]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(fmt_row(r))
    if args.json is not None:
        args.json.write_text(json.dumps({"label": args.label, "threads": args.threads,
                                         "batch_size": args.batch_size, "rows": rows},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
