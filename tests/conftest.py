"""The test scaffold shared by every test file.

- ``cli``: run a ``seq2exp`` command in-process (Typer's runner; stdout and stderr apart).
- ``seq2exp``: run it through the console entry point in a subprocess, as a user does
  (one-line errors, exit codes, no traceback).
- ``device``: ``cpu`` always, ``cuda`` too when a CUDA device is present.
- ``tiny_config``: the tiny Seq2Exp configuration of the unit tests;
  ``tiny_run``: the tiny model and schedule trained on the 20 kb windows of _fixtures.py.
- ``one_thread``: one torch thread for the tests that ask for it (a shared machine).

The suite runs under seq2exp's own thread rule, one thread for torch and numba, unless the
environment says otherwise: the variables are set before torch or numba start their pools,
so in-process commands (whose runner restores the environment after each call) never meet
a numba pool of another size.
"""

from __future__ import annotations

import os
import subprocess
import sys

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402
import torch  # noqa: E402
from typer.testing import CliRunner

from _fixtures import W

#: the unit tests' Seq2Exp: 96 bp at 2 bp per token, width 8, one layer each
TINY_MODEL = dict(window_bp=96, bin_size=2, d_model=8, n_layers_generator=1,
                  n_layers_predictor=1, d_state=4, promoter_bp=8, motif_width=5, head_hidden=8)
#: the tiny model trained on the 20 kb windows of the hand-made inputs (cpu preset)
TINY_RUN = dict(window_bp=W, bin_size=100, d_model=8, n_layers_generator=1,
                n_layers_predictor=1, head_hidden=8, promoter_bp=1000,
                signal_names=("h3k27ac", "dnase", "contact"), batch_size=2)


def tiny_config(**overrides):
    """Return the :data:`TINY_MODEL` ``ModelConfig`` with ``overrides``."""
    from seq2exp_cli.models.config import ModelConfig

    return ModelConfig(**{**TINY_MODEL, **overrides})


def tiny_run(**overrides):
    """Return ``(ModelConfig, TrainConfig)`` of the cpu preset with :data:`TINY_RUN` and ``overrides``."""
    from seq2exp_cli.models.presets import preset

    return preset("cpu", **{**TINY_RUN, **overrides})


@pytest.fixture(scope="session", name="tiny_config")
def _tiny_config():
    """Build the unit tests' tiny Seq2Exp config: ``tiny_config(**overrides)``."""
    return tiny_config


@pytest.fixture(scope="session", name="tiny_run")
def _tiny_run():
    """Build the tiny 20 kb model and schedule: ``tiny_run(steps=3, seed=1)``."""
    return tiny_run


@pytest.fixture(scope="session")
def cli():
    """Run ``seq2exp ARGS`` in-process: ``cli(*args, check=False)``.

    Returns the runner's result (``exit_code``, ``stdout``, ``stderr``, ``exception``);
    with ``check`` the command must succeed.
    """
    from seq2exp_cli.cli import app

    def invoke(*args, check: bool = False, **kwargs):
        r = CliRunner().invoke(app, [str(a) for a in args], **kwargs)
        if check:
            assert r.exit_code == 0, (r.output, r.exception)
        return r

    return invoke


@pytest.fixture(scope="session")
def seq2exp():
    """Run ``python -m seq2exp_cli ARGS`` in a subprocess (progress bars off)."""

    def run(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
        env = {**os.environ, "SEQ2EXP_PROGRESS": "0", **(env or {})}
        return subprocess.run([sys.executable, "-m", "seq2exp_cli", *map(str, args)], cwd=cwd,
                              capture_output=True, text=True, env=env)

    return run


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request) -> torch.device:
    """``cpu`` always; ``cuda`` when a CUDA device is present (skipped otherwise)."""
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch.device(request.param)


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: on a shared 2-core machine two threads run several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
