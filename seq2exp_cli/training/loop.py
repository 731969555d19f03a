"""``seq2exp train``: fit a model on a store's training genes, select by validation MSE.

Run folder layout::

    RUN/run.json            store, model and training configuration (written first)
    RUN/train_metrics.tsv   one row per logged step: loss, parts, lr, tokens/s
    RUN/val_metrics.tsv     one row per validation: MSE, MAE, Pearson, Spearman, R²
    RUN/last/               latest checkpoint (weights, config, optimiser + RNG state)
    RUN/best/               the checkpoint with the lowest validation MSE (used to predict)
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .._device import resolve_device
from ..errors import Seq2ExpError
from ..io.atomic import write_text_atomic
from ..progress import progress_bar
from ..store import Store
from . import state as st
from ..inference.forward import check_compatible, forward_batches, load_batch, run_model, to_tensors
from .batches import batch_indices
from .metrics import regression_metrics
from .schedule import lr_at

log = logging.getLogger(__name__)


def evaluate_split(model, store: Store, indices: np.ndarray, cfg, device, batch_size: int,
                   mask_provider=None) -> tuple[dict, np.ndarray]:
    """Predict genes ``indices`` (eval mode, mean mask) and score them."""
    preds, ratios = [], []
    for _, out in forward_batches(store, model, device, indices, batch_size, mask_provider):
        preds.append(out.pred.float().cpu().numpy())
        ratios.append(float(out.mask_ratio))
    pred = np.concatenate(preds) if preds else np.zeros(0)
    m = regression_metrics(pred, store.genes["target"].to_numpy()[indices])
    m["mask_ratio"] = float(np.mean(ratios)) if ratios else float("nan")
    return m, pred


def _recorded_configs(run: Path, model_cfg, train_cfg):
    """Return the model and training configs a run recorded in ``run.json``.

    A resumed run continues as it was started, whatever options the resuming command was
    given; options that differ are named in a warning.
    """
    from ..models.config import TrainConfig
    from ..models.registry import config_from_dict, model_type_of

    rec = json.loads((run / "run.json").read_text())
    m = config_from_dict(rec.get("model_type", "seq2exp"), rec["model"])
    t = TrainConfig.from_dict(rec["train"])
    if model_type_of(model_cfg) != model_type_of(m):
        log.warning("%s: resuming the recorded %s model, not --model %s", run,
                    model_type_of(m), model_type_of(model_cfg))
    else:
        given = {**model_cfg.to_dict(), **train_cfg.to_dict()}
        kept = {**m.to_dict(), **t.to_dict()}
        ignore = {"feature_mean", "feature_scale", "track_scales"}
        diff = sorted(k for k in kept if k not in ignore and k in given and given[k] != kept[k])
        if diff:
            log.warning("%s: resuming with the run's recorded settings; ignoring the given %s",
                        run, ", ".join(diff))
    return m, t


def train(
    store_path: str | Path,
    run_dir: str | Path,
    model_cfg,
    train_cfg,
    device: str | None = "auto",
    resume: bool = False,
    max_steps: int | None = None,
    log_every: int = 10,
    on_step: Callable[[int], None] | None = None,
    show_progress: bool = True,
    mask_provider=None,
    init_from: str | Path | None = None,
) -> Path:
    """Train a Seq2Exp model; return the run folder.

    Parameters
    ----------
    store_path:
        Dataset store from ``seq2exp preprocess``.
    run_dir:
        Output folder (created; with ``resume`` an existing run is continued).
    model_cfg, train_cfg:
        :class:`~seq2exp_cli.models.config.ModelConfig` and ``TrainConfig``; the model's
        ``signal_names`` must be available in the store.
    max_steps:
        Stop after this many optimiser steps in this process (the schedule still runs
        to ``train_cfg.steps``); used to test resuming.
    on_step:
        Called after each optimiser step with the step count (for tests and tools).
    mask_provider:
        For ``model_cfg.mask_source == "fixed"``: a callable ``(batch, tensors, bin_size)
        -> (B, T)`` mask (see :mod:`.fixed_mask`).
    init_from:
        A run (or checkpoint folder) whose best weights start this model: every parameter
        with the same name and shape is copied, the rest start fresh (:func:`warm_start`).
        With ``train_cfg.freeze_mask`` the copied mask stays as it was trained; with
        ``train_cfg.fit_features`` nothing is trained by steps, and the gene-feature term is
        fitted in closed form on top of the copied model (:mod:`.feature_fit`).

    When training ends the best model is scored on the test genes (``test_metrics.tsv``).
    """
    from ..io.atomic import atomic_dir
    from ..models.checkpoint import save_model
    from ..models.registry import build_model, model_class, model_type_of

    ddp = _ddp_setup()
    store = Store(store_path)
    run = Path(run_dir)
    if resume and (run / "run.json").exists():
        model_cfg, train_cfg = _recorded_configs(run, model_cfg, train_cfg)
    dev = resolve_device(device)
    if ddp is not None and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    sig_idx = check_compatible(store, model_cfg, str(store.path),
                               model_class(model_cfg).needs_contact_matrix)
    train_idx, val_idx = store.indices("train"), store.indices("val")
    if len(train_idx) == 0:
        raise Seq2ExpError(f"{store.path}: no training genes with targets; check --targets and the split")
    if model_cfg.n_gene_features and not model_cfg.feature_mean:
        from ..models.build import with_feature_scaling

        feats = store.genes[store.feature_names].to_numpy(dtype=np.float64)[train_idx]
        model_cfg = with_feature_scaling(model_cfg, feats)
    from ..models.build import with_track_scales

    model_cfg = with_track_scales(model_cfg, store.track_scales)

    run_json = run / "run.json"
    rank0 = ddp is None or ddp["rank"] == 0
    if rank0 and run.exists() and any(run.iterdir()) and not resume:
        raise Seq2ExpError(f"{run}: exists and is not empty; pass --resume to continue it or choose another -o")
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(train_cfg.seed)
    np.random.seed(train_cfg.seed % (2**32))
    model = build_model(model_cfg).to(dev)
    with torch.no_grad():  # start predictions at the training mean (uses no randomness)
        model.output_bias().fill_(float(np.mean(store.genes["target"].to_numpy()[train_idx])))
    closed_form = bool(getattr(model, "closed_form", False))  # refitted on resume: seconds
    refit = closed_form or train_cfg.fit_features
    ckpt = st.find_checkpoint(run / "last") if resume and not refit else None
    # a resumed run's checkpoint holds the warm-started weights already
    init_note = warm_start(model, model_cfg, init_from) if init_from is not None and ckpt is None else None
    if train_cfg.freeze_mask:
        for p in getattr(model, "mask_parameters", lambda: [])():
            p.requires_grad_(False)
    opt = torch.optim.AdamW(
        param_groups(model, train_cfg.mask_lr_scale), lr=train_cfg.lr,
        weight_decay=train_cfg.weight_decay, betas=tuple(train_cfg.betas),
    )
    step, best_mse = 0, float("inf")
    if resume and ckpt is None and run_json.exists():
        log.warning("%s: no complete checkpoint yet; starting from step 0", run)
    if ckpt is not None:
        from ..models.checkpoint import load_model

        saved, _, _ = load_model(ckpt, device="cpu")
        model.load_state_dict(saved.state_dict())
        s = st.load_train_state(ckpt)
        opt.load_state_dict(s["optimizer"])
        step, best_mse = int(s["step"]), float(s["extra"].get("best_val_mse", float("inf")))
        st.set_rng_state(s["rng"])
        for name in ("train_metrics.tsv", "val_metrics.tsv"):
            st.truncate_tsv(run / name, step)
        log.info("resuming %s at step %d", run, step)
    elif rank0:
        write_text_atomic(run_json, json.dumps({
            "store": str(Path(store_path).resolve()),
            "model_type": model_type_of(model_cfg),
            "model": model_cfg.to_dict(),
            "train": train_cfg.to_dict(),
            **({"init_from": init_note} if init_note is not None else {}),
            "device": str(dev),
            "train_genes": int(len(train_idx)), "val_genes": int(len(val_idx)),
        }, indent=2) + "\n")

    if closed_form:  # fitted, not trained by steps (ABC's ridge)
        if rank0:
            fit_closed_form(model, model_cfg, store, train_idx, val_idx, run, dev, train_cfg,
                            show_progress)
        step = train_cfg.steps
    elif train_cfg.fit_features:  # the source model, plus a closed-form feature term
        from .feature_fit import fit_feature_term

        if rank0:
            fit_feature_term(model, store, train_idx, val_idx, run, dev, train_cfg, show_progress)
        step = train_cfg.steps
    net = model
    if ddp is not None:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None)
    use_bf16 = dev.type == "cuda" and train_cfg.precision == "bf16"
    tokens_per_example = model_cfg.window_bp // model_cfg.bin_size
    stop_at = train_cfg.steps if max_steps is None else min(train_cfg.steps, step + max_steps)

    def checkpoint(current: int) -> None:
        if rank0:
            st.save_checkpoint(run / "last", model, model_cfg, opt, current,
                               {"best_val_mse": best_mse, "store": str(store.path)})

    t_last, n_tok = time.time(), 0
    val_note = ""  # the last validation MSE, for the progress line
    with progress_bar(show_progress and rank0) as bar:
        task = bar.add_task("training", total=train_cfg.steps, completed=step, unit="steps")
        while step < stop_at:
            model.train()
            lr = lr_at(step, train_cfg.lr, train_cfg.steps, train_cfg.warmup,
                       train_cfg.warmup_start_lr, train_cfg.min_lr)
            for g in opt.param_groups:
                g["lr"] = lr * g.get("lr_scale", 1.0)
            idx = batch_indices(train_idx, train_cfg.batch_size, train_cfg.seed, step)
            if ddp is not None:
                idx = idx[ddp["rank"]:: ddp["world"]]
            batch = load_batch(store, idx, model)
            b = to_tensors(batch, dev, sig_idx)
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_bf16):
                out = run_model(net, batch, b, mask_provider)
                loss, parts = model.loss(out, b["target"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.grad_clip)
            opt.step()
            step += 1
            n_tok += len(idx) * tokens_per_example
            if rank0 and (step % log_every == 0 or step == stop_at):
                dt = max(time.time() - t_last, 1e-9)
                row = {"step": step, "loss": float(loss.detach()), "lr": lr, "grad_norm": float(gnorm),
                       "tokens_per_s": n_tok / dt}
                row.update({k: float(v) for k, v in parts.items()})
                st.append_tsv(run / "train_metrics.tsv", row)
                t_last, n_tok = time.time(), 0
                bar.update(task, description=f"training: loss {row['loss']:.4f}{val_note}, "
                           f"{row['tokens_per_s']:,.0f} tokens/s, lr {lr:.2e}")
            if rank0 and len(val_idx) and (step % train_cfg.eval_every == 0 or step == train_cfg.steps):
                m, _ = evaluate_split(model, store, val_idx, model_cfg, dev, train_cfg.batch_size,
                                      mask_provider)
                st.append_tsv(run / "val_metrics.tsv", {"step": step, **m})
                val_note = f", val MSE {m['mse']:.4f} (step {step:,})"
                if m["mse"] < best_mse:
                    best_mse = m["mse"]
                    with atomic_dir(run / "best", overwrite=True) as tmp:
                        save_model(tmp, model, model_cfg, {"step": step, "val": m, "store": str(store.path)})
            if step % train_cfg.checkpoint_every == 0 or step == stop_at:
                checkpoint(step)
            bar.update(task, completed=step)
            if on_step is not None:
                on_step(step)
    if rank0 and not (run / "best").exists():
        # no validation genes: the last weights are the selection
        with atomic_dir(run / "best", overwrite=True) as tmp:
            save_model(tmp, model, model_cfg, {"step": step, "val": None, "store": str(store.path)})
    if rank0 and step >= train_cfg.steps:
        calibrate_best(run, store, val_idx, dev, train_cfg.batch_size)
    test_idx = store.indices("test")
    if rank0 and step >= train_cfg.steps and len(test_idx):
        from ..models.checkpoint import load_model

        best, _, meta = load_model(run / "best", device=dev)
        m, _ = evaluate_split(best, store, test_idx, model_cfg, dev, train_cfg.batch_size,
                              mask_provider)
        (run / "test_metrics.tsv").unlink(missing_ok=True)
        st.append_tsv(run / "test_metrics.tsv", {"step": meta.get("step", step), **m})
    if ddp is not None:
        torch.distributed.destroy_process_group()
    return run


def calibrate_best(run: Path, store: Store, val_idx, device, batch_size: int) -> float | None:
    """Record the element cutoff of ``run/best`` calibrated on the validation genes.

    Only gate-form Seq2Exp models get one (:mod:`seq2exp_cli.inference.calibrate`); the
    cutoff and its rule go into the checkpoint's metadata, where ``call-elements`` finds it.
    Returns the cutoff (None when none was recorded).
    """
    from ..inference.calibrate import calibrate_cutoff
    from ..models.checkpoint import load_model, update_meta

    if not len(val_idx):
        return None
    best = load_model(run / "best", device=device)
    got = calibrate_cutoff(store, best, val_idx, batch_size=batch_size)
    if got is None:
        return None
    update_meta(run / "best", **got)
    log.info("element cutoff %.4f: the %g quantile of the mask over %s accessible regions "
             "of the validation genes (recorded in %s)", got["element_cutoff"],
             got["element_cutoff_rule"]["quantile"], f"{got['element_cutoff_rule']['n_regions']:,}",
             run / "best" / "config.json")
    return got["element_cutoff"]


#: ridge penalties tried by :func:`fit_closed_form`, chosen by validation MSE
RIDGE_LAMBDAS = (0.0, 0.01, 0.1, 1.0, 10.0, 100.0)


def fit_closed_form(model, cfg, store: Store, train_idx, val_idx, run: Path, dev, train_cfg,
                    show_progress: bool = True) -> None:
    """Fit a closed-form model (``model.design`` + ``model.fit``) on the training genes, choose the ridge penalty by validation MSE, and save ``run/best``.

    Writes one ``val_metrics.tsv`` row per penalty tried (``step`` = its index).
    """
    from ..io.atomic import atomic_dir
    from ..models.checkpoint import save_model

    sig_idx = check_compatible(store, cfg, str(store.path), model.needs_contact_matrix)

    @torch.no_grad()
    def design(indices):
        xs = []
        for s in range(0, len(indices), train_cfg.batch_size):
            chunk = indices[s: s + train_cfg.batch_size]
            b = to_tensors(load_batch(store, chunk, model), dev, sig_idx)
            xs.append(model.design(b["seq"], b["signals"],
                                   b["features"] if cfg.n_gene_features else None, b["blacklist"]))
            bar.update(task, advance=len(chunk))
        return torch.cat(xs) if xs else torch.zeros(0, 0, device=dev)

    y_all = torch.tensor(store.genes["target"].to_numpy(dtype=np.float32))
    with progress_bar(show_progress) as bar:
        task = bar.add_task("design matrix", total=len(train_idx) + len(val_idx), unit="genes")
        X_tr, X_va = design(train_idx), design(val_idx)
    y_tr, y_va = y_all[train_idx].to(dev), y_all[val_idx].to(dev)
    best = None
    for i, lam in enumerate(RIDGE_LAMBDAS if len(val_idx) else (1.0,)):
        model.fit(X_tr, y_tr, lam)
        if len(val_idx):
            with torch.no_grad():
                pred = model.predict_design(X_va).cpu().numpy()
            m = regression_metrics(pred, y_va.cpu().numpy())
            m["mask_ratio"] = float("nan")
            st.append_tsv(run / "val_metrics.tsv", {"step": i, "ridge_lambda": lam, **m})
            score = m["mse"]
        else:
            score = 0.0
        if best is None or score < best[0]:
            best = (score, lam)
    model.fit(X_tr, y_tr, best[1])
    if hasattr(cfg, "ridge_lambda"):  # the saved config names the penalty actually used
        from ..models.config import replace

        cfg = replace(cfg, ridge_lambda=float(best[1]))
        model.cfg = cfg
    meta = {"step": train_cfg.steps, "ridge_lambda": best[1], "store": str(store.path)}
    with atomic_dir(run / "best", overwrite=True) as tmp:
        save_model(tmp, model, cfg, meta)
    log.debug("closed-form fit: ridge lambda %s chosen by validation MSE", best[1])


def param_groups(model, mask_lr_scale: float = 1.0) -> list[dict]:
    """Return AdamW parameter groups: the mask's own parameters at ``mask_lr_scale``.

    The mask's parameters (``model.mask_parameters()``) train at ``mask_lr_scale`` times the
    learning rate, the rest at 1 (one group when the scale is 1 or the model has no mask of
    its own).  Parameters that do not require a gradient (a frozen mask) are left out.
    """
    own = [p for p in getattr(model, "mask_parameters", lambda: [])() if p.requires_grad]
    live = [p for p in model.parameters() if p.requires_grad]
    if mask_lr_scale == 1.0 or not own:
        return [{"params": live, "lr_scale": 1.0}]
    ids = {id(p) for p in own}
    rest = [p for p in live if id(p) not in ids]
    return [{"params": rest, "lr_scale": 1.0}, {"params": own, "lr_scale": float(mask_lr_scale)}]


def warm_start(model, model_cfg, source: str | Path) -> dict:
    """Copy into ``model`` every parameter and buffer of a trained model with the same name and shape.

    ``source`` is a run folder (its ``best`` checkpoint is read) or a checkpoint folder.  The
    two models must be of one type.  When this model reads more gene features than the
    source, each :class:`~seq2exp_cli.models.layers.ExpressionHead`'s first layer (which
    appends the features to its input) gets the source's weights for the old inputs and
    zeros for the new, so the model starts as the source's function of the old inputs.  Any
    other tensor whose shape differs, or that the source lacks, keeps its fresh start.
    Returns what was done, for ``run.json``: the checkpoint, and the names widened and left
    fresh.
    """
    from ..models.checkpoint import find_model_dir, load_model
    from ..models.layers import ExpressionHead
    from ..models.registry import model_type_of

    ckpt = find_model_dir(source)
    saved, saved_cfg, _ = load_model(ckpt, device="cpu")
    if model_type_of(saved_cfg) != model_type_of(model_cfg):
        raise Seq2ExpError(f"--init-from {source}: a {model_type_of(saved_cfg)} model cannot "
                           f"start a {model_type_of(model_cfg)} model; use a run of the same --model")
    theirs = saved.state_dict()
    ours = model.state_dict()
    copied = {k: v for k, v in theirs.items() if k in ours and ours[k].shape == v.shape}
    if not copied:
        raise Seq2ExpError(f"--init-from {source}: no parameter of that model fits this one "
                           "(another window, width or depth); match the model settings")
    widened = {}
    extra = getattr(model_cfg, "n_gene_features", 0) - getattr(saved_cfg, "n_gene_features", 0)
    for name, mod in model.named_modules() if extra > 0 else ():
        k = f"{name}.fc1.weight" if name else "fc1.weight"
        v, w = theirs.get(k), ours.get(k)
        if (isinstance(mod, ExpressionHead) and k not in copied and v is not None
                and v.shape[0] == w.shape[0] and w.shape[1] - v.shape[1] == extra):
            grown = torch.zeros_like(w)  # the features' columns come last (ExpressionHead)
            grown[:, : v.shape[1]] = v
            widened[k] = grown
    fresh = sorted(k for k in ours if k not in copied and k not in widened)
    model.load_state_dict({**copied, **widened}, strict=False)
    log.info("started from %s%s%s", ckpt,
             f"; new inputs of {', '.join(sorted(widened))} start at zero" if widened else "",
             f"; fresh (shape differs or absent): {', '.join(fresh)}" if fresh else "")
    return {"checkpoint": str(ckpt.resolve()), "widened": sorted(widened), "fresh": fresh}


def _ddp_setup() -> dict | None:
    """Join a torchrun process group when launched with WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    torch.distributed.init_process_group(backend)
    rank = torch.distributed.get_rank()
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return {"rank": rank, "world": world}
