"""The thread rule of ``seq2exp --threads`` (seq2exp_cli.cli.threads), in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seq2exp_cli.cli.threads import DEFAULT_THREADS, THREAD_VARS, resolve_threads


def test_resolve_order():
    assert resolve_threads(None, {}) == DEFAULT_THREADS == 1
    assert resolve_threads(3, {"OMP_NUM_THREADS": "2"}) == 3
    assert resolve_threads(None, {"OMP_NUM_THREADS": "2", "NUMBA_NUM_THREADS": "1"}) == 2
    assert resolve_threads(None, {"NUMBA_NUM_THREADS": "2"}) == 2
    assert resolve_threads(None, {"MKL_NUM_THREADS": "2"}) == 2
    assert resolve_threads(None, {"OMP_NUM_THREADS": "lots", "NUMBA_NUM_THREADS": "0"}) == 1
    with pytest.raises(ValueError):
        resolve_threads(0, {})


_PROBE = ("import sys\n"
          "from seq2exp_cli.cli import main\n"
          "try:\n"
          "    main(sys.argv[1:])\n"
          "except SystemExit:\n"
          "    pass\n"
          "import numba, torch\n"
          "print(torch.get_num_threads(), numba.get_num_threads(), file=sys.stderr)\n")


def _threads_after(args, env_extra):
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.update(env_extra)
    r = subprocess.run([sys.executable, "-c", _PROBE, *args, "inspect", "--help"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return tuple(int(x) for x in r.stderr.split()[-2:])


def test_default_is_one_thread_each():
    assert _threads_after([], {}) == (1, 1)


def test_option_wins_over_the_environment():
    assert _threads_after(["--threads", "2"], {"OMP_NUM_THREADS": "1",
                                               "NUMBA_NUM_THREADS": "1"}) == (2, 2)


def test_user_environment_is_respected():
    assert _threads_after([], {"OMP_NUM_THREADS": "2"}) == (2, 2)
    assert _threads_after([], {"OMP_NUM_THREADS": "2", "NUMBA_NUM_THREADS": "1"}) == (2, 1)


def test_bad_value_is_a_usage_error():
    r = subprocess.run([sys.executable, "-m", "seq2exp_cli", "--threads", "0", "inspect",
                        "--help"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--threads" in r.stderr


def test_pools_already_started_are_resized():
    """In process (torch and numba imported before the command), the option still applies."""
    code = "import numba, torch\n" + _PROBE
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    r = subprocess.run([sys.executable, "-c", code, "--threads", "2", "inspect", "--help"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr.split()[-2:] == ["2", "2"]


def test_a_running_numba_pool_is_resized_not_renamed():
    """numba re-reads NUMBA_NUM_THREADS at every compilation and refuses a value other than
    its running pool's, so a command run in a process whose pool is up (a notebook, a test
    runner) must resize the pool and leave the variable alone."""
    code = ("import os, sys, numba, numpy as np\n"
            "@numba.njit(parallel=True)\n"
            "def f(x):\n"
            "    s = 0.0\n"
            "    for i in numba.prange(x.size):\n"
            "        s += x[i]\n"
            "    return s\n"
            "f(np.ones(10))\n"  # the pool is launched here, at numba's default size
            "from seq2exp_cli.cli import main\n"
            "for args in (['inspect', '--help'], ['--threads', '1', 'inspect', '--help']):\n"
            "    try:\n"
            "        main(args)\n"
            "    except SystemExit:\n"
            "        pass\n"
            "g = numba.njit(lambda x: x + 1)\n"
            "print(g(1), numba.get_num_threads(), file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr.split()[-2:] == ["2", "1"]
