"""``seq2exp igv -o session.xml``: an IGV session of the genome, tracks and learned elements."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import MissingDependencyError, Seq2ExpError
from .options import (DnaseOpt, FastaOpt, GenesOpt, H3k27acOpt, _existing, output_option,
                      writable_output)

READS_INPUTS = True
EXAMPLES = """
seq2exp call-elements --bigwig mask.bw > elements.bed
seq2exp igv -o session.xml --elements elements.bed --mask mask.bw --locus SIM1
igv session.xml                                  # open it in IGV
seq2exp igv -o s.xml --links links.bedpe --truth truth_elements.bed --snapshot sim1.png
"""


def _file(flag: str, text: str):
    return typer.Option(flag, help=text, callback=_existing, show_default=False, metavar="FILE")


def main(
    output: Annotated[Optional[Path], output_option(
        "Session to write (.xml); its derived tracks go to a folder beside it.")] = None,
    elements: Annotated[Optional[Path], _file(
        "--elements", "Learned elements (`seq2exp call-elements` BED6+4).")] = None,
    mask: Annotated[Optional[Path], _file(
        "--mask", "Learned per-bp mask bigWig (`call-elements --bigwig`).")] = None,
    links: Annotated[Optional[Path], _file(
        "--links", "Element-gene links: `call-links --bedpe` BEDPE (drawn as arcs).")] = None,
    peaks: Annotated[Optional[Path], _file("--peaks", "Peaks (narrowPeak or BED).")] = None,
    truth: Annotated[Optional[Path], _file(
        "--truth", "Known elements (truth_elements.bed), coloured by kind.")] = None,
    locus: Annotated[Optional[str], typer.Option(
        "--locus", metavar="GENE|CHROM:START-END", show_default=False,
        help="Where the session opens: a gene (its TSS ± --width/2) or a region.")] = None,
    width: Annotated[int, typer.Option(
        "--width", metavar="BP", help="Width shown around a gene's TSS.")] = 100_000,
    snapshot: Annotated[Optional[Path], typer.Option(
        "--snapshot", metavar="FILE", callback=writable_output, show_default=False,
        help="Also run IGV in batch mode (igv and xvfb-run on PATH) and save the locus as "
        "PNG.")] = None,
    fasta: FastaOpt = None,
    genes: GenesOpt = None,
    dnase: DnaseOpt = None,
    h3k27ac: H3k27acOpt = None,
) -> None:
    """Write an IGV session: genome FASTA, gene models, signal tracks, mask, elements, links.

    Paths inside the session are relative to its folder (move them together).  Elements,
    truth and TSS tables are rewritten as BED9 with a colour per kind (the colours of
    seq2exp's plots) in SESSION_tracks/ beside the session.
    """
    from ..io.igv import write_session
    from .resolve import find_input, resolve_fasta

    if output is None:
        raise Seq2ExpError("no session to write: give -o session.xml")
    genome = resolve_fasta(fasta)
    genes = find_input("genes", genes)
    dnase = find_input("dnase", dnase)
    h3k27ac = find_input("h3k27ac", h3k27ac)
    res = write_session(output, genome, genes=genes, tracks={"dnase": dnase, "h3k27ac": h3k27ac},
                        mask=mask, elements=elements, links=links, peaks=peaks, truth=truth,
                        locus=locus, width=width)
    print(f"seq2exp: wrote IGV session {output} ({len(res.tracks)} tracks; opens at "
          f"{res.locus}); open it with `igv {output}`", file=sys.stderr)
    if snapshot is not None:
        run_snapshot(output, genome, res.locus, snapshot)
        print(f"seq2exp: wrote {snapshot} (IGV batch snapshot)", file=sys.stderr)


def run_snapshot(session: Path, genome: Path, locus: str, png: Path, timeout: int = 300) -> None:
    """Load ``session`` in IGV (batch mode under xvfb-run), go to ``locus``, save ``png``.

    Raises
    ------
    MissingDependencyError
        ``igv`` or ``xvfb-run`` is not on PATH.
    Seq2ExpError
        IGV failed or wrote no picture.
    """
    from ..io.igv import batch_script

    igv, xvfb = shutil.which("igv"), shutil.which("xvfb-run")
    if igv is None or xvfb is None:
        raise MissingDependencyError(
            "--snapshot runs IGV: install it with `apt-get install igv xvfb` (Debian/Ubuntu; "
            "or `WITH_IGV=1 bash scripts/setup.sh` as root)")
    png = Path(png).resolve()
    with tempfile.TemporaryDirectory(prefix="seq2exp-igv-") as tmp:
        home = Path(tmp) / "home"
        (home / "igv").mkdir(parents=True)
        # a private IGV folder whose default genome is ours: no download is tried
        (home / "igv" / "prefs.properties").write_text(f"DEFAULT_GENOME_KEY={Path(genome).resolve()}\n")
        script = Path(tmp) / "batch.txt"
        script.write_text(batch_script(Path(session).resolve(), locus, png))
        env = {"JAVA_TOOL_OPTIONS": f"-Duser.home={home} -Xmx2g", "PATH": os.environ["PATH"],
               "HOME": str(home)}
        r = subprocess.run([xvfb, "-a", igv, "-g", str(Path(genome).resolve()), "-b", str(script)],
                           capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0 or not png.is_file():
        tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
        raise Seq2ExpError(f"IGV wrote no snapshot (exit {r.returncode}): {tail}")
