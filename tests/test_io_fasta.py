"""FASTA encoding and Genome access, checked against pyfaidx and hand-made sequences."""

import numpy as np
import pyfaidx
import pytest

from seq2exp_cli.errors import InputError
from seq2exp_cli.io.fasta import (
    Genome,
    decode,
    encode,
    onehot,
    reverse_complement_codes,
    write_fasta,
)


def test_encode_codes_and_soft_masking():
    assert encode("ACGTNacgtnRY-").tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 4, 4]
    assert encode(b"GgT").tolist() == [2, 2, 3]
    assert encode(np.frombuffer(b"tA", dtype=np.uint8)).tolist() == [3, 0]


def test_onehot_and_reverse_complement():
    oh = onehot(encode("ACGTN"))
    assert oh.shape == (5, 4) and oh.dtype == np.float32
    np.testing.assert_array_equal(oh[:4], np.eye(4, dtype=np.float32))
    assert oh[4].sum() == 0
    assert decode(reverse_complement_codes(encode("AACGTN"))) == "NACGTT"
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, 1000).astype(np.uint8)
    np.testing.assert_array_equal(reverse_complement_codes(reverse_complement_codes(codes)),
                                  codes)


def test_genome_round_trip_padding_and_alias(tmp_path):
    rng = np.random.default_rng(1)
    seq1 = "".join(rng.choice(list("ACGTacgtN"), 1234))
    seq2 = "ggccAATTNN"
    fa = tmp_path / "g.fa"
    write_fasta(fa, {"chr1": seq1, "chrM": seq2}, line_width=50)
    assert (tmp_path / "g.fa.fai").is_file()
    ref = pyfaidx.Fasta(str(fa), sequence_always_upper=True)
    g = Genome(fa)
    assert g.chroms.sizes == {"chr1": 1234, "chrM": 10}
    np.testing.assert_array_equal(g.chrom_codes("1"), encode(str(ref["chr1"][:])))
    got = g.fetch_codes("chr1", 100, 250)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, encode(str(ref["chr1"][100:250])))
    padded = g.fetch_codes("MT", -3, 13)
    assert padded.tolist() == [4, 4, 4] + encode(seq2).tolist() + [4, 4, 4]
    assert g.soft_masked_fraction("chrM") == pytest.approx(0.4)
    with pytest.raises(InputError, match="chr7"):
        g.fetch_codes("chr7", 0, 10)


def test_genome_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.fa"):
        Genome(tmp_path / "nope.fa")
