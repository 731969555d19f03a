"""The seq2exp command line of each workflow step, built from a sample and the config.

The Snakefile's rules call these and run the result; keeping them here keeps the rules
short and lets tests check a command without running Snakemake.  Each returns an argument
list (``shlex.join`` gives the shell line).  Every command is this installation's
``python -m seq2exp_cli``, so jobs (on a cluster node too) run the seq2exp that parsed the
workflow.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .config import args_of
from .samples import Sample


def seq2exp() -> list[str]:
    """Return this installation's ``seq2exp`` command: ``python -m seq2exp_cli``."""
    return [sys.executable, "-m", "seq2exp_cli"]


def has_command(name: str) -> bool:
    """Tell whether the installed seq2exp has subcommand ``name``.

    It has it when ``seq2exp NAME --help`` exits with 0.
    """
    r = subprocess.run([*seq2exp(), name, "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={**os.environ, "SEQ2EXP_PROGRESS": "0"})
    return r.returncode == 0


def _opt(flag: str, value) -> list[str]:
    return [] if value is None else [flag, str(value)]


def preprocess(s: Sample, store: str, cfg: dict) -> list[str]:
    """``seq2exp preprocess STORE`` from the sample's raw files."""
    return [*seq2exp(), "preprocess", store, "--force", "--fasta", str(s.fasta),
            "--genes", str(s.genes), *_opt("--h3k27ac", s.h3k27ac), *_opt("--dnase", s.dnase),
            *_opt("--hic", s.hic), *_opt("--targets", s.targets),
            *_opt("--blacklist", s.blacklist), *args_of(cfg, "preprocess_args")]


def train(s: Sample, store: str, cfg: dict) -> list[str]:
    """``seq2exp train STORE``, without ``-o``.

    On the CPU, one GPU, or with ``torchrun`` over ``s.gpus`` GPUs of one node
    (DistributedDataParallel, one process per GPU).
    """
    t = cfg["train"]
    opts = ["train", store, "--preset", str(t["preset"]), *_opt("--steps", t["steps"]),
            "--device", "cuda" if s.gpus else "cpu", *args_of(cfg, "train.args")]
    if s.gpus > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", str(s.gpus), "-m", "seq2exp_cli", *opts]
    return [*seq2exp(), *opts]


def _shard(shard: str | None) -> list[str]:
    return [] if shard is None else ["--shard", shard]


def predict(store: str, model: str, cfg: dict, out: str, shard: str | None = None) -> list[str]:
    """``seq2exp predict --store STORE --model MODEL --workers 1 -o OUT [--shard I/N]``.

    One worker: the rule holds one thread, and the workflow splits genomes by ``--shard``.
    """
    return [*seq2exp(), "predict", "--store", store, "--model", model,
            "--device", str(cfg["device"]), "--workers", "1", *_shard(shard), "-o", out]


def call_elements(store: str, model: str, cfg: dict, bed: str, bigwig: str,
                  shard: str | None = None) -> list[str]:
    """``seq2exp call-elements ... --workers 1 -o BED --bigwig BW [--shard I/N]``."""
    return [*seq2exp(), "call-elements", "--store", store, "--model", model,
            "--device", str(cfg["device"]), "--workers", "1", *args_of(cfg, "call_elements_args"),
            *_shard(shard), "-o", bed, "--bigwig", bigwig]


def call_links(s: Sample, store: str, model: str, cfg: dict, tsv: str,
               bedpe: str) -> list[str]:
    """``seq2exp call-links ... -o LINKS.tsv --bedpe LINKS.bedpe``, CellType = the sample."""
    return [*seq2exp(), "call-links", "--store", store, "--model", model,
            "--device", str(cfg["device"]), "--cell-type", s.name,
            *args_of(cfg, "call_links_args"), "-o", tsv, "--bedpe", bedpe]


def makes_links(s: Sample) -> bool:
    """Tell whether a sample's model scores element-gene links.

    A given model does when its readout is additive; a model the workflow trains is taken
    to (the cpu presets' readout), and ``call-links`` says so in its log otherwise.
    """
    return s.trains or s.readout == "additive"


def evaluate(predictions: str, store: str, prefix: str, plot: str) -> list[str]:
    """``seq2exp evaluate PRED --store STORE -o PREFIX --plot PNG``."""
    return [*seq2exp(), "evaluate", predictions, "--store", store, "-o", prefix, "--plot", plot]


def compare_peaks(s: Sample, elements: str, store: str, cfg: dict, prefix: str,
                  plot_dir: str | None, links: str | None = None) -> list[str]:
    """``seq2exp compare-peaks`` of a sample's elements.

    Against the sample's peaks, or MACS3 peaks called on its DNase; with its truth and
    CRISPRi table when given, and ``links`` (of ``call-links``) scored against that table.
    """
    peaks = ["--peaks", str(s.peaks)] if s.peaks else ["--call-peaks", "--dnase", str(s.dnase)]
    return [*seq2exp(), "compare-peaks", "--elements", elements, "--store", store,
            "--split", str(cfg["compare_peaks_split"]), *peaks, *_opt("--truth", s.truth),
            *_opt("--crispri", s.crispri),
            *(_opt("--links", links) if s.crispri else []),
            *_opt("--plot-dir", plot_dir), "-o", prefix]


def compares_peaks(s: Sample) -> bool:
    """compare-peaks runs when there are peaks to compare with (given, or called on DNase)."""
    return s.peaks is not None or s.dnase is not None


def plot_locus(s: Sample, store: str, model: str, cfg: dict, out: str) -> list[str]:
    """``seq2exp plot-locus GENE`` without the gene (the rule appends it)."""
    return [*seq2exp(), "plot-locus", "--store", store, "--model", model,
            "--device", str(cfg["device"]), *_opt("--peaks", s.peaks), *_opt("--truth", s.truth),
            "-o", out]


def plot_training(run: str, out: str) -> list[str]:
    """``seq2exp plot-training RUN -o PNG``."""
    return [*seq2exp(), "plot-training", run, "-o", out]


def top_gene(predictions: str | os.PathLike) -> str:
    """gene_id of the highest prediction in a ``seq2exp predict`` TSV."""
    import pandas as pd

    df = pd.read_csv(predictions, sep="\t")
    if df.empty:
        from ..errors import InputError

        raise InputError(f"{predictions}: no genes predicted; nothing to plot")
    return str(df.loc[df["prediction"].idxmax(), "gene_id"])


def train_into(cmd: list[str], store: str | os.PathLike, out: str | os.PathLike,
               log: str | os.PathLike, threads: int = 1) -> None:
    """Run ``cmd -o WORK`` and move WORK onto ``out`` once training has finished.

    WORK (``.{out}.{key}.partial`` beside ``out``) survives a killed job, and the next
    attempt continues it with ``--resume``; ``key`` hashes the command and the store's
    manifest, so a changed config or a rebuilt store starts afresh (other WORK folders of
    ``out`` are removed).  ``out`` only ever appears complete.
    """
    out, store = Path(out), Path(store)
    manifest = store / "manifest.json"
    h = hashlib.sha256("\0".join(cmd).encode())
    if manifest.exists():
        h.update(manifest.read_bytes())
    work = out.with_name(f".{out.name}.{h.hexdigest()[:12]}.partial")
    for old in out.parent.glob(f".{out.name}.*.partial"):
        if old != work:
            shutil.rmtree(old, ignore_errors=True)
    resume = ["--resume"] if work.is_dir() and any(work.iterdir()) else []
    env = {**os.environ, "SEQ2EXP_PROGRESS": "0", "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads)}
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as fh:
        fh.write(f"$ {' '.join([*cmd, '-o', str(work), *resume])}\n")
        fh.flush()
        subprocess.run([*cmd, "-o", str(work), *resume], stdout=fh, stderr=fh, env=env,
                       check=True)
    if out.exists():
        shutil.rmtree(out)
    os.replace(work, out)
