"""``seq2exp igv``: the session names the genome, the tracks, the mask bigWig, the elements
and the links by paths relative to it, with seq2exp's colours; and it loads in the real IGV
in batch mode (``xvfb-run igv -b``: load the session, go to a gene by name, snapshot), whose
snapshot shows the mask track in the mask's colour.  The IGV half skips only where igv or
xvfb-run is absent (``WITH_IGV=1 bash scripts/setup.sh`` installs them).

Inputs: the bundled example's genome, bigWigs and GTF, with a mask bigWig, an element and
a link written here by hand (pyBigWig, plain text), independently of the model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from seq2exp_cli.colors import COLORS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sim_example"
MASK_RGB = tuple(int(COLORS["mask"][i:i + 2], 16) for i in (1, 3, 5))


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from typer.testing import CliRunner

    from seq2exp_cli.cli import app

    d = tmp_path_factory.mktemp("igv")
    bw = pyBigWig.open(str(d / "mask.bw"), "w")
    bw.addHeader([("chr1", 700_000)])
    vals = np.full(200_000, 0.05, dtype=np.float32)
    vals[40_000:42_000] = 0.9  # the element
    bw.addEntries("chr1", 0, values=vals.tolist(), span=1, step=1)
    bw.close()
    (d / "elements.bed").write_text(
        "#chrom\tstart\tend\tname\tscore\tstrand\tmean_mask\tmax_mask\tgene_id\ttss_distance\n"
        "chr1\t40000\t42000\tSIM1\t900\t-\t0.9\t0.9\tSIMG000001\t-11203\n")
    (d / "links.bedpe").write_text("chr1\t40000\t42000\tchr1\t52203\t52204\tSIM1\t0.8\t.\t-\n")
    out = d / "view" / "session.xml"
    r = CliRunner().invoke(app, [
        "igv", "-o", str(out), "--fasta", str(EXAMPLE / "genome.fa"),
        "--genes", str(EXAMPLE / "genes.gtf"), "--dnase", str(EXAMPLE / "dnase.bw"),
        "--h3k27ac", str(EXAMPLE / "h3k27ac.bw"), "--mask", str(d / "mask.bw"),
        "--elements", str(d / "elements.bed"), "--links", str(d / "links.bedpe"),
        "--truth", str(EXAMPLE / "truth_elements.bed"), "--locus", "SIM1"])
    assert r.exit_code == 0, (r.output, r.exception)
    assert f"wrote IGV session {out}" in r.stderr
    return out


def test_session_names_every_track_relative_to_it(session):
    root = ET.parse(session).getroot()
    folder = session.parent
    assert (folder / root.get("genome")).resolve() == (EXAMPLE / "genome.fa").resolve()
    assert root.get("locus") == "chr1:2204-102203"  # SIM1's TSS 52,203 +- 50 kb
    res = {r.get("name"): r for r in root.iter("Resource")}
    assert set(res) == {"genes", "DNase", "H3K27ac", "learned mask", "seq2exp elements",
                        "truth (by kind)", "learned links"}
    for r in res.values():
        assert not Path(r.get("path")).is_absolute() and (folder / r.get("path")).is_file()
    assert res["learned mask"].get("color") == ",".join(map(str, MASK_RGB))
    truth = (folder / res["truth (by kind)"].get("path")).read_text().splitlines()
    assert truth[0].startswith("track ") and 'itemRgb="On"' in truth[0]
    enh = [ln.split("\t") for ln in truth[1:] if ln.split("\t")[3] == "enhancer"]
    rgb = ",".join(str(int(COLORS["enhancer"][i:i + 2], 16)) for i in (1, 3, 5))
    assert enh and all(len(f) == 9 and f[8] == rgb for f in enh)


@pytest.mark.skipif(shutil.which("igv") is None or shutil.which("xvfb-run") is None,
                    reason="IGV is not installed (apt-get install igv xvfb)")
def test_session_loads_in_igv_batch_mode(session, tmp_path):
    from PIL import Image

    home = tmp_path / "home"
    (home / "igv").mkdir(parents=True)
    genome = (EXAMPLE / "genome.fa").resolve()
    (home / "igv" / "prefs.properties").write_text(f"DEFAULT_GENOME_KEY={genome}\n")
    (tmp_path / "batch.txt").write_text(
        f"load {session}\ngoto SIM1\nsnapshotDirectory {tmp_path}\nsnapshot igv.png\nexit\n")
    env = {**os.environ, "JAVA_TOOL_OPTIONS": f"-Duser.home={home}", "HOME": str(home)}
    r = subprocess.run(["xvfb-run", "-a", "igv", "-g", str(genome), "-b",
                        str(tmp_path / "batch.txt")], capture_output=True, text=True, env=env,
                       timeout=300)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    png = tmp_path / "igv.png"
    assert png.is_file(), log[-3000:]
    for name in ("dnase.bw", "mask.bw", "elements.bed", "links.bedpe", "genes.gtf"):
        assert "Loading resource" in log and name in log, name
    # an unknown name sends IGV to its search web service ("SearchCommand ... error")
    assert "Error loading" not in log and "SearchCommand" not in log
    px = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    assert (px == MASK_RGB).all(axis=1).sum() > 200  # the mask (and element) tracks drawn
