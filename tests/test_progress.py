"""Progress without a terminal: ``seq2exp train`` with stderr redirected to a file prints a
plain progress line (step, loss, validation MSE, tokens/s, time left) at least every
SEQ2EXP_PROGRESS_EVERY seconds (default 20 s, the issue asks for 30 s at most), also while
one step or a validation pass takes longer than that; the reporter itself is checked on a
task whose counts are known.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from seq2exp_cli import progress
from seq2exp_cli.progress import PLAIN_EVERY_S, PlainProgress, format_seconds

from _fixtures import W, make_tiny_inputs, tiny_store


def test_default_interval_is_under_30_seconds():
    assert 0 < PLAIN_EVERY_S <= 30


def test_format_seconds():
    assert [format_seconds(s) for s in (8, 75, 4000)] == ["8 s", "1 min 15 s", "1 h 06 min"]


def test_plain_lines_while_a_task_runs(caplog):
    caplog.set_level(logging.INFO, logger="seq2exp_cli.progress")
    with PlainProgress(every=0.2) as bar:
        t = bar.add_task("training", total=10, unit="steps")
        bar.update(t, completed=3, description="training: loss 0.5000")
        time.sleep(0.5)  # no update for two intervals: the thread still reports
        bar.update(t, completed=10)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) >= 3, lines
    assert lines[0].startswith("training: step 3 of 10 (30 %), loss 0.5000; ")
    assert "elapsed, about" in lines[0] and lines[0].endswith(" left")
    assert lines[-1].startswith("training: step 10 of 10 (100 %), loss 0.5000; done in ")


def test_short_task_prints_nothing(caplog):
    caplog.set_level(logging.INFO, logger="seq2exp_cli.progress")
    with PlainProgress(every=5) as bar:
        bar.update(bar.add_task("predicting", total=3, unit="genes"), completed=3)
    assert caplog.records == []


def test_progress_modes():
    progress.set_progress("off")
    with progress.progress_bar() as bar:
        assert not isinstance(bar, PlainProgress)
    progress.set_progress("plain", every=1)
    with progress.progress_bar() as bar:
        assert isinstance(bar, PlainProgress) and bar.every == 1
    progress.set_progress("auto")
    with pytest.raises(ValueError):
        progress.set_progress("loud")


def test_train_with_stderr_to_a_file_reports_steadily(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    make_tiny_inputs(d)
    store = tiny_store(d, tmp_path / "store", val_chroms=["chr22"], test_chroms=["chrX"])
    log_path = tmp_path / "train.log"
    env = {k: v for k, v in os.environ.items() if k != "SEQ2EXP_PROGRESS"}
    env["SEQ2EXP_PROGRESS_EVERY"] = "1"
    cmd = [sys.executable, "-m", "seq2exp_cli", "train", str(store), "-o", str(tmp_path / "run"),
           "--preset", "cpu", "--no-features", "--steps", "60", "--device", "cpu",
           "--batch-size", "2", "--set", f"window_bp={W}", "--set", "d_model=8",
           "--set", "n_layers_generator=1", "--set", "n_layers_predictor=1",
           "--set", "promoter_bp=1000", "--set", "eval_every=10", "--set", "checkpoint_every=30"]
    seen: list[tuple[float, str]] = []
    with open(log_path, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        t0, done = time.monotonic(), 0
        while proc.poll() is None and time.monotonic() - t0 < 300:
            time.sleep(0.1)
            lines = log_path.read_text().splitlines()
            seen += [(time.monotonic(), ln) for ln in lines[done:]]
            done = len(lines)
        proc.wait(timeout=30)
    lines = log_path.read_text().splitlines()
    seen += [(time.monotonic(), ln) for ln in lines[done:]]
    assert proc.returncode == 0, "\n".join(lines[-20:])
    steps = [(t, ln) for t, ln in seen if ln.startswith("seq2exp: training: step ")]
    assert len(steps) >= 3, lines
    times = [t for t, _ in steps]
    assert max(b - a for a, b in zip(times, times[1:])) < 1 + 2.5, seen  # the interval + slack
    mid = [ln for _, ln in steps if "val MSE" in ln and "left" in ln]
    assert mid, steps
    assert "loss " in mid[0] and "tokens/s" in mid[0] and " of 60 " in mid[0]
    assert steps[-1][1].startswith("seq2exp: training: step 60 of 60 (100 %)")
    assert "done in" in steps[-1][1]
