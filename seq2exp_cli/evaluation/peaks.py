"""MACS3 peak calling on a DNase bigWig for the comparison (readers are in :mod:`seq2exp_cli.io.bed`).

MACS3 (Zhang et al. 2008, https://github.com/macs3-project/MACS) calls peaks on a
bedGraph with ``macs3 bdgpeakcall``: runs of bases whose signal is >= a cutoff, joined
across gaps <= ``max_gap`` bp and kept when >= ``min_length`` bp long.  Here the DNase
bigWig is written as bedGraph over the chromosomes of the evaluated gene windows and the
cutoff defaults to the ``quantile`` (0.9) of the per-bp DNase signal over the universe
(bp with no data count as 0), so that roughly the top 10 % of universe bp pass it before
joining and length filtering (the paper's MACS3 peaks cover 13.6 % of the windows).
``min_length`` 150 bp (a nucleosome-free DNase site) and ``max_gap`` 50 bp are chosen for
a bp-resolution DNase signal rather than MACS3's pileup defaults (200, 30).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import MissingDependencyError, Seq2ExpError
from ..io.bed import read_peaks
from .intervals import IntervalSet, ScoredIntervals

log = logging.getLogger(__name__)

#: Chunk of bp read from a bigWig at once (bounded memory on whole chromosomes).
CHUNK_BP = 1 << 23


def find_macs3() -> str:
    """Path of the ``macs3`` executable.

    Next to the running Python (a virtual environment) first, then ``PATH``.
    """
    here = Path(sys.executable).parent / "macs3"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    found = shutil.which("macs3")
    if found:
        return found
    raise MissingDependencyError(
        "macs3 not found (next to this Python or on PATH); install it with "
        "`pip install macs3`, or pass called peaks with --peaks FILE")


def signal_runs(track, regions: IntervalSet, chunk: int = CHUNK_BP) -> ScoredIntervals:
    """Return the runs of equal, non-zero bigWig values inside ``regions``, read in chunks.

    Parameters
    ----------
    track:
        A :class:`~seq2exp_cli.io.bigwig.BigWigTrack` (``fetch(chrom, start, end)``).
    regions:
        Interval set (bp) to read.

    Returns
    -------
    dict chrom -> (starts, ends, values)
        Run bounds (bp) and values; bases outside the runs are 0.
    """
    def runs(chrom, lo, hi):
        v = np.asarray(track.fetch(chrom, lo, hi), dtype=np.float64)
        change = np.flatnonzero(v[1:] != v[:-1]) + 1
        st = np.concatenate([[0], change])
        return st + lo, np.concatenate([change, [v.size]]) + lo, v[st]

    return _chunked_runs(regions, chunk, runs)


def abc_activity_runs(dnase, h3k27ac, regions: IntervalSet, half: int = 250, step: int = 10,
                      chunk: int = CHUNK_BP) -> ScoredIntervals:
    """ABC's activity ``sqrt(DNase x H3K27ac)`` as a per-bp score inside ``regions``.

    ABC scores a candidate element by the geometric mean of the two marks' mean signal over
    the element (500 bp around a DNase summit).  Here every bp gets the activity of the
    500-bp element centred on it (``[x - half, x + half)``), evaluated every ``step`` bp and
    held over the ``step`` bp around it: the ranking ABC's activity gives each position.

    Returns
    -------
    dict chrom -> (starts, ends, values), as :func:`signal_runs` (runs of 0 left out).
    """
    def runs(chrom, lo, hi):
        centre = np.arange(lo, hi, step) - lo + step // 2  # offset in [lo, hi)
        c = np.minimum(centre, hi - lo - 1) + half  # index into the fetched values
        means = []
        for trk in (dnase, h3k27ac):
            v = np.asarray(trk.fetch(chrom, lo - half, hi + half), dtype=np.float64)
            cs = np.concatenate([[0.0], np.cumsum(v)])
            means.append((cs[c + half] - cs[c - half]) / (2 * half))
        st = np.arange(lo, hi, step)
        return st, np.minimum(st + step, hi), np.sqrt(np.maximum(means[0], 0)
                                                      * np.maximum(means[1], 0))

    return _chunked_runs(regions, chunk, runs)


def _chunked_runs(regions: IntervalSet, chunk: int, runs) -> ScoredIntervals:
    """Gather the non-zero runs of ``runs(chrom, lo, hi)`` over ``regions``.

    ``runs`` returns ``(starts, ends, values)`` for one chunk of at most ``chunk`` bp.
    """
    out: ScoredIntervals = {}
    for chrom, iv in regions.items():
        ss, es, vs = [], [], []
        for a, b in iv:
            for lo in range(int(a), int(b), chunk):
                st, en, val = runs(chrom, lo, min(lo + chunk, int(b)))
                k = val != 0
                ss.append(st[k])
                es.append(en[k])
                vs.append(val[k])
        if ss:
            out[chrom] = (np.concatenate(ss).astype(np.int64),
                          np.concatenate(es).astype(np.int64), np.concatenate(vs))
    return out


def weighted_quantile(values, weights, q: float) -> float:
    """Return the ``q`` quantile of ``values`` repeated ``weights`` times (lower value)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if v.size == 0 or w.sum() <= 0:
        return 0.0
    order = np.argsort(v, kind="mergesort")
    cw = np.cumsum(w[order])
    k = int(np.searchsorted(cw, q * cw[-1], side="left"))
    return float(v[order][min(k, v.size - 1)])


def universe_quantile(runs: ScoredIntervals, universe_bp: int, q: float) -> float:
    """Quantile ``q`` of per-bp values over a universe of ``universe_bp`` bp, given its non-zero runs (the remaining bp are 0)."""
    vals = [np.zeros(1)]
    wts = [np.zeros(1)]
    for s, e, v in runs.values():
        vals.append(v)
        wts.append((e - s).astype(np.float64))
    v, w = np.concatenate(vals), np.concatenate(wts)
    w[0] = max(universe_bp - w.sum(), 0.0)
    return weighted_quantile(v, w, q)


def default_cutoff(runs: ScoredIntervals, universe_bp: int, q: float) -> tuple[float, str]:
    """MACS3 cutoff: the ``q`` quantile of per-bp signal over the universe.

    For a sparse track (0 on more than a fraction ``q`` of the bp) the median of its
    non-zero bp.

    Returns
    -------
    (cutoff, rule)
        The value and a phrase saying which rule gave it.
    """
    cut = universe_quantile(runs, universe_bp, q)
    if cut > 0:
        return cut, f"the {q:g} quantile of DNase per bp over the universe"
    vals = [v for _, _, v in runs.values()]
    wts = [(e - s).astype(np.float64) for s, e, _ in runs.values()]
    if not vals:
        return 0.0, "no signal"
    return (weighted_quantile(np.concatenate(vals), np.concatenate(wts), 0.5),
            f"DNase is 0 on > {q:g} of the universe: the median of its non-zero bp")


def write_track_bedgraph(track, chroms: Mapping[str, int], path: str | os.PathLike,
                         chunk: int = CHUNK_BP) -> None:
    """Write whole chromosomes of a bigWig as bedGraph (zero runs left out), in chunks."""
    from ..io.bigwig import write_bedgraph

    with open(path, "w") as fh:
        for chrom, size in chroms.items():
            for lo in range(0, int(size), chunk):
                hi = min(lo + chunk, int(size))
                write_bedgraph(fh, chrom, track.fetch(chrom, lo, hi), offset=lo)


def macs3_command(bedgraph: str, cutoff: float, min_length: int, max_gap: int,
                  outdir: str, name: str, exe: str | None = None) -> list[str]:
    """Return the ``macs3 bdgpeakcall`` command line (a list of arguments)."""
    return [exe or find_macs3(), "bdgpeakcall", "-i", str(bedgraph), "-c", f"{cutoff:.6g}",
            "-l", str(int(min_length)), "-g", str(int(max_gap)), "--no-trackline",
            "--outdir", str(outdir), "-o", name]


def call_peaks_macs3(
    dnase, universe: IntervalSet, universe_bp: int, chrom_sizes: Mapping[str, int],
    out: str | os.PathLike | None = None, cutoff: float | None = None, quantile: float = 0.9,
    min_length: int = 150, max_gap: int = 50,
) -> tuple[pd.DataFrame, float, str]:
    """Call peaks on a DNase bigWig with ``macs3 bdgpeakcall``.

    Parameters
    ----------
    dnase:
        A :class:`~seq2exp_cli.io.bigwig.BigWigTrack`.
    universe, universe_bp:
        The evaluated bases (for the default cutoff) and their number.
    chrom_sizes:
        Sizes (bp) of the chromosomes to write as bedGraph (those of the universe).
    out:
        Where to keep the narrowPeak (atomically); default: a temporary file only.
    cutoff:
        Signal cutoff; default: the ``quantile`` of the per-bp DNase over the universe.
    min_length, max_gap:
        ``-l`` and ``-g`` of bdgpeakcall (bp).

    Returns
    -------
    (peaks, cutoff, rule)
        Peaks as from :func:`read_peaks`, the cutoff used and how it was chosen.  The
        exact command is logged.
    """
    exe = find_macs3()
    rule = "given"
    if cutoff is None:
        cutoff, rule = default_cutoff(signal_runs(dnase, universe), universe_bp, quantile)
        if cutoff <= 0:
            raise Seq2ExpError("the DNase track is 0 over the evaluated windows; check "
                               "--dnase or pass --macs3-cutoff VALUE")
    with tempfile.TemporaryDirectory(prefix="seq2exp-macs3-") as tmp:
        bdg = Path(tmp) / "dnase.bdg"
        write_track_bedgraph(dnase, chrom_sizes, bdg)
        cmd = macs3_command(str(bdg), cutoff, min_length, max_gap, tmp, "peaks.narrowPeak", exe)
        log.info("running: %s", shlex.join(cmd))
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
            raise Seq2ExpError(f"macs3 bdgpeakcall failed (exit {res.returncode}): "
                               + " | ".join(tail))
        produced = Path(tmp) / "peaks.narrowPeak"
        peaks = read_peaks(produced) if produced.stat().st_size else _no_peaks()
        if out is not None:
            from ..io.atomic import atomic_path

            with atomic_path(out) as dst:
                shutil.copyfile(produced, dst)
    return peaks, float(cutoff), rule


def _no_peaks() -> pd.DataFrame:
    return pd.DataFrame({"chrom": pd.Series(dtype=str), "start": pd.Series(dtype=np.int64),
                         "end": pd.Series(dtype=np.int64),
                         "peak_score": pd.Series(dtype=np.float64)})
