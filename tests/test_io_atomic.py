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
