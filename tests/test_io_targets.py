"""Target tables: parsing, feature columns, errors, transform."""

import numpy as np
import pytest

from seq2exp_cli.errors import InputError
from seq2exp_cli.io.targets import (
    FEATURE_COLUMNS,
    inverse_transform_target,
    read_targets,
    transform_target,
)


def test_read_targets_with_features(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("gene_id\tvalue\tpromoter_activity\tnote\n"
                 "g1\t0\t1.5\tx\ng2\t99\t2\ty\n")
    df = read_targets(p, gene_ids=["g2", "g3"])
    assert df["gene_id"].tolist() == ["g1", "g2"]
    assert df["value"].tolist() == [0.0, 99.0]
    assert df["promoter_activity"].tolist() == [1.5, 2.0]
    assert "note" not in df
    assert len(FEATURE_COLUMNS) == 9 and "promoter_activity" in FEATURE_COLUMNS


def test_csv_aliases(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("gene,cage\na,3\nb,4\n")
    assert read_targets(p)["value"].tolist() == [3.0, 4.0]


@pytest.mark.parametrize("body,match", [
    ("gene_id\tvalue\ng1\tabc\n", "line 2"),
    ("gene_id\tvalue\ng1\t1\ng2\t-1\n", "line 3.*negative"),
    ("gene_id\tvalue\ng1\t1\ng1\t2\n", "g1.*more than once"),
    ("gene_id\tscore\ng1\t1\n", "value"),
])
def test_errors(tmp_path, body, match):
    p = tmp_path / "t.tsv"
    p.write_text(body)
    with pytest.raises(InputError, match=match):
        read_targets(p)


def test_no_matching_ids(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("gene_id\tvalue\nx1\t1\n")
    with pytest.raises(InputError, match="wrong file"):
        read_targets(p, gene_ids=["g1", "g2"])
    with pytest.raises(InputError, match="not found"):
        read_targets(tmp_path / "missing.tsv")


def test_transform_round_trip():
    x = np.array([0.0, 9.0, 99.0, 12345.6])
    np.testing.assert_allclose(transform_target(x), [0.0, 1.0, 2.0, np.log10(12346.6)])
    np.testing.assert_allclose(inverse_transform_target(transform_target(x)), x)
