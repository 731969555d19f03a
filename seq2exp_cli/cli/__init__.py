"""The ``seq2exp`` command: a Typer app with global ``-v``, ``--debug`` and ``--version``.

Each subcommand lives in its own module (``cli/<command>.py``) whose body parses options
and calls the library; its ``EXAMPLES`` (shell lines) become the epilog of its ``--help``.
Errors the user can fix (:class:`Seq2ExpError`) are printed as one line on stderr with exit
code 2; ``--debug`` shows the traceback.  The library's messages (:mod:`logging`, logger
``seq2exp_cli``) go to stderr as ``seq2exp: ...`` lines: by default its INFO messages (what a
command read and wrote), with ``-v`` its DEBUG messages too, with ``-vv`` every line carries
its time and module and the DEBUG messages of the other packages are shown as well.  Only the
command line reads the environment (``SEQ2EXP_*``, :mod:`.resolve`) and ``seq2exp.toml``;
``SEQ2EXP_PROGRESS`` chooses how progress is shown (:func:`seq2exp_cli.progress.set_progress`).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from ..errors import Seq2ExpError

#: said in the epilog of every command that reads inputs (the flag > environment > toml rule)
INPUT_RULE = (
    "Each input not given as a flag is taken from the environment (SEQ2EXP_FASTA, "
    "SEQ2EXP_GENES, SEQ2EXP_DNASE, SEQ2EXP_H3K27AC, SEQ2EXP_HIC, SEQ2EXP_TARGETS, "
    "SEQ2EXP_BLACKLIST, SEQ2EXP_MODEL), else from the [inputs] table of a seq2exp.toml in "
    "the working folder or a parent: flag > environment > seq2exp.toml. Each input found "
    "that way is named on stderr."
)
#: metavars by Python type, for options declared without one (no ``<type>`` in help)
_TYPE_METAVARS = {"Path": "PATH", "int": "INT", "float": "NUMBER", "str": "TEXT"}


def _set_metavars(params) -> None:
    """Give every parameter a metavar for the help page: none on flags, a word otherwise."""
    for p in params:
        if p.param_type_name == "argument":
            # the name column already shows the metavar (STORE); no <path> beside it
            p.display_type_rich = lambda ctx: ""
            continue
        if getattr(p, "is_flag", False) or getattr(p, "count", False):
            p.metavar = ""
        elif p.metavar is None:
            try:
                name = p.bare_type()
            except Exception:  # click's own options (none expected)
                name = "TEXT"
            base = name[5:-1] if name.startswith("list[") else name
            p.metavar = _TYPE_METAVARS.get(base, base.upper())


def _reflow(text: str | None) -> str | None:
    """Join the lines of each paragraph of a docstring (Typer keeps single line breaks)."""
    if not text:
        return text
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


class Command(TyperCommand):
    """A subcommand whose help shows real metavars (``FILE``, ``STORE``; none on flags)."""

    def format_help(self, ctx, formatter) -> None:
        """Set the metavars, reflow the description, then let Typer draw the help."""
        _set_metavars(self.get_params(ctx))
        self.help = _reflow(self.help)
        return super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx) -> list[str]:
        """``[OPTIONS] STORE`` (Typer writes a required argument as ``{STORE}``)."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for p in self.get_params(ctx):
            if p.param_type_name == "argument":
                name = p.metavar or p.name.upper()
                pieces.append(name if p.required else f"[{name}]")
        return pieces


class Group(TyperGroup):
    """The ``seq2exp`` group, with the same metavars as :class:`Command`."""

    def format_help(self, ctx, formatter) -> None:
        """Set the metavars, then let Typer draw the help."""
        _set_metavars(self.get_params(ctx))
        return super().format_help(ctx, formatter)


def epilog(examples: str, inputs: bool = False) -> str:
    """Return the epilog of a command's help: its examples (and the input rule).

    Parameters
    ----------
    examples : str
        Shell lines, one per line (``#`` comments allowed).
    inputs : bool
        Add :data:`INPUT_RULE`.
    """
    from rich.markup import escape

    lines = [ln.strip() for ln in examples.strip().splitlines() if ln.strip()]
    text = "[bold]Examples[/bold]\n\n" + "\n".join("  " + escape(ln) for ln in lines)
    if inputs:
        text += "\n\n" + escape(INPUT_RULE)
    return text


app = typer.Typer(
    name="seq2exp",
    cls=Group,
    help="Learn regulatory elements and predict gene expression (Seq2Exp).",
    epilog=epilog("""
        seq2exp simulate sim --size example     # a small cell type with known truth
        cd sim && seq2exp predict > predictions.tsv
        seq2exp call-elements --bigwig mask.bw > elements.bed
        seq2exp predict --help                  # every command has its own help
    """) + "\n\nSEQ2EXP_PROGRESS=bar|plain|off: progress as bars (the default on a "
    "terminal), as a plain line every 20 s (the default otherwise), or none.",
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


#: packages whose DEBUG output floods the terminal; kept at WARNING even with -vv
_NOISY = ("numba", "matplotlib", "PIL", "fsspec", "h5py", "asyncio")


def _setup_logging(verbose: int) -> None:
    """Send log records to stderr: ``seq2exp: message`` (``-vv``: with time and module)."""
    pkg = logging.getLogger("seq2exp_cli")
    handler = next((h for h in pkg.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        pkg.addHandler(handler)
        pkg.propagate = False
    fmt = ("seq2exp %(asctime)s %(name)s %(levelname)s: %(message)s" if verbose >= 2
           else "seq2exp: %(message)s")
    handler.setFormatter(logging.Formatter(fmt, datefmt="%H:%M:%S"))
    pkg.setLevel(logging.DEBUG if verbose else logging.INFO)
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        other = _StderrHandler()
        other.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s",
                                             datefmt="%H:%M:%S"))
        root.addHandler(other)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)


def _setup_progress() -> None:
    """``SEQ2EXP_PROGRESS`` (bar/1, plain/0, off, auto) and ``SEQ2EXP_PROGRESS_EVERY`` (s)."""
    from ..progress import set_progress

    value = os.environ.get("SEQ2EXP_PROGRESS", "auto").strip().lower() or "auto"
    mode = {"1": "bar", "true": "bar", "yes": "bar", "0": "plain", "false": "plain",
            "no": "plain", "none": "off"}.get(value, value)
    every = os.environ.get("SEQ2EXP_PROGRESS_EVERY")
    try:
        set_progress(mode, float(every) if every else None)
    except ValueError as exc:
        raise Seq2ExpError(f"SEQ2EXP_PROGRESS={value} / SEQ2EXP_PROGRESS_EVERY={every}: {exc}; "
                           "use bar, plain, off or auto, and a number of seconds") from None


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"seq2exp {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    verbose: Annotated[int, typer.Option(
        "-v", "--verbose", count=True,
        help="More messages on stderr: -v adds seq2exp's debug messages, -vv times, "
        "module names and the debug messages of the packages it uses.")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)] = False,
    threads: Annotated[Optional[int], typer.Option(
        "--threads", min=1, show_default=False,
        help="Threads for torch and numba (default: OMP_NUM_THREADS / NUMBA_NUM_THREADS when "
             "set, else 1; see docs/performance.md).")] = None,
) -> None:
    """Learn regulatory elements and predict gene expression (Seq2Exp, ICLR 2025)."""
    from .threads import set_threads

    set_threads(threads)
    _STATE["debug"] = debug
    _setup_logging(verbose)
    _setup_progress()
    from .resolve import reset_reported

    reset_reported()


#: the subcommands in help order: (name, module)
COMMANDS = (
    ("simulate", "simulate"), ("preprocess", "preprocess"), ("inspect", "inspect"),
    ("train", "train"), ("predict", "predict"), ("call-elements", "call_elements"),
    ("call-links", "call_links"), ("plot-locus", "plot_locus"),
    ("plot-training", "plot_training"), ("evaluate", "evaluate"),
    ("compare-peaks", "compare_peaks"), ("igv", "igv"), ("benchmark", "benchmark"),
)


def _register() -> None:
    """Attach every subcommand (once); each module defines ``main`` and ``EXAMPLES``."""
    if _STATE.get("registered"):
        return
    _STATE["registered"] = True
    import importlib

    for name, module in COMMANDS:
        mod = importlib.import_module(f"{__name__}.{module}")
        app.command(name, cls=Command,
                    epilog=epilog(mod.EXAMPLES, getattr(mod, "READS_INPUTS", False)))(mod.main)
    from . import workflow as _workflow

    for info in _workflow.app.registered_commands:
        info.epilog = epilog(_workflow.EXAMPLES)
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
