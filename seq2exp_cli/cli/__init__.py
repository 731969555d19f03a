"""The ``seq2exp`` command: a Typer app with global ``-v``, ``--debug`` and ``--version``.

Each subcommand lives in its own module (``cli/<command>.py``) whose body parses options
and calls the library.  Errors the user can fix (:class:`Seq2ExpError`) are printed as one
line on stderr with exit code 2; ``--debug`` shows the traceback.  The library's messages
(:mod:`logging`, logger ``seq2exp_cli``) go to stderr as ``seq2exp: ...`` lines; ``-v``
adds its debug messages, ``-vv`` those of every package.  Only the command line reads the
environment (``SEQ2EXP_*``, :mod:`.resolve`) and ``seq2exp.toml``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

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


class _StderrHandler(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record is emitted."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _setup_logging(verbose: int) -> None:
    """Send the library's log records to stderr as ``seq2exp: message`` lines."""
    pkg = logging.getLogger("seq2exp_cli")
    if not any(isinstance(h, _StderrHandler) for h in pkg.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("seq2exp: %(message)s"))
        pkg.addHandler(handler)
        pkg.propagate = False
    pkg.setLevel(logging.DEBUG if verbose else logging.INFO)
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"seq2exp {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)] = False,
) -> None:
    """Learn regulatory elements and predict gene expression (Seq2Exp, ICLR 2025)."""
    from ..progress import force_progress

    _STATE["debug"] = debug
    _setup_logging(verbose)
    force_progress(os.environ.get("SEQ2EXP_PROGRESS") == "1")


def _register() -> None:
    """Attach every subcommand (once); each module defines ``main``."""
    if _STATE.get("registered"):
        return
    _STATE["registered"] = True
    from . import inspect as _inspect
    from . import preprocess as _preprocess
    from . import call_elements as _call_elements
    from . import call_links as _call_links
    from . import plot_locus as _plot_locus
    from . import plot_training as _plot_training
    from . import predict as _predict
    from . import simulate as _simulate
    from . import train as _train
    from . import evaluate as _evaluate
    from . import compare_peaks as _compare_peaks
    from . import benchmark as _benchmark
    from . import workflow as _workflow

    app.command("simulate")(_simulate.main)
    app.command("preprocess")(_preprocess.main)
    app.command("inspect")(_inspect.main)
    app.command("train")(_train.main)
    app.command("predict")(_predict.main)
    app.command("call-elements")(_call_elements.main)
    app.command("call-links")(_call_links.main)
    app.command("plot-locus")(_plot_locus.main)
    app.command("plot-training")(_plot_training.main)
    app.command("evaluate")(_evaluate.main)
    app.command("compare-peaks")(_compare_peaks.main)
    # -- more commands registered below --
    app.command("benchmark")(_benchmark.main)
    app.add_typer(_workflow.app, name="workflow")


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
