"""``seq2exp train STORE -o RUN``: fit Seq2Exp on a dataset store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import Seq2ExpError
from .options import DeviceOpt


def _parse_overrides(items: list[str] | None) -> dict:
    import json

    out = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise Seq2ExpError(f"--set {item}: expected FIELD=VALUE, e.g. --set d_model=64")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def main(
    store: Annotated[Path, typer.Argument(help="Dataset store from `seq2exp preprocess`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Run folder to create (or resume).")],
    preset: Annotated[str, typer.Option(help="Configuration preset: cpu, cpu-hard (this project's mask, 2 CPU cores), gpu, gpu-hard (the same at a GPU's scale), paper, paper-hard (the authors' runs), cpu-paper, cpu-paper-hard (the paper's mask on the cpu networks).")] = "cpu",
    variant: Annotated[Optional[str], typer.Option(help="Mask variant: soft or hard (default: the preset's).")] = None,
    device: DeviceOpt = "auto",
    seed: Annotated[Optional[int], typer.Option(help="Random seed (default: the preset's).")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Optimiser steps (default: the preset's).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Genes per step.")] = None,
    signals: Annotated[Optional[str], typer.Option(help="Signals the model uses, comma-separated (default: all of the store's).")] = None,
    use_features: Annotated[bool, typer.Option("--features/--no-features", help="Use the store's per-gene features.")] = True,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override any config field: FIELD=VALUE (repeatable).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output from its last checkpoint.")] = False,
    model: Annotated[str, typer.Option("--model", help="Model to train: seq2exp (the preset's mask variant), seq2exp-soft, seq2exp-hard, caduceus-signals (no mask), caduceus-seq (sequence only), epinformer, epiexpr-1d, epiexpr-3d, simplechrome, abc.")] = "seq2exp",
    arch: Annotated[Optional[str], typer.Option("--arch", hidden=True, help="Old name of --model.")] = None,
    mask_from: Annotated[Optional[Path], typer.Option("--mask-from", help="Train a fresh predictor on the top --top of this trained model's mask (Seq2Exp-retrain).")] = None,
    mask_from_peaks: Annotated[Optional[Path], typer.Option("--mask-from-peaks", help="Train a fresh predictor on these peaks (narrowPeak/BED) at the same sparsity.")] = None,
    top: Annotated[float, typer.Option("--top", help="Fraction of tokens kept with --mask-from / --mask-from-peaks.")] = 0.10,
) -> None:
    """Train a model (Seq2Exp or a baseline); select it by validation MSE; checkpoint as it goes."""
    from ..models.registry import MODEL_NAMES, is_baseline, make_configs
    from ..store import Store

    if arch is not None:
        model = arch
    if model not in MODEL_NAMES:
        raise Seq2ExpError(f"--model {model}: choose one of {', '.join(MODEL_NAMES)}")
    from ..training.loop import train

    st = Store(store)
    overrides = _parse_overrides(set_)
    if variant is not None:
        overrides.setdefault("variant", variant)
    if seed is not None:
        overrides["seed"] = seed
    if steps is not None:
        overrides["steps"] = steps
        overrides.setdefault("warmup", min(steps // 10, 5000))
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    names = [s.strip() for s in signals.split(",")] if signals else list(st.signal_names)
    overrides.setdefault("signal_names", tuple(names))
    if "signal_weights" not in overrides or "signal_betas" not in overrides:
        w, b = _signal_params(names)
        overrides.setdefault("signal_weights", w)
        overrides.setdefault("signal_betas", b)
    overrides.setdefault("n_gene_features", len(st.feature_names) if use_features else 0)
    if mask_from is not None and mask_from_peaks is not None:
        raise Seq2ExpError("give one of --mask-from and --mask-from-peaks, not both")
    if mask_from is not None or mask_from_peaks is not None:
        if model not in ("seq2exp", "seq2exp-soft", "seq2exp-hard"):
            raise Seq2ExpError("--mask-from/--mask-from-peaks go with --model seq2exp")
        if not 0 < top <= 1:
            raise Seq2ExpError(f"--top {top}: must be a fraction in (0, 1]")
        overrides["mask_source"] = "fixed"
    if variant is not None and is_baseline(model):
        raise Seq2ExpError(f"--variant is a Seq2Exp option; --model {model} has no mask")
    try:
        model_cfg, train_cfg = make_configs(model, preset, overrides)
    except ValueError as exc:
        raise Seq2ExpError(f"--model {model} --preset {preset}: {exc}") from None
    provider = None
    if mask_from is not None:
        from .._device import resolve_device
        from ..training.fixed_mask import GeneratorTopK

        provider = GeneratorTopK(mask_from, top, st.signal_names, resolve_device(device))
    elif mask_from_peaks is not None:
        from ..io.bed import read_bed, read_narrowpeak
        from ..training.fixed_mask import PeakTopK

        reader = read_narrowpeak if "narrowpeak" in mask_from_peaks.name.lower() else read_bed
        provider = PeakTopK(reader(mask_from_peaks), top)
    run = train(store, output, model_cfg, train_cfg, device=device, resume=resume,
                mask_provider=provider)
    if os.environ.get("RANK", "0") == "0":
        print(f"seq2exp: run written to {run} (best model in {run / 'best'})", file=sys.stderr)


#: the reference's per-signal mixing weight and Beta constant (method.md), by track name
_REFERENCE_SIGNAL = {"h3k27ac": (0.4, 1.5), "dnase": (0.4, 0.2), "atac": (0.4, 0.2), "contact": (0.2, 1.0)}


def _signal_params(names: list[str]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Reference weights/constants for known tracks; others get DNase's."""
    w = tuple(_REFERENCE_SIGNAL.get(n, (0.4, 0.2))[0] for n in names)
    b = tuple(_REFERENCE_SIGNAL.get(n, (0.4, 0.2))[1] for n in names)
    return w, b
