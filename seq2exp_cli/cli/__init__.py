"""The ``seq2exp`` command: a Typer app with global ``-v`` and ``--debug``.

Each subcommand lives in its own module (``cli/<command>.py``) whose body parses options
and calls one library function.  Errors the user can fix (:class:`Seq2ExpError`) are
printed as one line on stderr with exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Optional

import typer

from ..errors import Seq2ExpError

app = typer.Typer(
    name="seq2exp",
    help="Learn regulatory elements and predict gene expression (Seq2Exp).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


@app.callback()
def _global(
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    threads: Annotated[Optional[int], typer.Option(
        "--threads", min=1, show_default=False,
        help="Threads for torch and numba (default: OMP_NUM_THREADS / NUMBA_NUM_THREADS when "
             "set, else 1; see docs/performance.md).")] = None,
) -> None:
    """Learn regulatory elements and predict gene expression (Seq2Exp, ICLR 2025)."""
    from .._threads import set_threads

    set_threads(threads)
    _STATE["debug"] = debug
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def _register() -> None:
    """Attach every subcommand (once); each module defines ``main``."""
    if _STATE.get("registered"):
        return
    _STATE["registered"] = True
    from . import inspect as _inspect
    from . import preprocess as _preprocess
    from . import call_elements as _call_elements
    from . import plot_locus as _plot_locus
    from . import plot_training as _plot_training
    from . import predict as _predict
    from . import simulate as _simulate
    from . import train as _train
    from . import evaluate as _evaluate
    from . import compare_peaks as _compare_peaks
    from . import benchmark as _benchmark

    app.command("simulate")(_simulate.main)
    app.command("preprocess")(_preprocess.main)
    app.command("inspect")(_inspect.main)
    app.command("train")(_train.main)
    app.command("predict")(_predict.main)
    app.command("call-elements")(_call_elements.main)
    app.command("plot-locus")(_plot_locus.main)
    app.command("plot-training")(_plot_training.main)
    app.command("evaluate")(_evaluate.main)
    app.command("compare-peaks")(_compare_peaks.main)
    # -- more commands registered below --
    app.command("benchmark")(_benchmark.main)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``seq2exp`` console script."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit:
        raise
    except Seq2ExpError as exc:
        if debug:
            raise
        print(f"seq2exp: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        # downstream closed the pipe (e.g. `| head`): exit quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        print("seq2exp: interrupted", file=sys.stderr)
        sys.exit(130)

_register()
