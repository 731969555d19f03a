"""Split one command's genes over worker processes (``predict`` / ``call-elements --workers``).

One process with one thread uses one core; a second thread in the same process gains
little and, beside any other job, loses a lot (docs/performance.md, "Threads").  So the
genes are split over *processes* instead:

- the genes are cut into groups of whole chromosomes of about equal gene counts
  (:func:`seq2exp_cli.shard.shard_chroms`), one group per worker.  Batches never mix
  chromosomes, so every gene meets the same batch neighbours as in one process and gets
  bit-identical outputs;
- each worker runs with one torch and one numba thread and reads through file handles of
  its own (:meth:`WindowSource.reopen`: handles inherited across ``fork`` share their
  offsets);
- workers report the genes they finish through a queue, so the parent draws one progress
  bar; a worker's error ends the run with that error (one line for an input error), and
  a worker that dies (killed, out of memory) is named with its exit code.

Workers are forked on Linux (the commands load the model and open the inputs, then fork:
nothing is imported or loaded twice), unless a pool that does not survive a fork is
running: numba's OpenMP pool (:mod:`seq2exp_cli._pools` makes numba choose a fork-safe
layer) or hictkpy's logger (imported only to write ``.hic``).  Otherwise they are spawned,
and the source and model are pickled to them (a store as its path, raw files as their
paths).
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import traceback
from typing import Any, Callable, Sequence

import numpy as np

from .._pools import fork_safe
from ..errors import Seq2ExpError
from ..progress import progress_bar
from ..shard import shard_chroms

log = logging.getLogger(__name__)

__all__ = ["MIN_GENES_PER_WORKER", "auto_workers", "available_cores", "run_parts",
           "split_by_chromosome"]

#: with fewer genes than this per worker, starting a worker costs more than it saves
MIN_GENES_PER_WORKER = 64
#: the most workers ``auto`` picks (each holds a model and a batch of windows)
MAX_AUTO_WORKERS = 8


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity: a cluster job's allocation)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def auto_workers(n_genes: int, device, threads: int = 1) -> int:
    """Return the worker count of ``--workers auto``.

    One on a GPU (the device is the bottleneck).  On the CPU, one per ``threads`` cores
    (at most :data:`MAX_AUTO_WORKERS`), no more than one per :data:`MIN_GENES_PER_WORKER`
    genes.
    """
    if getattr(device, "type", str(device)) != "cpu":
        return 1
    by_cores = available_cores() // max(1, int(threads))
    by_genes = n_genes // MIN_GENES_PER_WORKER
    return int(max(1, min(MAX_AUTO_WORKERS, by_cores, by_genes)))


def split_by_chromosome(gene_chroms: np.ndarray, indices: np.ndarray, workers: int) -> list[np.ndarray]:
    """Cut ``indices`` into at most ``workers`` parts of whole chromosomes.

    Returns the non-empty parts, each in ``indices`` order (arrays of gene rows).
    """
    idx = np.asarray(indices, dtype=np.int64)
    sel = np.asarray(gene_chroms).astype(str)[idx]
    if workers <= 1 or len(idx) == 0:
        return [idx]
    parts = [idx[np.isin(sel, group)] for group in shard_chroms(list(sel), workers) if group]
    return [p for p in parts if len(p)]


def _fork_is_safe() -> bool:
    # numba's OpenMP pool does not survive a fork (seq2exp_cli._pools), and hictkpy's fork
    # handler can deadlock the child (hictkpy only writes .hic: simulate, convert)
    return sys.platform.startswith("linux") and fork_safe() and "hictkpy" not in sys.modules


def _one_thread() -> None:
    # read by torch and numba when a spawned worker imports them
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    os.environ["NUMBA_NUM_THREADS"] = "1"
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(1)


def _child(i: int, task: Callable, source, model, part: np.ndarray, kwargs: dict, q,
           reopen: bool) -> None:
    try:
        _one_thread()
        src = source.reopen() if reopen else source
        result = task(src, model, part, lambda n: q.put(("advance", i, int(n))), **kwargs)
        q.put(("done", i, result))
    except Seq2ExpError as exc:
        q.put(("error", i, str(exc), True))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        q.put(("error", i, traceback.format_exc(), False))


def run_parts(task: Callable[..., Any], source, model, parts: Sequence[np.ndarray], *,
              label: str, progress: bool = True, per_part: Sequence[dict] = (),
              **kwargs) -> list[Any]:
    """Run ``task(source, model, part, advance, **kwargs)`` on each part in its own process.

    Parameters
    ----------
    task : callable
        A module-level function (spawned workers import it); ``advance(n)`` reports ``n``
        genes done.
    source : WindowSource
        The inputs; each worker reopens them.
    model : TrainedModel
        The model (inherited by forked workers, pickled to spawned ones).
    parts : sequence of arrays
        Gene rows of each worker (:func:`split_by_chromosome`).
    label : str
        The progress bar's label.
    progress : bool
        Show the progress bar.
    per_part : sequence of dict, optional
        Keyword arguments of each part's call, added to ``kwargs`` (e.g. its own output).

    Returns
    -------
    list
        Each part's result, in the order of ``parts``.

    Raises
    ------
    Seq2ExpError
        A worker's input error (its message), or a worker that failed or died.
    """
    import multiprocessing as mp

    fork = _fork_is_safe()
    ctx = mp.get_context("fork" if fork else "spawn")
    q = ctx.Queue()
    extra = list(per_part) or [{}] * len(parts)
    procs = [ctx.Process(target=_child, args=(i, task, source, model, np.asarray(p),
                                              {**kwargs, **extra[i]}, q, fork), daemon=True)
             for i, p in enumerate(parts)]
    log.info("%s %d genes in %d worker processes (%s), one thread each", label,
             sum(len(p) for p in parts), len(parts), "forked" if fork else "spawned")
    results: list[Any] = [None] * len(parts)
    pending = set(range(len(parts)))
    try:
        for p in procs:
            p.start()
        with progress_bar(progress) as bar:
            job = bar.add_task(label, total=int(sum(len(p) for p in parts)), unit="genes")
            while pending:
                try:
                    msg = q.get(timeout=0.5)
                except queue.Empty:
                    for i in sorted(pending):
                        code = procs[i].exitcode
                        if code is not None and code != 0:
                            raise Seq2ExpError(
                                f"worker {i + 1} of {len(procs)} died (exit code {code}; killed "
                                "or out of memory?); rerun with fewer --workers")
                    continue
                kind, i = msg[0], msg[1]
                if kind == "advance":
                    bar.advance(job, msg[2])
                elif kind == "done":
                    results[i] = msg[2]
                    pending.discard(i)
                else:
                    if msg[3]:
                        raise Seq2ExpError(msg[2])
                    raise Seq2ExpError(f"worker {i + 1} of {len(procs)} failed:\n{msg[2]}")
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join()
        q.close()
    return results
