"""Write the tiny committed fixtures of ``tests/data/`` with seq2exp's own writers.

    python scripts/make_test_data.py

The files (``tests/test_data.py`` describes their content and reads them back)::

    tiny.fa (+ .fai)  chrA 2,000 bp = "ACGT" repeated, with NNNN at 1,000-1,004;
                      chrB 1,000 bp = "GATTACA" repeated, cut to 1,000
    tiny.genes.tsv    gA1 chrA + TSS 500; gA2 chrA - TSS 1,500; gB1 chrB + TSS 250
    tiny.dnase.bw     chrA 2.0 on [100, 200), 5.0 on [400, 600); chrB 1.0 on [0, 1,000)
    tiny.cool         500 bp bins; chrA (0,0)=4 (0,1)=2 (1,3)=6; chrB (0,1)=3
    tiny.bed          chrA 100-200 e1 10 +; chrA 400-600 e2 50 -; chrB 10-20 e3 0 .
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tests" / "data"
SIZES = {"chrA": 2000, "chrB": 1000}


def main() -> None:
    """Write every fixture into :data:`OUT`."""
    from seq2exp_cli.io.bed import write_bed
    from seq2exp_cli.io.bigwig import write_bigwig
    from seq2exp_cli.io.fasta import write_fasta
    from seq2exp_cli.io.genes import write_genes_tsv
    from seq2exp_cli.io.hic import write_cool

    OUT.mkdir(parents=True, exist_ok=True)
    a = "ACGT" * 500
    a = a[:1000] + "NNNN" + a[1004:]
    write_fasta(OUT / "tiny.fa", {"chrA": a, "chrB": ("GATTACA" * 143)[:1000]})
    write_genes_tsv(OUT / "tiny.genes.tsv", pd.DataFrame({
        "gene_id": ["gA1", "gA2", "gB1"], "name": ["A1", "A2", "B1"],
        "chrom": ["chrA", "chrA", "chrB"], "tss": [500, 1500, 250], "strand": ["+", "-", "+"]}))
    dnase = {"chrA": np.zeros(2000, np.float32), "chrB": np.ones(1000, np.float32)}
    dnase["chrA"][100:200] = 2.0
    dnase["chrA"][400:600] = 5.0
    write_bigwig(OUT / "tiny.dnase.bw", SIZES, dnase)
    pixels = pd.DataFrame({"chrom1": ["chrA", "chrA", "chrA", "chrB"],
                           "start1": [0, 0, 500, 0], "chrom2": ["chrA", "chrA", "chrA", "chrB"],
                           "start2": [0, 500, 1500, 500], "count": [4, 2, 6, 3]})
    write_cool(OUT / "tiny.cool", SIZES, 500, pixels)
    write_bed(OUT / "tiny.bed", pd.DataFrame({
        "chrom": ["chrA", "chrA", "chrB"], "start": [100, 400, 10], "end": [200, 600, 20],
        "name": ["e1", "e2", "e3"], "score": [10, 50, 0], "strand": ["+", "-", "."]}))
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('tiny*')))}")


if __name__ == "__main__":
    main()
