#!/usr/bin/env python
"""One-time extraction of the small real-data tables the simulator uses.

Writes, into ``seq2exp_cli/data/``:

* ``jaspar2024_motifs.tsv`` -- a few human JASPAR 2024 CORE position frequency matrices
  (latest version of each), long format: ``matrix_id  name  role  pos  A  C  G  T`` (counts).
  Source: the PyPI wheel ``pyjaspar==4.0.0``, file ``pyjaspar/data/JASPAR2024.sqlite``.
* ``hg19_chr22_20-21Mb_markov4.tsv`` -- order-4 Markov transition counts of real human
  sequence: ``context  A  C  G  T`` (256 rows; counts of the base following each 4-mer on the
  forward strand, positions with N skipped).  Source: Debian package ``hisat2``, file
  ``usr/share/doc/hisat2/examples/reference/22_20-21M.fa`` (hg19 chr22:20,000,001-21,000,000).

Only these derived tables are committed, never the sequence or the database.

Usage::

    python scripts/extract_sim_data.py                       # downloads both packages to a temp dir
    python scripts/extract_sim_data.py --jaspar-sqlite X.sqlite --fasta 22_20-21M.fa
"""

from __future__ import annotations

import argparse
import glob
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "seq2exp_cli" / "data"

# (JASPAR name, role in the simulation)
MOTIFS = [
    ("GATA1", "activator"),
    ("GATA1::TAL1", "activator"),
    ("KLF1", "activator"),
    ("NFE2", "activator"),
    ("SPI1", "activator"),
    ("CEBPB", "activator"),
    ("FOS::JUN", "activator"),
    ("RUNX1", "activator"),
    ("SP1", "promoter"),
    ("NRF1", "promoter"),
    ("YY1", "promoter"),
    ("ETS1", "promoter"),
    ("CTCF", "insulator"),
]
ORDER = 4


def fetch_jaspar(tmp: Path) -> Path:
    """Download the pyjaspar wheel (no dependencies) and unpack its 2024 database."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "pyjaspar==4.0.0", "-d", str(tmp)],
        check=True,
    )
    wheel = next(tmp.glob("pyjaspar-4.0.0-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extract("pyjaspar/data/JASPAR2024.sqlite", tmp)
    return tmp / "pyjaspar/data/JASPAR2024.sqlite"


def fetch_fasta(tmp: Path) -> Path:
    """Download the Debian ``hisat2`` package (not installed) and unpack its example genome."""
    subprocess.run(["apt-get", "download", "hisat2"], cwd=tmp, check=True)
    deb = glob.glob(str(tmp / "hisat2_*.deb"))[0]
    subprocess.run(["dpkg", "-x", deb, str(tmp / "x")], check=True)
    return tmp / "x/usr/share/doc/hisat2/examples/reference/22_20-21M.fa"


def extract_motifs(db: Path, out: Path) -> None:
    """Write the latest human CORE version of each motif in :data:`MOTIFS`."""
    con = sqlite3.connect(db)
    rows = []
    for name, role in MOTIFS:
        hit = con.execute(
            "SELECT m.ID, m.BASE_ID, m.VERSION FROM MATRIX m JOIN MATRIX_SPECIES s ON s.ID = m.ID "
            "WHERE s.TAX_ID = '9606' AND m.COLLECTION = 'CORE' AND m.NAME = ? "
            "ORDER BY m.VERSION DESC LIMIT 1",
            (name,),
        ).fetchone()
        if hit is None:
            raise SystemExit(f"motif {name} not found in {db}")
        mid, base, ver = hit
        data = con.execute("SELECT row, col, val FROM MATRIX_DATA WHERE ID = ?", (mid,)).fetchall()
        width = max(c for _, c, _ in data)
        mat = np.zeros((width, 4))
        for r, c, v in data:
            mat[c - 1, "ACGT".index(r.upper())] = v
        for i in range(width):
            rows.append(
                f"{base}.{ver}\t{name}\t{role}\t{i}\t" + "\t".join(f"{v:g}" for v in mat[i])
            )
    out.write_text("matrix_id\tname\trole\tpos\tA\tC\tG\tT\n" + "\n".join(rows) + "\n")


def extract_markov(fasta: Path, out: Path, k: int = ORDER) -> None:
    """Count (k-mer context, next base) pairs of the FASTA's sequence, vectorised."""
    seq = "".join(ln.strip() for ln in fasta.read_text().splitlines() if not ln.startswith(">"))
    lut = np.full(256, 4, dtype=np.int64)
    for i, b in enumerate("ACGT"):
        lut[ord(b)] = lut[ord(b.lower())] = i
    codes = lut[np.frombuffer(seq.encode(), dtype=np.uint8)]
    n = len(codes) - k
    windows = np.lib.stride_tricks.sliding_window_view(codes, k + 1)[:n]
    ok = (windows < 4).all(axis=1)
    w = windows[ok]
    ctx = np.zeros(len(w), dtype=np.int64)
    for j in range(k):
        ctx = ctx * 4 + w[:, j]
    counts = np.bincount(ctx * 4 + w[:, k], minlength=4 ** (k + 1)).reshape(4**k, 4)
    lines = []
    for c in range(4**k):
        kmer = "".join("ACGT"[(c >> (2 * (k - 1 - j))) & 3] for j in range(k))
        lines.append(kmer + "\t" + "\t".join(str(v) for v in counts[c]))
    out.write_text("context\tA\tC\tG\tT\n" + "\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--jaspar-sqlite", type=Path)
    ap.add_argument("--fasta", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        db = args.jaspar_sqlite or fetch_jaspar(tmp)
        fa = args.fasta or fetch_fasta(tmp)
        DATA.mkdir(parents=True, exist_ok=True)
        extract_motifs(db, DATA / "jaspar2024_motifs.tsv")
        extract_markov(fa, DATA / f"hg19_chr22_20-21Mb_markov{ORDER}.tsv")
    print(f"wrote {DATA}/jaspar2024_motifs.tsv and the Markov table")


if __name__ == "__main__":
    main()
