"""Hi-C writers/readers (cooler, hicstraw) with planted contacts, and ABC profiles.

Planted map (5 kb bins, chr1 = 60 kb = 12 bins, chr2 = 23 kb = 5 bins)::

    chr1 bins  (0,1)=3  (2,2)=5  (2,3)=4  (1,2)=6  (2,6)=2  (4,6)=1 (upper triangle)
    chr2 bins  (0,4)=7  (1,1)=9
"""

import cooler
import hicstraw
import numpy as np
import pandas as pd
import pytest

from seq2exp_cli.errors import InputError
from seq2exp_cli.io.chroms import ChromNames
from seq2exp_cli.contacts import (
    abc_powerlaw,
    contact_profile,
    expand_profile,
    powerlaw_contact,
    profile_bins,
    self_contact,
)
from seq2exp_cli.io.hic import open_contacts, write_cool, write_hic

RES = 5000
SIZES = {"chr1": 60_000, "chr2": 23_000}
PLANT = [("chr1", 0, 1, 3), ("chr1", 2, 2, 5), ("chr1", 3, 2, 4), ("chr1", 1, 2, 6),
         ("chr1", 2, 6, 2), ("chr1", 4, 6, 1), ("chr2", 0, 4, 7), ("chr2", 1, 1, 9)]


def _dense(chrom):
    n = -(-SIZES[chrom] // RES)
    m = np.zeros((n, n))
    for c, i, j, v in PLANT:
        if c == chrom:
            m[i, j] = m[j, i] = v
    return m


def _pixels():
    return pd.DataFrame({"chrom1": [p[0] for p in PLANT], "start1": [p[1] * RES + 17 for p in PLANT],
                         "chrom2": [p[0] for p in PLANT], "start2": [p[2] * RES for p in PLANT],
                         "count": [p[3] for p in PLANT]})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hic")
    write_cool(d / "a.cool", SIZES, RES, _pixels(),
               weights={"weight": np.linspace(0.5, 2.0, 17)})
    write_hic(d / "a.hic", SIZES, [RES, 2 * RES], _pixels())
    return d


def test_written_files_hold_planted_values(files):
    clr = cooler.Cooler(str(files / "a.cool"))
    np.testing.assert_array_equal(clr.matrix(balance=False).fetch("chr1"), _dense("chr1"))
    hic = hicstraw.HiCFile(str(files / "a.hic"))
    assert sorted(hic.getResolutions()) == [RES, 2 * RES]
    mzd = hic.getMatrixZoomData("chr2", "chr2", "observed", "NONE", "BP", RES)
    np.testing.assert_array_equal(mzd.getRecordsAsMatrix(0, 20000, 0, 20000), _dense("chr2"))


@pytest.mark.parametrize("name", ["a.cool", "a.hic"])
def test_source_rows_match_planted(files, name):
    src = open_contacts(files / name, RES, "NONE", chroms=ChromNames({"1": 60_000, "2": 23_000}))
    dense = _dense("chr1")
    np.testing.assert_array_equal(src.row("1", 2 * RES + 10, -10_000, 70_000),
                                  np.r_[0, 0, dense[2], 0, 0])
    np.testing.assert_array_equal(src.row("1", 6 * RES, 0, 60_000), dense[6])
    np.testing.assert_array_equal(src.matrix("2", 0, 5, 0, 5), _dense("chr2"))


def test_cool_balance_and_computed_vc(files):
    w = np.linspace(0.5, 2.0, 17)[:12]
    src = open_contacts(files / "a.cool", RES, "KR")
    np.testing.assert_allclose(src.matrix("chr1", 0, 12, 0, 12), _dense("chr1") * np.outer(w, w))
    dense = _dense("chr1")
    v = dense.sum(1) / dense.sum(1)[dense.sum(1) > 0].mean()
    expect = np.divide(dense, np.outer(v, v), out=np.zeros_like(dense), where=np.outer(v, v) > 0)
    for name in ("a.cool", "a.hic"):
        vc = open_contacts(files / name, RES, "VC")
        np.testing.assert_allclose(vc.matrix("chr1", 0, 12, 0, 12), expect)


def test_contact_profile_hand_computed(files):
    tss = 2 * RES + 100
    row = _dense("chr1")[2].copy()
    row[2] = max(row[1], row[3])  # diagonal -> max neighbour (6)
    row /= row.sum()
    b_lo, b_hi = profile_bins(tss, 40_000, RES)
    assert (b_lo, b_hi) == (-2, 7)
    bins = np.arange(b_lo, b_hi)
    dist = np.abs((bins + 0.5) * RES - tss)
    pseudo = np.minimum(powerlaw_contact(dist), powerlaw_contact(1_000_000))
    expect = np.where(bins >= 0, np.r_[0, 0, row[:7]] + pseudo, 0)
    for name in ("a.cool", "a.hic"):
        src = open_contacts(files / name, RES, "NONE")
        prof = contact_profile(src, "chr1", tss, window=40_000)
        np.testing.assert_allclose(prof, expect, rtol=1e-6)
        assert self_contact(src, "chr1", tss) == pytest.approx(6 / 18)
    per_bp = expand_profile(prof, tss, 40_000, RES)
    assert per_bp.shape == (40_000,)
    assert per_bp[20_000] == prof[2 - b_lo] and per_bp[0] == prof[0]


def test_powerlaw_fallback():
    assert abc_powerlaw(0) == pytest.approx(np.exp(5.96 - 1.024 * np.log(5001)))
    assert abc_powerlaw(20_000) == pytest.approx(np.exp(5.96 - 1.024 * np.log(20_001)))
    prof = contact_profile(None, "chrA", 1000, window=20_000, chrom_size=12_000)
    bins = np.arange(*profile_bins(1000, 20_000, RES))
    np.testing.assert_allclose(prof, np.where((bins >= 0) & (bins < 3),
                                              abc_powerlaw(np.abs((bins + .5) * RES - 1000)), 0),
                               rtol=1e-6)


def test_errors(files, tmp_path):
    with pytest.raises(InputError, match="available: 5000, 10000"):
        open_contacts(files / "a.hic", 2000)
    with pytest.raises(InputError, match="available: 5000"):
        open_contacts(files / "a.cool", 1000)
    with pytest.raises(InputError, match="SCALE"):
        open_contacts(files / "a.hic", RES, "SCALE")
    for name in ("a.hic", "a.cool"):
        data = (files / name).read_bytes()
        cut = tmp_path / ("cut_" + name)
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError, match="cut_"):
            open_contacts(cut, RES, "NONE")
    with pytest.raises(InputError, match="not found"):
        open_contacts(tmp_path / "missing.hic")


def _with_norm_vectors(src, dst, res, n_bins, norms, value=2.0):
    """Copy a hictkpy-written v9 ``.hic`` (which stores no normalisation) and give it
    normalisation vectors, as the format spec lays them out (HiCFormatV9.md, footer): the
    file ends with ``nNormExpectedValueVectors = 0`` and ``nNormVectors = 0``; they are
    replaced by one normalised expected vector per norm, an index of one vector per
    (norm, chromosome) at ``res`` bp (each all ``value``), and the vectors themselves; the
    header's normVectorIndexPosition/Length are pointed at the new index."""
    import struct

    def cstr(x):
        return x.encode() + b"\0"

    data = bytearray(src.read_bytes())
    assert data[-8:] == bytes(8)
    head_field = data.index(b"\0", 16) + 1  # after the genome id
    body = data[:-8]
    sec = struct.pack("<i", len(norms))
    for n in norms:
        sec += (cstr(n) + cstr("BP") + struct.pack("<iq3fiif", res, 3, 1.0, 0.5, 0.25, 1, 0, 1.0))
    nvi_pos = len(body) + len(sec)
    entries = [(n, ci + 1, nb) for n in norms for ci, nb in enumerate(n_bins)]  # 0 is "All"
    idx_len = 4 + sum(len(cstr(n)) + 4 + 3 + 4 + 16 for n, _, _ in entries)
    idx, arrays = bytearray(struct.pack("<i", len(entries))), bytearray()
    for n, ci, nb in entries:
        arr = struct.pack("<q", nb) + np.full(nb, value, np.float32).tobytes()
        idx += cstr(n) + struct.pack("<i", ci) + cstr("BP") + struct.pack(
            "<iqq", res, nvi_pos + idx_len + len(arrays), len(arr))
        arrays += arr
    assert len(idx) == idx_len
    out = body + sec + idx + arrays
    out[head_field:head_field + 16] = struct.pack("<qq", nvi_pos, idx_len)
    dst.write_bytes(bytes(out))


def test_normalisation_list_read_from_the_footer(files, tmp_path):
    """hic_normalizations walks the footer itself; hictkpy (the writer's library) is the
    independent reader it must agree with, on a file without and with norm vectors."""
    import json
    import subprocess
    import sys

    from seq2exp_cli.io.hic_sources import hic_normalizations

    n_bins = [-(-SIZES[c] // RES) for c in SIZES]
    _with_norm_vectors(files / "a.hic", tmp_path / "kr.hic", RES, n_bins, ["KR", "SCALE"])
    cases = [(str(p), r) for p in (files / "a.hic", tmp_path / "kr.hic") for r in (RES, 2 * RES)]
    # hictkpy in a process of its own: its import leaves a thread spinning on a core
    code = ("import json, sys, hictkpy\n"
            "print(json.dumps([[str(n).upper() for n in hictkpy.File(p, r).avail_normalizations()]"
            " for p, r in json.loads(sys.argv[1])]))")
    r = subprocess.run([sys.executable, "-c", code, json.dumps(cases)], capture_output=True,
                       text=True, check=True)
    for (path, res), want in zip(cases, json.loads(r.stdout)):
        assert hic_normalizations(path, res) == want
    assert hic_normalizations(tmp_path / "kr.hic", RES) == ["KR", "SCALE"]
    assert hic_normalizations(files / "a.cool", RES) is None
    # a stored KR is read as stored (all 2.0: counts / 4), not refused or recomputed
    src = open_contacts(tmp_path / "kr.hic", RES, "KR")
    assert not src.computed_vc
    np.testing.assert_allclose(src.matrix("chr1", 0, 12, 0, 12), _dense("chr1") / 4)
    with pytest.raises(InputError, match="available: NONE, KR, SCALE"):
        open_contacts(tmp_path / "kr.hic", RES, "VC_SQRT")


def test_reading_and_writing_hic_never_import_hictkpy(files):
    """hictkpy starts a thread that keeps a core busy: reading never imports it, and
    writing runs it in a child process (seq2exp_cli/io/_hic_writer.py)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from seq2exp_cli.io.hic import open_contacts\n"
        f"src = open_contacts({str(files / 'a.hic')!r}, {RES}, 'VC')\n"
        "src.row('chr1', 10_000, 0, 60_000)\n"
        "assert src.computed_vc\n"
        "print('hictkpy' in sys.modules)\n"
        "from seq2exp_cli.io.hic import write_hic\n"
        "import pandas as pd\n"
        f"write_hic({str(files / 'b.hic')!r}, {{'chr1': 60_000}}, [{RES}], pd.DataFrame({{"
        "'chrom1': ['chr1'], 'start1': [0], 'chrom2': ['chr1'], 'start2': [0], 'count': [1]}))\n"
        "print('hictkpy' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
    from seq2exp_cli.io.hic import open_contacts

    assert open_contacts(files / "b.hic", RES, "VC").row("chr1", 0, 0, 10_000).sum() > 0
