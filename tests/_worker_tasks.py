"""Tasks for spawned worker processes in tests: this module imports nothing heavy."""

from __future__ import annotations


def window_sums(source, model, part, advance, width: int):
    """Sum of each gene's window signals (the test's check that a source reopens alike)."""
    advance(len(part))
    return [float(source.window(int(i), width).signals.sum()) for i in part]
