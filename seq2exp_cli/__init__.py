"""seq2exp: learn regulatory elements and predict gene expression (Seq2Exp, ICLR 2025).

The package is a library first; the ``seq2exp`` command is a thin layer over it.

- ``seq2exp_cli.io``: every file format (FASTA, genes, targets, bigWig, Hi-C, BED).
- ``seq2exp_cli.store``: the preprocessed dataset store and its window API.
- ``seq2exp_cli.simulate``: a synthetic cell type written in real file formats.
- ``seq2exp_cli.models``: selective scan, Mamba, Caduceus and the Seq2Exp mask model.
"""

__version__ = "0.1.0"
