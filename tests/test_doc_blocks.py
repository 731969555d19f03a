"""Every bash block of README.md and docs/*.md runs as written, against the bundled example.

Each block runs with ``bash -e`` in a fresh folder holding the example cell type's files
(``examples/sim_example``, linked), the repository's ``benchmarks/`` and ``scripts/`` and a
store made from the example (``store/``, also as ``st``),
with the bundled model and the project's ``.venv`` first on PATH.  Independent truth: the
shell's exit status, and the files a block says it writes.

An HTML comment on the line before a block says how to run it (``<!-- docs-test: ... -->``):

``files A=B C=D``
    the block names a user's files (``hg38.fa``): ``A`` is made a link to the example's ``B``.
``long``
    a training run to convergence (the docs say so): ``seq2exp train`` is run with
    ``--steps 2``, so the test checks the commands, not the convergence.
``skip: REASON``
    not run here (installs, a GPU, a cluster, a run of tens of minutes in benchmarks/);
    the reason is required.

Blocks made only of ``make`` targets run the targets' recipes: ``make example`` runs
``examples/run.sh`` (on a copy of ``examples/``); ``make test`` is this suite itself (CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARK = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
SHORT_TRAIN = " --steps 2 --set warmup=1 --set eval_every=2 --set checkpoint_every=2"


def doc_blocks():
    """(file, line, text, marker) of every ```bash block."""
    out = []
    for path in DOCS:
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "```bash":
                j = i + 1
                while lines[j].strip() != "```":
                    j += 1
                k = i - 1
                while k >= 0 and not lines[k].strip():
                    k -= 1
                m = MARK.search(lines[k]) if k >= 0 else None
                out.append((path, i + 1, "\n".join(lines[i + 1: j]) + "\n",
                            m.group(1) if m else ""))
                i = j
            i += 1
    return out


BLOCKS = doc_blocks()


def _env():
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.update(SEQ2EXP_PROGRESS="0", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    for k in [k for k in env if k.startswith("SEQ2EXP_") and k != "SEQ2EXP_PROGRESS"]:
        env.pop(k)
    return env


@pytest.fixture(scope="module")
def example_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("docstore") / "store"
    r = subprocess.run(["seq2exp", "preprocess", str(store)], cwd=_example_copy(
        tmp_path_factory.mktemp("docex")), env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return store


def _example_copy(d: Path) -> Path:
    for f in EXAMPLE.iterdir():
        if f.name != "README.md":
            (d / f.name).symlink_to(f)
    return d


def _shell(block: str, cwd: Path, timeout: int = 600):
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def test_blocks_are_found_and_every_skip_says_why():
    assert len(BLOCKS) >= 10
    for path, line, _, marker in BLOCKS:
        if marker.startswith("skip"):
            assert len(marker.split(":", 1)[-1].strip()) > 10, f"{path.name}:{line}: no reason"
        else:
            assert set(marker.split()) <= {"long", "files"} | {w for w in marker.split()
                                                                if "=" in w}, (
                f"{path.name}:{line}: unknown docs-test marker {marker!r}")


@pytest.mark.parametrize("path,line,text,marker", BLOCKS,
                         ids=[f"{p.name}:{n}" for p, n, _, _ in BLOCKS])
def test_doc_block_runs(path, line, text, marker, example_store, tmp_path):
    if marker.startswith("skip"):
        pytest.skip(marker.split(":", 1)[1].strip())
    cmds = [c.split("#")[0].strip() for c in text.splitlines() if c.split("#")[0].strip()]
    if cmds and all(c.startswith("make ") for c in cmds):
        for c in cmds:
            target = c.split()[1]
            if target == "example":
                ex = tmp_path / "examples"
                shutil.copytree(ROOT / "examples", ex, symlinks=True,
                                ignore=shutil.ignore_patterns("out"))
                r = _shell(f"bash {ex / 'run.sh'}", tmp_path)
                assert r.returncode == 0, r.stderr[-3000:]
                for f in ("predictions.tsv", "elements.bed", "locus.png"):
                    assert (ex / "out" / f).stat().st_size > 0
            else:
                assert target == "test", f"{path.name}:{line}: make {target} is not tested"
        return
    d = tmp_path / "work"
    d.mkdir()
    _example_copy(d)
    (d / "st").symlink_to(example_store)
    for sub in ("benchmarks", "scripts"):  # the docs run these from the repository root
        (d / sub).symlink_to(ROOT / sub)
    if not re.search(r"seq2exp preprocess\s+store", text):  # a block that makes its own
        (d / "store").symlink_to(example_store)
    words = marker.split()
    for pair in (w for w in words if "=" in w):
        name, target = pair.split("=")
        (d / name).symlink_to(EXAMPLE / target)
    if "long" in words:
        text = re.sub(r"(seq2exp train [^#\n]*?)(\s*(#.*)?)$", lambda m: m.group(1) + SHORT_TRAIN
                      + m.group(2), text, flags=re.M)
    r = _shell(text, d)
    assert r.returncode == 0, f"{path.name}:{line}\n{text}\n{r.stderr[-3000:]}"
