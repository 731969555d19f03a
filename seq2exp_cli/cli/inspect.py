"""``seq2exp inspect STORE``: summarise a dataset store (on stdout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..store import Store

EXAMPLES = """
seq2exp inspect store/
seq2exp inspect store/ --json | python -m json.tool
"""


def main(
    store: Annotated[Path, typer.Argument(help="Store directory written by `seq2exp preprocess`.",
                                          metavar="STORE")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Summarise a dataset store: genes, splits, targets, signals."""
    summary = Store(store).summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        typer.echo(f"{key:<{width}}  {value}")
