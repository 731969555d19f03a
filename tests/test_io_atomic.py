"""Atomic writes: nothing partial is ever left at the final path."""

from __future__ import annotations

import os

import pytest

from seq2exp_cli.io.atomic import atomic_dir, atomic_path, write_text_atomic


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_failed_dir_keeps_the_old_one(tmp_path):
    target = tmp_path / "store"
    with atomic_dir(target) as d:
        (d / "a").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(target, overwrite=True) as d:
            (d / "a").write_text("new")
            raise RuntimeError("killed")
    assert (target / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    with pytest.raises(FileExistsError):
        with atomic_dir(target) as d:
            pass


def test_modes_follow_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "f.txt", "x")
        with atomic_dir(tmp_path / "d") as d:
            (d / "a").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_output_under_a_file_is_a_one_line_error(tmp_path):
    from seq2exp_cli.errors import Seq2ExpError

    (tmp_path / "f").write_text("x")
    for ctx in (atomic_path(tmp_path / "f" / "out.tsv"), atomic_dir(tmp_path / "f" / "store")):
        with pytest.raises(Seq2ExpError, match=r"f/(out\.tsv|store): cannot write here"):
            with ctx:
                raise AssertionError("never reached")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


_CHILD = ("import sys, time\n"
          "from seq2exp_cli.io.atomic import atomic_dir\n"
          "with atomic_dir(sys.argv[1]) as d:\n"
          "    (d / 'part').write_bytes(b'x' * 1000)\n"
          "    print(d, flush=True)\n"
          "    time.sleep(60)\n")


def _writer_inside(target):
    """A child process stopped inside ``atomic_dir(target)``; returns (process, temp dir)."""
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(target)], stdout=subprocess.PIPE,
                            text=True)
    return proc, Path(proc.stdout.readline().strip())


def test_killed_writers_temp_dir_is_swept_by_the_next_write(tmp_path):
    import signal

    target = tmp_path / "store"
    proc, tmp = _writer_inside(target)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tmp.is_dir() and (tmp / "part").exists()  # a killed run cannot clean up
    with atomic_dir(target) as d:
        (d / "a").write_text("new")
    assert not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_live_writers_and_foreign_temp_dirs_are_kept(tmp_path):
    from seq2exp_cli.io.atomic import _host, _start_time, sweep_stale

    target = tmp_path / "store"
    proc, tmp = _writer_inside(target)
    try:
        other_host = tmp_path / f".store.{_host()}x-1-1.abcdefgh.tmp"
        legacy = tmp_path / ".store.abcdefgh.tmp"  # older naming: owner unknown
        me = os.getpid()
        reused = tmp_path / f".store.{_host()}-{me}-{(_start_time(me) or 0) + 1}.abcdefgh.tmp"
        for p in (other_host, legacy, reused):
            p.mkdir()
        assert sweep_stale(target) == [reused]  # our pid, another start time: a dead writer
        assert tmp.is_dir() and other_host.is_dir() and legacy.is_dir()
    finally:
        proc.kill()
        proc.wait()
    assert sweep_stale(target) == [tmp]


def test_stale_temp_files_of_atomic_path_are_swept(tmp_path):
    from seq2exp_cli.io.atomic import _host

    stale = tmp_path / f".out.tsv.{_host()}-999999999-5.abcdefgh.tmp"  # no such pid
    stale.write_text("half")
    write_text_atomic(tmp_path / "out.tsv", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tsv"]
