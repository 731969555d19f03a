"""How many threads torch and numba use: the global ``--threads`` option.

The rule (documented in docs/performance.md, "Threads"):

1. ``seq2exp --threads N`` wins: torch's intra-op pool and numba's pool get ``N`` threads
   (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``NUMBA_NUM_THREADS`` are set to ``N`` for
   this process before torch or numba is imported, and ``torch.set_num_threads`` /
   ``numba.set_num_threads`` are called when they already are).
2. Without the option, a count the user exported is honoured: ``OMP_NUM_THREADS``, else
   ``NUMBA_NUM_THREADS``, else ``MKL_NUM_THREADS`` gives the count, and a variable the user
   set is never overwritten (so ``OMP_NUM_THREADS=2 NUMBA_NUM_THREADS=1`` keeps torch at 2
   and numba at 1); the unset ones get the same count.
3. Otherwise :data:`DEFAULT_THREADS` (1), chosen from measurement: on the 2-core machine
   one thread runs ``predict`` and ``train`` about as fast as two, and two processes with
   two numba threads each slow each other down many times over (docs/performance.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["DEFAULT_THREADS", "THREAD_VARS", "resolve_threads", "set_threads"]

#: Threads per process when neither ``--threads`` nor the environment says otherwise.
DEFAULT_THREADS = 1
#: Environment variables read, in order of precedence, and set.
THREAD_VARS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS")


def _positive(value: str | None) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n >= 1 else None


def resolve_threads(requested: int | None, environ: Mapping[str, str] | None = None) -> int:
    """Return the thread count the rule of this module gives.

    Parameters
    ----------
    requested : int, optional
        ``--threads`` (None when not given); must be >= 1.
    environ : mapping, optional
        The environment (default ``os.environ``); invalid values are ignored.
    """
    if requested is not None:
        if int(requested) < 1:
            raise ValueError(f"--threads {requested}: must be 1 or more")
        return int(requested)
    env = os.environ if environ is None else environ
    for var in THREAD_VARS:
        n = _positive(env.get(var))
        if n is not None:
            return n
    return DEFAULT_THREADS


def set_threads(requested: int | None = None) -> int:
    """Apply the rule to this process; return the thread count.

    Sets the variables of :data:`THREAD_VARS` (all of them when ``requested`` is given,
    only the unset ones otherwise), then resizes torch's and numba's pools if those are
    already imported (numba never above the pool it was started with).
    """
    n = resolve_threads(requested)
    launched = _numba_threads_launched()
    for var in THREAD_VARS:
        if var == "NUMBA_NUM_THREADS" and launched:
            # numba re-reads this variable at every compilation and refuses a value other
            # than its running pool's: resize the pool below instead
            continue
        if requested is not None or _positive(os.environ.get(var)) is None:
            os.environ[var] = str(n)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(_positive(os.environ["OMP_NUM_THREADS"]) or n)
    if "numba" in sys.modules:
        import numba

        want = n if launched and requested is not None else (
            _positive(os.environ.get("NUMBA_NUM_THREADS")) or n)
        numba.set_num_threads(min(want, numba.config.NUMBA_NUM_THREADS))
    return n


def _numba_threads_launched() -> bool:
    """Tell whether numba's thread pool is already running in this process."""
    from .._pools import numba_pool_started

    return numba_pool_started()
