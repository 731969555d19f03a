"""``seq2exp train STORE -o RUN``: fit Seq2Exp or a baseline on a dataset store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import Seq2ExpError
from .options import DeviceOpt, output_option

EXAMPLES = """
seq2exp train store/ -o run/                        # the cpu preset, 2 CPU cores
seq2exp train store/ -o run/ --preset paper --device cuda
seq2exp train store/ -o run/ --resume               # continue a stopped run
seq2exp train store/ -o run_epi/ --model epinformer --steps 500 --set lr=0.001
seq2exp train store/ -o run_fixed/ --mask-from run/ --keep-fraction 0.1
seq2exp train store/ -o run2/ --init-from run/ --freeze-mask   # run/'s mask, + gene features
seq2exp train store/ -o run2/ --init-from run/ --fit-features  # run/ + a linear feature term (minutes)
"""

#: ``--set FIELD=VALUE``: one field of the chosen model's config or of the training config
SetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", metavar="FIELD=VALUE",
    help="Override a config field: FIELD=VALUE (repeatable; a bool takes true/false).")]
#: the fraction of tokens a fixed mask keeps (``train --mask-from``, ``benchmark`` Table 2)
KeepOpt = Annotated[float, typer.Option(
    "--keep-fraction", metavar="FRACTION", help="Fraction of tokens a fixed mask keeps (--mask-from / "
    "--mask-from-peaks; Table 2's matched sparsity).")]


def set_overrides(items: Optional[list[str]]) -> dict[str, str]:
    """Parse ``--set`` values (:func:`seq2exp_cli.models.build.parse_overrides`) for a command."""
    from ..models.build import ConfigError, parse_overrides

    try:
        return parse_overrides(items)
    except ConfigError as exc:
        raise Seq2ExpError(f"--set {exc}") from None


def main(
    store: Annotated[Path, typer.Argument(help="Dataset store from `seq2exp preprocess`.",
                                          metavar="STORE")],
    output: Annotated[Path, output_option("Run folder to create (or resume).", metavar="RUN")],
    preset: Annotated[str, typer.Option(metavar="PRESET", help="Configuration preset: cpu, cpu-hard (this project's mask, 2 CPU cores), gpu, gpu-hard (the same at a GPU's scale), paper, paper-hard (the authors' runs), cpu-paper, cpu-paper-hard (the paper's mask on the cpu networks).")] = "cpu",
    variant: Annotated[Optional[str], typer.Option(metavar="VARIANT", help="Mask variant: soft or hard (default: the preset's).")] = None,
    device: DeviceOpt = "auto",
    seed: Annotated[Optional[int], typer.Option(metavar="INT", help="Random seed (default: the preset's).")] = None,
    steps: Annotated[Optional[int], typer.Option(metavar="N", help="Optimiser steps (default: the preset's).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", metavar="N",
                                                      help="Genes per step.")] = None,
    signals: Annotated[Optional[str], typer.Option(metavar="NAMES", help="Signals the model uses, comma-separated (default: all of the store's).")] = None,
    use_features: Annotated[bool, typer.Option("--features/--no-features", help="Use the store's per-gene features.")] = True,
    set_: SetOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output from its last checkpoint.")] = False,
    model: Annotated[str, typer.Option("--model", metavar="MODEL", help="Model to train: seq2exp (the preset's mask variant), seq2exp-soft, seq2exp-hard, caduceus-signals (no mask), caduceus-seq (sequence only), epinformer, epiexpr-1d, epiexpr-3d, simplechrome, abc.")] = "seq2exp",
    arch: Annotated[Optional[str], typer.Option("--arch", hidden=True, help="Old name of --model.")] = None,
    mask_from: Annotated[Optional[Path], typer.Option("--mask-from", metavar="RUN", help="Train a fresh predictor on the top --keep-fraction of this trained model's mask (Seq2Exp-retrain).")] = None,
    mask_from_peaks: Annotated[Optional[Path], typer.Option("--mask-from-peaks", metavar="FILE", help="Train a fresh predictor on these peaks (narrowPeak/BED) at the same sparsity.")] = None,
    keep_fraction: KeepOpt = 0.10,
    init_from: Annotated[Optional[Path], typer.Option("--init-from", metavar="RUN", help="Start from this trained run's weights (those of the same name and shape; e.g. a --no-features run, then train with features).")] = None,
    freeze_mask: Annotated[bool, typer.Option("--freeze-mask", help="Keep the --init-from run's mask generator as it is; train only the predictor and head.")] = False,
    fit_features: Annotated[bool, typer.Option("--fit-features", help="Keep the --init-from run's model as it is and add the store's gene features as a linear term, fitted in closed form (one forward pass; no training steps).")] = False,
) -> None:
    """Train a model (Seq2Exp or a baseline); select it by validation MSE; checkpoint as it goes.

    Progress: a bar on a terminal; otherwise a line every 20 s (step, loss, validation
    MSE, tokens/s, time left).  RUN/train_metrics.tsv and RUN/val_metrics.tsv log every
    step; `seq2exp plot-training RUN -o curve.png` draws them.
    """
    from ..models.build import ConfigError, build_configs
    from ..models.registry import MODEL_NAMES
    from ..store import Store
    from ..training.loop import train

    if arch is not None:
        model = arch
    if model not in MODEL_NAMES:
        raise Seq2ExpError(f"--model {model}: choose one of {', '.join(MODEL_NAMES)}")
    st = Store(store)
    overrides = set_overrides(set_)
    if mask_from is not None and mask_from_peaks is not None:
        raise Seq2ExpError("give one of --mask-from and --mask-from-peaks, not both")
    fixed = mask_from is not None or mask_from_peaks is not None
    if fixed:
        if model not in ("seq2exp", "seq2exp-soft", "seq2exp-hard"):
            raise Seq2ExpError("--mask-from/--mask-from-peaks go with --model seq2exp")
        if not 0 < keep_fraction <= 1:
            raise Seq2ExpError(f"--keep-fraction {keep_fraction}: must be a fraction in (0, 1]")
    if init_from is not None:  # before any store work: a mistyped run fails at once
        from ..models.checkpoint import find_model_dir

        try:
            find_model_dir(init_from)
        except Seq2ExpError as exc:
            raise Seq2ExpError(f"--init-from: {exc}") from None
    learned = not fixed and model in ("seq2exp", "seq2exp-soft", "seq2exp-hard")
    for flag, on in (("--freeze-mask", freeze_mask), ("--fit-features", fit_features)):
        if on and init_from is None:
            raise Seq2ExpError(f"{flag} builds on a trained model: give the run with --init-from RUN")
        if on and not learned:
            raise Seq2ExpError(f"{flag} goes with a learned mask (--model seq2exp, no --mask-from)")
    if freeze_mask:
        overrides["freeze_mask"] = "true"
    if fit_features:
        if not use_features or not st.feature_names:
            raise Seq2ExpError(f"--fit-features: {store} has no gene features (preprocess with "
                               "--targets from a table with feature columns) or --no-features was given")
        overrides.update(fit_features="true", feature_term="linear")
    names = [s.strip() for s in signals.split(",")] if signals else list(st.signal_names)
    try:
        model_cfg, train_cfg = build_configs(
            model, preset, signal_names=names,
            n_gene_features=len(st.feature_names) if use_features else 0, seed=seed,
            steps=steps, batch_size=batch_size, variant=variant, fixed_mask=fixed,
            overrides=overrides)
    except ConfigError as exc:
        raise Seq2ExpError(f"--model {model} --preset {preset}: {exc}") from None
    provider = None
    if mask_from is not None:
        from .._device import resolve_device
        from ..training.fixed_mask import GeneratorTopK

        provider = GeneratorTopK(mask_from, keep_fraction, st.signal_names, resolve_device(device))
    elif mask_from_peaks is not None:
        from ..io.bed import read_bed, read_narrowpeak
        from ..training.fixed_mask import PeakTopK

        reader = read_narrowpeak if "narrowpeak" in mask_from_peaks.name.lower() else read_bed
        provider = PeakTopK(reader(mask_from_peaks), keep_fraction)
    train(store, output, model_cfg, train_cfg, device=device, resume=resume,
          mask_provider=provider, init_from=init_from)
    if os.environ.get("RANK", "0") == "0":
        print(f"seq2exp: wrote run {output} (best model in {output / 'best'})", file=sys.stderr)
