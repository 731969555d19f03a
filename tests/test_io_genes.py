"""Gene tables: TSV/BED/GTF/GFF3 readers, the canonical-transcript TSS rule, errors."""

import gzip

import pandas as pd
import pytest

from seq2exp_cli.errors import InputError
from seq2exp_cli.io.chroms import ChromNames
from seq2exp_cli.io.genes import read_genes, write_genes_tsv, write_gtf

CHROMS = ChromNames({"chr1": 10_000, "chr2": 5_000})


def test_gtf_writer_round_trip(tmp_path):
    genes = pd.DataFrame({"gene_id": ["g1", "g2"], "name": ["A", "B"], "chrom": ["chr1", "2"],
                          "strand": ["+", "-"], "tx_start": [100, 2000], "tx_end": [500, 3000]})
    p = tmp_path / "g.gtf"
    write_gtf(p, genes)
    text = p.read_text()
    assert "chr1\tseq2exp\tgene\t101\t500\t" in text and 'tag "Ensembl_canonical"' in text
    df = read_genes(p, CHROMS)
    assert df.values.tolist() == [["g1", "A", "chr1", 100, "+"], ["g2", "B", "chr2", 2999, "-"]]


GTF = """\
#!genome-build test
chr1\tt\tgene\t101\t900\t.\t+\t.\tgene_id "G1"; gene_name "ONE";
chr1\tt\ttranscript\t101\t900\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; tag "basic";
chr1\tt\ttranscript\t301\t900\t.\t+\t.\tgene_id "G1"; transcript_id "T2"; tag "Ensembl_canonical";
chr1\tt\texon\t301\t400\t.\t+\t.\tgene_id "G1"; transcript_id "T2";
chr1\tt\tgene\t1001\t2000\t.\t-\t.\tgene_id "G2"; gene_name "TWO";
chr1\tt\ttranscript\t1001\t1800\t.\t-\t.\tgene_id "G2"; transcript_id "T3";
chr1\tt\ttranscript\t1201\t1900\t.\t-\t.\tgene_id "G3"; transcript_id "T4"; gene_name "THREE";
chr1\tt\ttranscript\t1101\t1950\t.\t-\t.\tgene_id "G3"; transcript_id "T5"; tag "MANE_Select";
chr1\tt\ttranscript\t3001\t3100\t.\t+\t.\tgene_id "G4"; transcript_id "T6";
chr1\tt\ttranscript\t2901\t3100\t.\t+\t.\tgene_id "G4"; transcript_id "T7";
"""


def test_gtf_tss_rule(tmp_path):
    p = tmp_path / "a.gtf.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(GTF)
    df = read_genes(p).set_index("gene_id")
    assert df.loc["G1", "tss"] == 300  # Ensembl_canonical transcript start (1-based 301)
    assert df.loc["G2", "tss"] == 1999  # gene's own 5' end on '-'
    assert df.loc["G3", "tss"] == 1949  # MANE_Select transcript end - 1
    assert df.loc["G4", "tss"] == 2900  # most upstream transcript, no gene line
    assert df.loc["G1", "name"] == "ONE" and df.loc["G4", "name"] == "G4"


def test_gff3(tmp_path):
    p = tmp_path / "a.gff3"
    p.write_text(
        "##gff-version 3\n"
        "1\tens\tgene\t11\t500\t.\t-\t.\tID=gene:E1;Name=AAA;biotype=protein_coding\n"
        "1\tens\tmRNA\t11\t450\t.\t-\t.\tID=transcript:X1;Parent=gene:E1;Name=AAA-201;"
        "tag=basic,Ensembl_canonical\n"
        "1\tens\texon\t11\t450\t.\t-\t.\tParent=transcript:X1\n"
        "2\tens\tncRNA_gene\t21\t40\t.\t+\t.\tID=gene:E2\n")
    df = read_genes(p, CHROMS)
    assert df.values.tolist() == [["E1", "AAA", "chr1", 449, "-"], ["E2", "E2", "chr2", 20, "+"]]


def test_tsv_aliases_and_bed(tmp_path):
    p = tmp_path / "g.tsv"
    p.write_text("Gene_ID\tchr\tTSS\tstrand\tsymbol\textra\ng1\t1\t5\t+\tS1\t0.5\n")
    df = read_genes(p, CHROMS)
    assert df.iloc[0].tolist() == ["g1", "S1", "chr1", 5, "+", 0.5]
    out = tmp_path / "o.tsv"
    write_genes_tsv(out, df)
    pd.testing.assert_frame_equal(read_genes(out), df)
    b = tmp_path / "g.bed"
    b.write_text("chr1\t10\t20\tgA\t0\t+\nchr2\t10\t20\tgB\t0\t-\n")
    assert read_genes(b)["tss"].tolist() == [10, 19]


@pytest.mark.parametrize("body,match", [
    ("gene_id\tchrom\ttss\tstrand\ng1\tchr1\t5\t*\n", "line 2.*strand"),
    ("gene_id\tchrom\ttss\tstrand\ng1\tchr1\t5\t+\ng1\tchr1\t6\t+\n", "'g1'.*more than once"),
    ("gene_id\tchrom\ttss\tstrand\ng1\tchr1\t10000\t+\n", "g1.*10000.*chr1.*10000 bp"),
    ("gene_id\tchrom\ttss\tstrand\ng1\tchr9\t1\t+\n", "chr9"),
    ("gene_id\tchrom\tstrand\ng1\tchr1\t+\n", "no 'tss' column"),
    ("gene_id\tchrom\ttss\tstrand\n", "no genes"),
    ("", "empty"),
])
def test_table_errors(tmp_path, body, match):
    p = tmp_path / "g.tsv"
    p.write_text(body)
    with pytest.raises(InputError, match=match):
        read_genes(p, CHROMS)


def test_missing_file_and_gtf_strand(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_genes(tmp_path / "x.tsv")
    p = tmp_path / "a.gtf"
    p.write_text('#c\nchr1\tt\tgene\t1\t9\t.\t?\t.\tgene_id "G1";\n')
    with pytest.raises(InputError, match="line 2.*strand"):
        read_genes(p)
