"""The Snakemake workflow, run for real on two tiny simulated cell types.

Two samples from ``simulate --preset ci`` (seeds 1 and 2), each cut to 12 genes (two per
chromosome) to keep CI short: A with the bundled model and its planted truth, B trained
for 5 steps with no Hi-C (ABC's power law).  ``shards: 2`` scatters predict and
call-elements.  The test kills a first ``snakemake --cores 2`` while B trains (no output
may be partial, B's run folder must not exist), reruns it to the end, checks every
per-sample output and the summary, compares A's gathered outputs with the unsharded
commands byte for byte, and asks ``snakemake --dry-run`` (local and SLURM profiles) for
nothing to do.  Needs the ``[workflow]`` extra; ``make test`` (CI) sets
SEQ2EXP_REQUIRE_WORKFLOW=1 so that a missing Snakemake fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

HAVE_SNAKEMAKE = importlib.util.find_spec("snakemake") is not None
if not HAVE_SNAKEMAKE and os.environ.get("SEQ2EXP_REQUIRE_WORKFLOW") == "1":
    raise RuntimeError("snakemake is not installed: pip install -e '.[workflow]' (make setup does)")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HAVE_SNAKEMAKE, reason="needs the [workflow] extra")]

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
       "SEQ2EXP_PROGRESS": "0"}
PNG = b"\x89PNG\r\n\x1a\n"


def _snakemake(wf: Path, *args, check=True, timeout=900):
    r = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=wf, env=ENV,
                       capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def _seq2exp(*args):
    r = subprocess.run([sys.executable, "-m", "seq2exp_cli", *args], env=ENV,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def _small_sample(sim: Path, keep_per_chrom: int = 2) -> Path:
    genes = pd.read_csv(sim / "genes.tsv", sep="\t")
    small = genes.groupby("chrom", sort=False).head(keep_per_chrom)
    small.to_csv(sim / "genes.small.tsv", sep="\t", index=False)
    return sim / "genes.small.tsv"


def _complete(path: Path) -> bool:
    """A file at an output path is whole (the rules write atomically)."""
    data = path.read_bytes()
    if path.suffix == ".png":
        return data.startswith(PNG) and data.rstrip().endswith(b"IEND\xaeB`\x82")
    if path.suffix == ".bw":
        import pyBigWig

        fh = pyBigWig.open(str(path))
        ok = fh is not None and bool(fh.chroms())
        fh.close()
        return ok
    if path.suffix in (".tsv", ".bed", ".md", ".narrowPeak"):
        return data.endswith(b"\n")
    return True


def _final_files(results: Path) -> list[Path]:
    """Files at final paths: not logs, not hidden work folders, not inside stores/runs."""
    out = []
    for p in results.rglob("*"):
        rel = p.relative_to(results).parts
        if p.is_file() and not any(x.startswith(".") for x in rel) and "logs" not in rel \
                and "store" not in rel and "run" not in rel:
            out.append(p)
    return out


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    from seq2exp_cli.simulate import simulate

    root = tmp_path_factory.mktemp("wf")
    for name, seed in (("simA", 1), ("simB", 2)):
        simulate(root / name, preset="ci", seed=seed)
        _small_sample(root / name)
    wf = root / "wf"
    _seq2exp("workflow", "init", str(wf))
    a = root / "simA"
    rows = [
        ["sample", "fasta", "genes", "dnase", "h3k27ac", "hic", "targets", "model", "truth"],
        ["A", a / "genome.fa", a / "genes.small.tsv", a / "dnase.bw", a / "h3k27ac.bw",
         a / "contacts.hic", a / "cage.tsv", "bundled", a / "truth_elements.bed"],
        # relative paths are read from the sheet's folder
        ["B", "../simB/genome.fa", "../simB/genes.small.tsv", "../simB/dnase.bw",
         "../simB/h3k27ac.bw", "-", "../simB/cage.tsv", "train", ""],
    ]
    (wf / "samples.tsv").write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    cfg = (wf / "config.yaml").read_text()
    cfg = cfg.replace("shards: 1", "shards: 2").replace("steps: null", "steps: 5")
    (wf / "config.yaml").write_text(cfg)
    return wf


def test_two_samples_kill_rerun_outputs_and_nothing_left_to_do(workflow):
    wf = workflow
    results = wf / "results"
    # 1. a first run, killed (SIGKILL, the whole process group) while B trains
    first = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2"], cwd=wf, env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 600 and first.poll() is None:
        if list((results / "B").glob(".run.*.partial")):
            break
        time.sleep(0.2)
    killed_running = first.poll() is None
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert killed_running, "the first run ended before B's training started"
    assert not (results / "B" / "run").exists()  # a killed train leaves no run folder
    for p in _final_files(results):
        assert _complete(p), f"{p} is partial after the kill"

    # 2. rerun to the end (local profile: --rerun-incomplete), timed for docs/workflow.md;
    # a killed Snakemake leaves its lock: --unlock first, as docs/workflow.md says
    _snakemake(wf, "--unlock", "--cores", "1")
    t0 = time.monotonic()
    _snakemake(wf, "--profile", "profiles/local", "--cores", "2")
    wall = time.monotonic() - t0
    print(f"\nworkflow rerun after the kill: {wall:.1f} s wall", file=sys.stderr)

    # 3. every per-sample output
    for s in ("A", "B"):
        d = results / s
        pred = pd.read_csv(d / "predictions.tsv", sep="\t")
        assert len(pred) == 12 and list(pred.columns[:6]) == [
            "gene_id", "name", "chrom", "tss", "strand", "prediction"]
        bed = (d / "elements.bed").read_text().splitlines()
        assert bed[0].startswith("#chrom\tstart\tend") and len(bed) > 1
        ev = pd.read_csv(d / "evaluation.tsv", sep="\t")
        assert {"train", "val", "test", "all"} <= set(ev["split"])
        cmp = pd.read_csv(d / "compare_peaks.tsv", sep="\t")
        assert ((cmp["method"] == "MACS3") & (cmp["metric"] == "coverage")).any()
        for png in ("locus.png", "predicted_vs_measured.png"):
            assert _complete(d / "plots" / png)
        assert _complete(d / "mask.bw") and (d / "evaluation.md").exists()
        # the shards' outputs are temporary: gone once gathered
        assert not [p for p in d.glob("shards/*") if p.is_file()]
    assert _complete(results / "B" / "plots" / "training.png")
    assert (results / "B" / "run" / "best" / "model.safetensors").exists()
    assert not list((results / "B").glob(".run.*.partial"))
    assert not (results / "A" / "plots" / "training.png").exists()  # bundled: nothing trained
    assert (results / "A" / "plots" / "compare_peaks" / "pr_bp.png").exists()  # A has truth

    # 4. the summary lists both samples, with what their outputs say
    summ = pd.read_csv(results / "summary.tsv", sep="\t")
    assert list(summ["sample"]) == ["A", "B"] and list(summ["model"]) == ["bundled", "trained"]
    assert (summ["genes"] == 12).all()
    for s, row in summ.set_index("sample").iterrows():
        bed = [x for x in (results / s / "elements.bed").read_text().splitlines()
               if not x.startswith("#")]
        assert row["elements"] == len(bed)
        ev = pd.read_csv(results / s / "evaluation.tsv", sep="\t").set_index("split")
        assert row["test_pearson"] == pytest.approx(ev.loc["test", "pearson"], rel=1e-5)
        assert 0 < row["coverage"] < 1 and 0 < row["peak_coverage"] <= 1
    assert summ.set_index("sample")["bp_auprc"].notna().tolist() == [True, False]
    # call-links (when this seq2exp has it) for the models that score links: B's training
    # (the cpu presets' additive readout); A's bundled model only if its readout is additive
    from seq2exp_cli.workflow.commands import has_command
    from seq2exp_cli.workflow.samples import read_samples

    links = {s.name: has_command("call-links") and (s.trains or s.readout == "additive")
             for s in read_samples(wf / "samples.tsv")}
    for s, row in summ.set_index("sample").iterrows():
        tsv = results / s / "links.tsv"
        assert tsv.exists() == links[s] == (results / s / "links.bedpe").exists()
        if links[s]:
            head = tsv.read_text().splitlines()[0].split("\t")
            assert head[:3] == ["chr", "start", "end"] and "TargetGene" in head  # ENCODE layout
            assert row["links"] == len(tsv.read_text().splitlines()) - 1
        else:
            assert pd.isna(row["links"])
    md = (results / "summary.md").read_text()
    assert "| A | bundled |" in md and "| B | trained |" in md

    # 5. A's gathered shards equal the unsharded commands byte for byte (bundled model)
    a = results / "A"
    _seq2exp("predict", "--store", str(a / "store"), "--device", "cpu", "-o", str(wf / "p.tsv"))
    _seq2exp("call-elements", "--store", str(a / "store"), "--device", "cpu",
             "-o", str(wf / "e.bed"), "--bigwig", str(wf / "m.bw"))
    assert (wf / "p.tsv").read_bytes() == (a / "predictions.tsv").read_bytes()
    assert (wf / "e.bed").read_bytes() == (a / "elements.bed").read_bytes()
    assert (wf / "m.bw").read_bytes() == (a / "mask.bw").read_bytes()

    # 6. nothing changed: nothing to do (plain, local profile, SLURM profile)
    for args in ([], ["--profile", "profiles/local"], ["--profile", "profiles/slurm"]):
        r = _snakemake(wf, "--dry-run", "--cores", "2", *args)
        assert "Nothing to be done" in r.stdout + r.stderr, (args, r.stdout[-2000:])


@pytest.mark.parametrize("sheet,config,needle", [
    ("sample\tfasta\tgenes\tdnase\th3k27ac\thic\ttargets\nA\tg.fa\tg.tsv\t-\t-\t-\t-\n", {},
     "bad.tsv: line 1: missing column 'model'"),
    (None, {"shards": 0}, "config.yaml: shards: '0' is not a whole number >= 1"),
    (None, {"call_links": "maybe"}, "config.yaml: call_links: 'maybe' is not auto, true or false"),
])
def test_bad_sheet_or_config_is_one_line_exit_2(workflow, tmp_path, sheet, config, needle):
    args = ["--dry-run", "--cores", "1"]
    if sheet is not None:
        (tmp_path / "bad.tsv").write_text(sheet)
        args += ["--config", f"samples={tmp_path / 'bad.tsv'}"]
    for k, v in config.items():
        args += ["--config", f"{k}={v}"]
    r = _snakemake(workflow, *args, check=False)
    assert r.returncode == 2, r.stderr[-2000:]
    err = [x for x in r.stderr.splitlines() if x.startswith("seq2exp workflow: error:")]
    assert len(err) == 1 and needle in err[0], r.stderr[-2000:]
