"""Benchmark the CPU selective scan against mambapy's parallel scan and the memory floor.

Run ``python benchmarks/bench_scan.py`` (options: ``--length``, ``--mambapy-lengths``,
``--d-inner``, ``--d-state``, ``--batch``, ``--repeats``, ``--mem-cap-gib``).  Prints a
Markdown table.

Every measurement runs in its own subprocess (``--worker``), so peak memory is that process's
own: peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) after one forward+backward,
minus the RSS before it (inputs allocated, kernels compiled and warmed up at a tiny length).
The subprocess runs under ``RLIMIT_AS`` (``--mem-cap-gib``), so a method that does not fit
fails instead of swapping the machine.

Methods (float32, ``u, delta, z: (B, D, L)``, ``B, C: (B, N, L)``, softplus on delta + bias,
D skip and silu(z) gate in every method):

- ``ours``: :func:`seq2exp_cli.models.scan.selective_scan` (numba backend on CPU).
- ``torch``: the chunked pure-PyTorch backend (the any-device fallback).
- ``mambapy``: ``mambapy.pscan.pscan`` driven as ``mambapy.mamba.MambaBlock.selective_scan``
  does: it materialises ``exp(delta A)`` and ``delta B x`` of shape (B, L, D, N).
- ``floor``: the memory-traffic floor of the forward: one fused elementwise torch op reading
  u, delta and z and writing y (``torch.addcmul(u, delta, z, out=y)``), plus reading B and C
  (``torch.add(B, C, out=...)``): every byte the scan must read or write, touched once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn.functional as F


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _inputs(b, d, n, length, grad):
    g = torch.Generator().manual_seed(0)
    x = {
        "u": torch.randn(b, d, length, generator=g),
        "delta": torch.randn(b, d, length, generator=g) * 0.5 - 1.0,
        "A": -torch.arange(1, n + 1.0).repeat(d, 1),
        "B": torch.randn(b, n, length, generator=g),
        "C": torch.randn(b, n, length, generator=g),
        "D": torch.ones(d),
        "z": torch.randn(b, d, length, generator=g),
        "delta_bias": torch.randn(d, generator=g) * 0.1,
    }
    return {k: v.requires_grad_(grad) for k, v in x.items()}


def _mambapy_scan(u, delta, A, B, C, D, z, delta_bias):
    """mambapy.mamba.MambaBlock's selective_scan (pscan), in its (B, L, D) layout."""
    from mambapy.pscan import pscan

    x = u.transpose(1, 2)  # (B, L, D)
    dt = F.softplus(delta.transpose(1, 2) + delta_bias)
    Bl, Cl = B.transpose(1, 2), C.transpose(1, 2)  # (B, L, N)
    deltaA = torch.exp(dt.unsqueeze(-1) * A)  # (B, L, D, N)
    BX = dt.unsqueeze(-1) * Bl.unsqueeze(2) * x.unsqueeze(-1)  # (B, L, D, N)
    hs = pscan(deltaA, BX)
    y = (hs @ Cl.unsqueeze(-1)).squeeze(3) + D * x
    return (y * F.silu(z.transpose(1, 2))).transpose(1, 2)


def _method(name):
    from seq2exp_cli.models.scan import selective_scan

    if name == "ours":
        return lambda **x: selective_scan(**x, delta_softplus=True, backend="auto")
    if name == "torch":
        return lambda **x: selective_scan(**x, delta_softplus=True, backend="torch")
    if name == "mambapy":
        return lambda **x: _mambapy_scan(**x)
    raise ValueError(name)


def worker(args) -> dict:
    """One method at one length in this process; returns timings (s) and peak RSS delta."""
    cap = int(args.mem_cap_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    b, d, n, length = args.batch, args.d_inner, args.d_state, args.length
    res = {"method": args.worker, "length": length}
    if args.worker == "floor":
        x = _inputs(b, d, n, length, grad=False)
        y = torch.empty_like(x["u"])
        bc = torch.empty_like(x["B"])
        best = float("inf")
        for _ in range(args.repeats + 2):
            t = time.perf_counter()
            torch.addcmul(x["u"], x["delta"], x["z"], out=y)
            torch.add(x["B"], x["C"], out=bc)
            best = min(best, time.perf_counter() - t)
        res["fwd_s"] = best
        res["bytes"] = 4 * (4 * b * d * length + 3 * b * n * length)
        return res
    fn = _method(args.worker)
    warm = _inputs(b, d, n, 256, grad=True)  # compile / warm up at a tiny length
    fn(**warm).sum().backward()
    x = _inputs(b, d, n, length, grad=True)
    base = _rss_bytes()
    fwd, bwd, nograd = [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        y = fn(**x)
        t1 = time.perf_counter()
        y.backward(torch.ones_like(y))
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        del y
        for v in x.values():
            v.grad = None
        if "peak_bytes" not in res:
            res["peak_bytes"] = _rss_bytes() - base
    with torch.no_grad():
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn(**x)
            nograd.append(time.perf_counter() - t0)
    res.update(fwd_s=min(fwd), bwd_s=min(bwd), fwdbwd_s=min(f + g for f, g in zip(fwd, bwd)),
               fwd_nograd_s=min(nograd))
    return res


def run(method, length, args) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", method, "--length", str(length),
           "--d-inner", str(args.d_inner), "--d-state", str(args.d_state),
           "--batch", str(args.batch), "--repeats", str(args.repeats),
           "--mem-cap-gib", str(args.mem_cap_gib)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"method": method, "length": length, "error": tail[:80]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--length", type=int, default=200_000)
    ap.add_argument("--mambapy-lengths", type=str, default="12500,25000",
                    help="comma-separated lengths for mambapy (it holds (B, L, D, N) tensors)")
    ap.add_argument("--torch-lengths", type=str, default="",
                    help="comma-separated lengths for the chunked torch backend ('' = skip)")
    ap.add_argument("--d-inner", type=int, default=256)
    ap.add_argument("--d-state", type=int, default=16)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mem-cap-gib", type=float, default=20.0)
    ap.add_argument("--worker", type=str, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return
    lengths = lambda s: [int(v) for v in s.split(",") if v]  # noqa: E731
    jobs = [("floor", args.length), ("ours", args.length)]
    jobs += [("ours", L) for L in lengths(args.mambapy_lengths) if L != args.length]
    jobs += [("mambapy", L) for L in lengths(args.mambapy_lengths)]
    jobs += [("torch", L) for L in lengths(args.torch_lengths)]
    rows = [run(m, L, args) for m, L in jobs]
    print(f"B={args.batch}, d_inner={args.d_inner}, d_state={args.d_state}, float32, "
          f"torch threads={torch.get_num_threads()}, repeats={args.repeats} (best)\n")
    print("| method | L | fwd (s) | fwd no-grad (s) | fwd+bwd (s) | peak RSS delta (MiB) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['method']} | {r['length']} | failed: {r['error']} | | | |")
        elif r["method"] == "floor":
            gb = r["bytes"] / r["fwd_s"] / 1e9
            print(f"| floor (read u, delta, z, B, C; write y) | {r['length']} | {r['fwd_s']:.3f} "
                  f"| ({gb:.1f} GB/s) | | |")
        else:
            print(f"| {r['method']} | {r['length']} | {r['fwd_s']:.3f} | {r['fwd_nograd_s']:.3f} "
                  f"| {r['fwdbwd_s']:.3f} | {r['peak_bytes'] / 2**20:.0f} |")
    by = {(r["method"], r["length"]): r for r in rows if "error" not in r}
    floor, ours = by.get(("floor", args.length)), by.get(("ours", args.length))
    if floor and ours:
        print(f"\nours forward (no grad) / floor at L={args.length}: "
              f"{ours['fwd_nograd_s'] / floor['fwd_s']:.1f}x")
    for L in lengths(args.mambapy_lengths):
        m, o = by.get(("mambapy", L)), by.get(("ours", L))
        if m and o:
            print(f"L={L}: mambapy/ours fwd+bwd time {m['fwdbwd_s'] / o['fwdbwd_s']:.1f}x, "
                  f"peak memory {m['peak_bytes'] / max(o['peak_bytes'], 1):.1f}x")


if __name__ == "__main__":
    main()
