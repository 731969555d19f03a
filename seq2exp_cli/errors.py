"""User-facing errors.

Anything a user can fix (a bad file, a wrong flag) raises :class:`Seq2ExpError` or a
subclass.  The CLI prints its message as one line on stderr and exits with code 2; no
traceback unless ``--debug`` is given.  Messages should name the file (and line or
chromosome) and say how to fix the problem.
"""

from __future__ import annotations


class Seq2ExpError(Exception):
    """An error the user can fix; reported as one line, exit code 2."""


class InputError(Seq2ExpError):
    """A problem with an input file or its contents."""


class MissingDependencyError(Seq2ExpError):
    """An optional package is needed; the message names the install command."""
