"""Thread pools and ``fork``: numba's pool is made fork-safe, and can be asked about.

``predict`` / ``call-elements --workers`` fork one-thread worker processes
(:mod:`seq2exp_cli.inference.workers`).  numba's default threading layer here is GNU OpenMP,
whose pool does not survive a fork, so the modules that compile parallel kernels call
:func:`prefer_forksafe_numba` first: unless the user chose a layer
(``NUMBA_THREADING_LAYER``), numba then takes a fork-safe one (TBB when installed, else
its own work queue).  Its speed against OpenMP was not timed separately
(docs/performance.md).
"""

from __future__ import annotations

import sys

#: numba threading layers whose pool a forked child can use
FORKSAFE_LAYERS = ("tbb", "workqueue")


def numba_pool_started() -> bool:
    """Tell whether numba's thread pool is already running in this process."""
    par = sys.modules.get("numba.np.ufunc.parallel")
    return bool(par is not None and getattr(par, "_is_initialized", False))


def prefer_forksafe_numba() -> None:
    """Ask numba for a fork-safe threading layer, unless the user chose one or it started."""
    import numba

    if numba.config.THREADING_LAYER == "default" and not numba_pool_started():
        numba.config.THREADING_LAYER = "forksafe"


def fork_safe() -> bool:
    """Tell whether a child forked now can run numba's parallel kernels."""
    if not numba_pool_started():
        return True
    import numba

    return numba.threading_layer() in FORKSAFE_LAYERS
