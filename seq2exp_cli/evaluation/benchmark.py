"""``seq2exp benchmark``: the paper's Table 1 and Table 2 on one dataset store.

Layout of ``OUTDIR``::

    runs/<model>/seed<k>/          one training run per model x seed (``seq2exp train``)
    runs/<model>-retrain/seed<k>/  Table 2: predictor on the top ``--top`` of <model>'s mask
    runs/<model>-macs3/seed<k>/    Table 2: predictor on MACS3 peaks at the same sparsity
    runs.tsv                       test metrics of every Table 1 run
    table1.tsv, table1.md          mean and sample sd (n - 1) over seeds, per model
    table2/<model>.mask.bw         the learned mask on the test genes (first seed)
    table2/<model>.elements.bed    its elements (``call-elements``)
    table2/<model>.compare.{tsv,md}  compare-peaks report (MACS3 + truth)
    table2/<model>.plots/pr_bp.png   bp-level PR curves (mask, MACS3, DNase)
    macs3.narrowPeak               MACS3 peaks called on the DNase track
    table2.tsv, table2.md          mask vs MACS3 and the matched-sparsity retraining
    plots/<model>.pred_vs_measured.png  test genes of each model's best seed

A run whose ``best/`` and ``test_metrics.tsv`` exist is finished and never retrained, so
rerunning the command continues where it stopped; an interrupted run is continued from its
last checkpoint with ``resume=True``.  A finished run trained with another configuration
is an error (choose another ``OUTDIR``) rather than silently mixed in.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._device import resolve_device
from ..errors import Seq2ExpError
from ..models.build import preset_for
from ..training.loop import train
from .report import frame_to_markdown, write_table

log = logging.getLogger(__name__)

#: Table 1 models (``seq2exp benchmark --models``): Seq2Exp, its predictor without a mask,
#: and the other systems of the field (:mod:`seq2exp_cli.models.registry`)
MODELS = ("seq2exp-soft", "seq2exp-hard", "caduceus-signals", "caduceus-seq", "epinformer",
          "epiexpr-1d", "epiexpr-3d", "simplechrome", "abc")
#: models with a learned mask (eligible for Table 2)
LEARNED = ("seq2exp-soft", "seq2exp-hard")
#: published K562 figures (method.md "Results to beat", test chromosomes, mean of 5 seeds)
PAPER_K562 = {
    "seq2exp-soft": (0.1856, 0.8723),
    "seq2exp-hard": (0.1863, 0.8682),
    "caduceus-signals": (0.1959, 0.8630),
    "caduceus-seq": (0.2197, 0.8475),
    "epinformer": (0.2140, 0.8473),
}
#: published mask ratio of Seq2Exp-hard and MACS3 coverage on K562 (method.md)
PAPER_K562_SPARSITY = (0.0688, 0.1361)
TABLE1_METRICS = ("mse", "mae", "pearson")


def model_configs(store, model: str, preset: str, seed: int, steps: int | None = None,
                  overrides: dict | None = None, fixed_mask: bool = False,
                  shared_with: Sequence[str] = ()):
    """Build ``(ModelConfig, TrainConfig)`` of one benchmark run, as ``seq2exp train`` does.

    Parameters
    ----------
    store : Store
        An open :class:`~seq2exp_cli.store.Store` (its signals and features are used).
    model : str
        One of :data:`MODELS`.
    preset, steps, overrides
        ``--preset``, ``--steps`` and the ``--set`` fields
        (:func:`seq2exp_cli.models.build.build_configs`).
    fixed_mask : bool
        Build the Table 2 retraining predictor (``mask_source="fixed"``).
    shared_with : sequence of str
        The other models of the benchmark: their fields in ``overrides`` are not errors.
    """
    from ..models.build import ConfigError, build_configs

    if model not in MODELS:
        raise Seq2ExpError(f"--models: unknown model {model!r}; choose from {', '.join(MODELS)}")
    kw = dict(overrides or {})
    names = list(kw.get("signal_names") or store.signal_names)
    try:
        return build_configs(model, preset, signal_names=names,
                             n_gene_features=len(store.feature_names), seed=seed, steps=steps,
                             fixed_mask=fixed_mask, overrides=kw, shared_with=shared_with)
    except ConfigError as exc:
        raise Seq2ExpError(f"--models {model} --preset {preset}: {exc}") from None


def run_finished(run: Path) -> bool:
    """Tell whether ``run`` holds a selected model and its test metrics."""
    return (run / "best").is_dir() and (run / "test_metrics.tsv").is_file()


def _same_config(run: Path, model_cfg, train_cfg) -> str | None:
    """Return the first field where ``run/run.json`` differs from the requested config, or None."""
    try:
        saved = json.loads((run / "run.json").read_text())
    except (OSError, ValueError):
        return None
    want = json.loads(json.dumps({"model": model_cfg.to_dict(), "train": train_cfg.to_dict()}))
    for part in ("model", "train"):
        for key, value in want[part].items():
            if key in ("feature_mean", "feature_scale", "track_scales"):  # filled in by train()
                continue
            if saved.get(part, {}).get(key, value) != value:
                return f"{key}: {saved[part][key]!r} there, {value!r} now"
    return None


def train_run(store_path, run: Path, model_cfg, train_cfg, device, resume: bool,
              show_progress: bool, mask_provider=None, label: str = "") -> bool:
    """Train ``run`` unless finished; return True when training ran."""
    diff = _same_config(run, model_cfg, train_cfg)
    if diff is not None:
        raise Seq2ExpError(f"{run}: trained with another configuration ({diff}); use another "
                           "-o or remove that run")
    if run_finished(run):
        log.info(f"{label}: finished, skipped ({run})")
        return False
    started = run.exists() and any(run.iterdir())
    log.info(f"{label}: {'resuming' if started and resume else 'training'} -> {run}")
    train(store_path, run, model_cfg, train_cfg, device=device, resume=resume and started,
          show_progress=show_progress, mask_provider=mask_provider)
    if not run_finished(run):
        raise Seq2ExpError(f"{run}: training ended without test metrics; check the store's test genes")
    return True


def read_test_metrics(run: Path) -> dict:
    """Return the (single) row of ``run/test_metrics.tsv`` as a dict."""
    t = pd.read_csv(run / "test_metrics.tsv", sep="\t")
    return t.iloc[-1].to_dict()


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Table 1: per model, mean and sample sd (ddof 1.

    NaN for one seed) of the test metrics over seeds.  ``runs`` has columns model, seed, n,
    mse, mae, pearson.
    """
    rows = []
    for model, sub in runs.groupby("model", sort=False):
        row = {"model": model, "n_seeds": len(sub), "n_genes": int(sub["n"].iloc[0])}
        for m in TABLE1_METRICS:
            v = sub[m].to_numpy(np.float64)
            row[f"{m}_mean"] = float(np.mean(v))
            row[f"{m}_sd"] = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _pm(mean: float, sd: float) -> str:
    return f"{mean:.4f}" if not np.isfinite(sd) else f"{mean:.4f} ± {sd:.4f}"


def table1_markdown(t1: pd.DataFrame, store_path, seeds: Sequence[int]) -> str:
    """Table 1 in Markdown, the paper's K562 figures beside ours."""
    show = pd.DataFrame({
        "model": t1["model"], "seeds": t1["n_seeds"], "n_genes": t1["n_genes"],
        "MSE": [_pm(a, b) for a, b in zip(t1["mse_mean"], t1["mse_sd"])],
        "MAE": [_pm(a, b) for a, b in zip(t1["mae_mean"], t1["mae_sd"])],
        "Pearson": [_pm(a, b) for a, b in zip(t1["pearson_mean"], t1["pearson_sd"])],
        "paper K562 MSE": [PAPER_K562.get(m, (np.nan,) * 2)[0] for m in t1["model"]],
        "paper K562 Pearson": [PAPER_K562.get(m, (np.nan,) * 2)[1] for m in t1["model"]],
    })
    return (
        "## Table 1: expression prediction on the test genes\n\n"
        f"Store {store_path}; seeds {', '.join(map(str, seeds))}; mean ± sample sd over seeds "
        "of the test MSE, MAE and Pearson of log10(1 + expression).\n"
        "The `paper K562` columns are the published figures (Seq2Exp, ICLR 2025, Table 1: "
        "K562 CAGE, test chromosomes, mean of 5 seeds): **different data**, for orientation "
        "only, not a like-for-like comparison.\n\n" + frame_to_markdown(show)
    )


# --------------------------------------------------------------------------- Table 2
def _report_values(rep) -> dict:
    t = rep.table()
    return {(m, k): v for m, k, v, s in t[["method", "metric", "value", "scope"]]
            .itertuples(index=False) if s == "overall"}


def table2_row(store, model: str, run: Path, outdir: Path, truth, dnase, h3k27ac, device,
               show_progress: bool) -> dict:
    """Elements of ``run``'s learned mask against MACS3 and the truth on the test genes.

    Mask bigWig + elements, compare-peaks with MACS3 (peaks kept in ``OUTDIR``).
    """
    from ..inference.elements import gene_elements, write_elements
    from ..io.atomic import atomic_path
    from ..models.checkpoint import load_model
    from .compare import compare_peaks_files

    d = outdir / "table2"
    d.mkdir(parents=True, exist_ok=True)
    trained = load_model(run, device=resolve_device(device))
    test = np.flatnonzero(store.genes["split"].to_numpy() == "test")
    log.info(f"Table 2 {model}: calling elements on {len(test)} test genes")
    el = gene_elements(store, trained, indices=test, bigwig=d / f"{model}.mask.bw",
                       progress=show_progress)
    write_elements(el, d / f"{model}.elements.bed")
    log.info(f"Table 2 {model}: compare-peaks with MACS3 on {dnase}")
    prefix = d / f"{model}.compare"
    rep = compare_peaks_files(store=store.path, split="test", mask=d / f"{model}.mask.bw",
                              truth=truth, call_peaks=True, dnase=dnase, h3k27ac=h3k27ac,
                              out_prefix=prefix, plot_dir=d / f"{model}.plots")
    with atomic_path(outdir / "macs3.narrowPeak") as tmp:
        shutil.copyfile(f"{prefix}.macs3.narrowPeak", tmp)
    v = _report_values(rep)
    tm = read_test_metrics(run)
    return {
        "model": model,
        "mask_ratio": float(tm.get("mask_ratio", np.nan)),
        "mask_coverage": v.get(("seq2exp", "coverage"), np.nan),
        "macs3_coverage": v.get(("MACS3", "coverage"), np.nan),
        "auprc_mask": v.get(("seq2exp", "bp_auprc"), np.nan),
        "auprc_macs3": v.get(("MACS3", "bp_auprc"), np.nan),
        "auprc_dnase": v.get(("DNase", "bp_auprc"), np.nan),
        "auprc_random": v.get(("random", "bp_auprc"), np.nan),
        "decoy_fpr_mask": v.get(("seq2exp", "decoy_fpr"), np.nan),
        "decoy_fpr_macs3": v.get(("MACS3", "decoy_fpr"), np.nan),
        "learned_mse": float(tm["mse"]), "learned_pearson": float(tm["pearson"]),
    }


def table2_markdown(t2: pd.DataFrame, top: float) -> str:
    """Table 2 in Markdown: elements vs MACS3, then predictive power at matched sparsity."""
    a = t2[["model", "seed", "mask_ratio", "mask_coverage", "macs3_coverage", "auprc_mask",
            "auprc_macs3", "auprc_dnase", "auprc_random", "decoy_fpr_mask", "decoy_fpr_macs3"]]
    rows = []
    for r in t2.itertuples(index=False):
        rows += [(f"{r.model} (learned mask)", r.learned_mse, r.learned_pearson),
                 (f"{r.model} mask, top {top:.0%}, retrained", r.retrain_mse, r.retrain_pearson),
                 (f"MACS3 peaks, top {top:.0%}, retrained ({r.model} config)", r.macs3_mse,
                  r.macs3_pearson)]
    b = pd.DataFrame(rows, columns=["predictor", "test MSE", "test Pearson"])
    hard, macs = PAPER_K562_SPARSITY
    return (
        "## Table 2: learned elements vs MACS3 peaks (test genes, first seed)\n\n"
        "mask_ratio: the model's mean mask over test windows; mask_coverage / "
        "macs3_coverage: fraction of the evaluated bp (gene windows minus promoters) with "
        "mask >= 0.5 / inside a MACS3 peak (bdgpeakcall on DNase); auprc_*: bp-level AUPRC "
        "against the planted enhancers (random = prevalence); decoy_fpr: fraction of decoys "
        f"overlapped.  Paper (K562, different data): Seq2Exp-hard mask ratio {hard:.2%}, "
        f"MACS3 coverage {macs:.2%}.\n\n" + frame_to_markdown(a)
        + "\n### Matched sparsity: fresh predictors on a fixed mask\n\n"
        f"Each keeps the top {top:.0%} of tokens per window (the promoter is always kept), "
        "same preset, steps and seed as the learned model.\n\n" + frame_to_markdown(b)
    )


# --------------------------------------------------------------------------- driver
@dataclass
class BenchmarkResult:
    """Tables of a benchmark (``table2`` is None without truth and DNase)."""

    runs: pd.DataFrame
    table1: pd.DataFrame
    table2: pd.DataFrame | None
    markdown: str
    trained: int


def _write_md(path: Path, text: str) -> None:
    from ..io.atomic import write_text_atomic

    write_text_atomic(path, text)


def run_benchmark(
    store_path: str | os.PathLike,
    outdir: str | os.PathLike,
    models: Sequence[str] = MODELS,
    seeds: Sequence[int] = (2, 22, 222),
    preset: str = "cpu",
    steps: int | None = None,
    overrides: dict | None = None,
    device: str = "auto",
    truth: str | os.PathLike | None = None,
    dnase: str | os.PathLike | None = None,
    h3k27ac: str | os.PathLike | None = None,
    top: float = 0.10,
    resume: bool = False,
    plots: bool = True,
    show_progress: bool = True,
) -> BenchmarkResult:
    """Train every model x seed, then write Table 1 (and Table 2) into ``outdir``.

    Parameters
    ----------
    store_path:
        Dataset store; its test split must have genes with targets.
    models, seeds:
        Subset of :data:`MODELS`; random seeds (one run each).
    preset, steps, overrides:
        As ``seq2exp train --preset/--steps/--set`` (seq2exp-hard uses the preset's hard
        counterpart, the Caduceus baselines its ``--arch`` overrides).
    truth, dnase, h3k27ac:
        Planted/known elements and the DNase bigWig MACS3 calls on; both needed for Table 2.
    top:
        Fraction of tokens kept by the matched-sparsity predictors.
    resume:
        Continue interrupted runs from their last checkpoint (finished runs are always
        skipped).

    Returns
    -------
    BenchmarkResult
    """
    from ..store import Store

    store = Store(store_path)
    out = Path(outdir)
    models, seeds = list(dict.fromkeys(models)), list(dict.fromkeys(int(s) for s in seeds))
    if not models or not seeds:
        raise Seq2ExpError("give at least one model (--models) and one seed (--seeds)")
    for m in models:
        if m not in MODELS:
            raise Seq2ExpError(f"--models: unknown model {m!r}; choose from {', '.join(MODELS)}")
    if (truth is None) != (dnase is None):
        raise Seq2ExpError("Table 2 needs both --truth and --dnase (or neither)")
    if not 0 < top <= 1:
        raise Seq2ExpError(f"--top {top}: must be a fraction in (0, 1]")
    if len(store.indices("test")) == 0:
        raise Seq2ExpError(f"{store.path}: no test genes with targets; the benchmark scores "
                           "the test split (check --targets and the test chromosomes)")
    configs = {(m, s): model_configs(store, m, preset, s, steps, overrides, shared_with=models)
               for m in models for s in seeds}
    out.mkdir(parents=True, exist_ok=True)
    trained, rows, total = 0, [], len(configs)
    for k, ((m, s), (mc, tc)) in enumerate(configs.items(), 1):
        run = out / "runs" / m / f"seed{s}"
        trained += train_run(store.path, run, mc, tc, device, resume, show_progress,
                             label=f"[{k}/{total}] {m} seed {s}")
        rows.append({"model": m, "seed": s, **read_test_metrics(run)})
    runs = pd.DataFrame(rows)
    write_table(runs, out / "runs.tsv")
    t1 = summarise(runs)
    write_table(t1, out / "table1.tsv")
    md = table1_markdown(t1, store.path, seeds)
    _write_md(out / "table1.md", md)
    if plots:
        _plot_best(store, runs, out, device)

    t2 = None
    learned = [m for m in models if m in LEARNED]
    if truth is not None and learned:
        t2 = _table2(store, learned, seeds[0], configs, out, truth, dnase, h3k27ac, top,
                     device, resume, show_progress)
        trained += int(t2.attrs.get("trained", 0))
        write_table(t2, out / "table2.tsv")
        md2 = table2_markdown(t2, top)
        _write_md(out / "table2.md", md2)
        md = md + "\n" + md2
    elif truth is not None:
        log.info("Table 2 skipped: it needs seq2exp-soft or seq2exp-hard among --models")
    return BenchmarkResult(runs, t1, t2, md, trained)


def _table2(store, learned, seed, configs, out, truth, dnase, h3k27ac, top, device, resume,
            show_progress) -> pd.DataFrame:
    from ..io.bed import read_narrowpeak
    from ..models.config import replace
    from ..training.fixed_mask import GeneratorTopK, PeakTopK

    rows, trained = [], 0
    for m in learned:
        run = out / "runs" / m / f"seed{seed}"
        row = {"model": m, "seed": seed}
        row.update(table2_row(store, m, run, out, truth, dnase, h3k27ac, device, show_progress))
        mc, tc = configs[(m, seed)]
        fixed = replace(mc, mask_source="fixed")
        providers = {
            "retrain": GeneratorTopK(run, top, store.signal_names, resolve_device(device)),
            "macs3": PeakTopK(read_narrowpeak(out / "macs3.narrowPeak"), top),
        }
        for kind, provider in providers.items():
            r = out / "runs" / f"{m}-{kind}" / f"seed{seed}"
            trained += train_run(store.path, r, fixed, tc, device, resume, show_progress,
                                 mask_provider=provider, label=f"Table 2 {m} {kind}")
            tm = read_test_metrics(r)
            row[f"{kind}_mse"], row[f"{kind}_pearson"] = float(tm["mse"]), float(tm["pearson"])
        rows.append(row)
    t2 = pd.DataFrame(rows)
    t2.attrs["trained"] = trained
    return t2


def _plot_best(store, runs: pd.DataFrame, out: Path, device) -> None:
    """Predicted vs measured on the test genes for the best seed (lowest MSE) of each model."""
    from ..inference.predict import predict_expression
    from ..models.checkpoint import load_model
    from ..plot import plot_pred_vs_measured

    (out / "plots").mkdir(exist_ok=True)
    for m, sub in runs.groupby("model", sort=False):
        best = sub.loc[sub["mse"].idxmin()]
        trained = load_model(out / "runs" / m / f"seed{int(best['seed'])}",
                             device=resolve_device(device))
        df = predict_expression(store, trained, indices=store.indices("test"), progress=False)
        plot_pred_vs_measured(df, out / "plots" / f"{m}.pred_vs_measured.png",
                              f"{m} seed {int(best['seed'])}")


__all__ = ["LEARNED", "MODELS", "PAPER_K562", "BenchmarkResult", "model_configs",
           "preset_for", "run_benchmark", "summarise", "table1_markdown", "table2_markdown"]
