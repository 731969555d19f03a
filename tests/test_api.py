"""The Python API (``import seq2exp_cli as s2e``): the docs/api.md example runs as written on
the bundled example, the package imports lazily, and the library reads no environment
variable and no seq2exp.toml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"


def _python(code: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEQ2EXP_PROGRESS": "0", **(env or {})}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, env=env)


def _example_copy(d: Path) -> Path:
    """The example's files linked into ``d`` (so that store/ is written there)."""
    for f in EXAMPLE.iterdir():
        if f.name != "seq2exp.toml":
            (d / f.name).symlink_to(f)
    return d


def _checks() -> str:
    """Lines appended to the example: what it made, checked by the test."""
    return (
        "\nassert list(preds.columns[:6]) == "
        "['gene_id', 'name', 'chrom', 'tss', 'strand', 'prediction']\n"
        "assert preds['prediction'].notna().all()\n"
        "assert len(elems) > 0 and list(elems.columns[:3]) == ['chrom', 'start', 'end']\n"
        "assert (elems['end'] > elems['start']).all()\n"
        "print('RESULT preds', len(preds), 'elems', len(elems))\n"
    )


def test_docs_api_example_runs_as_written(tmp_path):
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 2 and "s2e.load_model()" in blocks[0]
    code = "\n".join(blocks) + _checks()
    r = _python(code, _example_copy(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "store" / "manifest.json").exists()
    assert "RESULT preds 47 elems" in r.stdout, r.stdout[-2000:]


def test_import_is_lazy(tmp_path):
    r = _python("import sys, seq2exp_cli as s2e\n"
                "assert 'torch' not in sys.modules and 'pandas' not in sys.modules\n"
                "assert callable(s2e.predict) and 'torch' in sys.modules\n"
                "assert 'load_model' in dir(s2e)\n", tmp_path)
    assert r.returncode == 0, r.stderr


def test_library_reads_no_environment_and_no_toml(tmp_path):
    """With SEQ2EXP_* set and a seq2exp.toml naming other files, the library loads the
    bundled model and refuses to guess the genome; the command line reads both."""
    (tmp_path / "seq2exp.toml").write_text(
        '[inputs]\nmodel = "nowhere"\nfasta = "nowhere.fa"\ngenes = "nowhere.tsv"\n')
    env = {"SEQ2EXP_MODEL": str(tmp_path / "missing"), "SEQ2EXP_FASTA": str(tmp_path / "x.fa")}
    code = ("import seq2exp_cli as s2e\n"
            "from seq2exp_cli.errors import Seq2ExpError\n"
            "from seq2exp_cli.models.checkpoint import bundled_weights\n"
            "m = s2e.load_model(device='cpu')\n"
            "assert m.meta == s2e.load_model(bundled_weights(), device='cpu').meta\n"
            "try:\n"
            "    s2e.predict(m, dnase='dnase.bw')\n"
            "except Seq2ExpError as exc:\n"
            "    assert 'no inputs' in str(exc), exc\n"
            "else:\n"
            "    raise AssertionError('the library read the toml or the environment')\n")
    r = _python(code, tmp_path, env)
    assert r.returncode == 0, r.stderr
    cli = subprocess.run([sys.executable, "-m", "seq2exp_cli", "predict"], cwd=tmp_path,
                         capture_output=True, text=True, env={**os.environ, **env})
    assert cli.returncode == 2 and "SEQ2EXP_MODEL" in cli.stderr, cli.stderr
