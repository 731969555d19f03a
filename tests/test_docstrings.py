"""The package's docstrings follow the numpy convention (ruff's ``D`` rules, configured in
pyproject.toml); ruff is a test dependency (``pip install -e '.[test]'``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_docstring_rules_are_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "seq2exp_cli"],
                       cwd=ROOT, capture_output=True, text=True)
    assert "No module named ruff" not in r.stderr, "install the test extra: pip install -e '.[test]'"
    assert r.returncode == 0, r.stdout[-4000:]


def test_the_rules_are_on():
    """A module-level function without a docstring is reported (the check is not vacuous)."""
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--stdin-filename",
                        "seq2exp_cli/probe.py", "-"], cwd=ROOT, capture_output=True, text=True,
                       input='"""Probe."""\n\n\ndef f():\n    return 1\n')
    assert r.returncode == 1 and "D103" in r.stdout, r.stdout + r.stderr
