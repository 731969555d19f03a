"""Every input and output file format of seq2exp: readers and writers.

FASTA genomes (:mod:`.fasta`), gene/TSS tables (:mod:`.genes`), per-gene targets
(:mod:`.targets`), bigWig/bedGraph signals (:mod:`.bigwig`), Hi-C maps (:mod:`.hic`),
BED/narrowPeak/blacklists (:mod:`.bed`), chromosome sizes (:mod:`.chroms`) and CRISPRi
benchmark tables (:mod:`.crispri`).  Coordinates are 0-based half-open bp throughout;
models and training never open files themselves.  The contact maths on a Hi-C map is in
:mod:`seq2exp_cli.contacts`.
"""

from .atomic import atomic_dir, atomic_path, write_text_atomic
from .bed import (
                  intervals_to_mask,
                  read_bed,
                  read_blacklist,
                  read_interval_table,
                  read_narrowpeak,
                  read_peaks,
                  sort_intervals,
                  write_bed,
)
from .bigwig import BigWigTrack, write_bedgraph, write_bigwig
from .chroms import ChromNames, read_chrom_sizes
from .crispri import read_crispri
from .fasta import SEQ_CODES, Genome, decode, encode, onehot, reverse_complement_codes, write_fasta
from .genes import read_genes, write_genes_tsv, write_gtf
from .hic import ContactSource, open_contacts, write_cool, write_hic
from .targets import FEATURE_COLUMNS, inverse_transform_target, read_targets, transform_target

__all__ = [
                  "FEATURE_COLUMNS",
                  "SEQ_CODES",
                  "BigWigTrack",
                  "ChromNames",
                  "ContactSource",
                  "Genome",
                  "atomic_dir",
                  "atomic_path",
                  "decode",
                  "encode",
                  "intervals_to_mask",
                  "inverse_transform_target",
                  "onehot",
                  "open_contacts",
                  "read_bed",
                  "read_blacklist",
                  "read_chrom_sizes",
                  "read_crispri",
                  "read_genes",
                  "read_interval_table",
                  "read_narrowpeak",
                  "read_peaks",
                  "read_targets",
                  "reverse_complement_codes",
                  "sort_intervals",
                  "transform_target",
                  "write_bed",
                  "write_bedgraph",
                  "write_bigwig",
                  "write_cool",
                  "write_fasta",
                  "write_genes_tsv",
                  "write_gtf",
                  "write_hic",
                  "write_text_atomic",
]
