"""One config builder: a model name, a preset and overrides -> ``(model config, train config)``.

Every rule that turns what a user asks for into the configs of a run sits here, and
``seq2exp train``, ``seq2exp benchmark`` and the Python API all call :func:`build_configs`:

- the model's preset: Seq2Exp models take the named preset (``seq2exp-hard`` its ``-hard``
  counterpart, ``seq2exp-soft`` the soft one; the Caduceus baselines theirs with no mask);
  a baseline takes the preset's window and training schedule and its own defaults;
- the data's signals and per-gene features (``signal_names``, ``n_gene_features``), with the
  reference's per-signal weight and Beta constant for each known track
  (:data:`REFERENCE_SIGNALS`);
- ``steps`` sets the warm-up to a tenth of the steps (at most 5,000) unless one is given;
- overrides are checked against each field's type (:func:`parse_value`: a bool takes true or
  false only) and against the model: an unknown field, or one the chosen model does not
  have, is an error naming the field.

The data-dependent rule applied when training starts (the standardisation of the gene
features on the training genes) is :func:`with_feature_scaling`.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import Seq2ExpError
from .config import ModelConfig, TrainConfig, replace
from .presets import PRESETS, preset
from .registry import BASELINES, MODEL_NAMES, SEQ2EXP_MODELS, config_class

__all__ = ["REFERENCE_SIGNALS", "ConfigError", "build_configs", "model_fields", "parse_overrides",
           "parse_value", "preset_for", "signal_params", "with_feature_scaling"]

#: the reference's per-signal mixing weight and Beta constant (method.md), by track name;
#: other tracks get DNase's
REFERENCE_SIGNALS: dict[str, tuple[float, float]] = {
    "h3k27ac": (0.4, 1.5), "dnase": (0.4, 0.2), "atac": (0.4, 0.2), "contact": (0.2, 1.0),
}
_OTHER_SIGNAL = REFERENCE_SIGNALS["dnase"]


class ConfigError(Seq2ExpError):
    """A bad configuration request: unknown model, preset or field, or a bad value."""


def signal_params(names: Sequence[str]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return the reference weights and Beta constants of tracks ``names`` (:data:`REFERENCE_SIGNALS`)."""
    w = tuple(REFERENCE_SIGNALS.get(n, _OTHER_SIGNAL)[0] for n in names)
    b = tuple(REFERENCE_SIGNALS.get(n, _OTHER_SIGNAL)[1] for n in names)
    return w, b


def preset_for(model: str, preset_name: str) -> str:
    """Return the preset of ``model``: the hard counterpart for seq2exp-hard, the soft one else.

    ``seq2exp`` itself takes the preset as named.
    """
    soft = preset_name.removesuffix("-hard")
    if model == "seq2exp":
        return preset_name
    return f"{soft}-hard" if SEQ2EXP_MODELS.get(model, ({}, ""))[1] == "hard" else soft


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def model_fields(model: str) -> dict[str, Any]:
    """Return the settable fields of ``model`` (its config's and TrainConfig's) with their types.

    Raises
    ------
    ConfigError
        An unknown model name.
    """
    if model not in MODEL_NAMES:
        raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(MODEL_NAMES)}")
    return {**_field_types(config_class(model)), **_field_types(TrainConfig)}


def _all_fields() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in MODEL_NAMES:
        out.update(model_fields(name))
    return out


def parse_value(field: str, text: str, kind: Any) -> Any:
    """Parse the text of ``FIELD=VALUE`` as the field's type.

    ``bool`` takes ``true``/``false`` only; ``int`` and ``float`` their literals; tuples a
    comma-separated list (or a JSON list); ``str`` the text itself.

    Raises
    ------
    ConfigError
        Naming the field, the value and the type it needs.
    """
    text = text.strip()
    origin = typing.get_origin(kind)
    if origin is tuple:
        args = typing.get_args(kind)
        item = args[0]
        if text.startswith("["):
            try:
                parts = [str(v) for v in json.loads(text)]
            except (json.JSONDecodeError, TypeError):
                raise ConfigError(f"{field}={text}: not a list; give comma-separated values, "
                                  f"e.g. {field}=0.4,0.4,0.2") from None
        else:
            parts = [p for p in text.split(",") if p.strip()]
        return tuple(parse_value(field, p, item) for p in parts)
    if kind is bool:
        low = text.lower()
        if low not in ("true", "false"):
            raise ConfigError(f"{field}={text}: {field} takes true or false")
        return low == "true"
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{field}={text}: {field} takes a whole number") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{field}={text}: {field} takes a number") from None
    return text


def parse_overrides(items: Sequence[str] | None) -> dict[str, str]:
    """Split ``FIELD=VALUE`` strings into a field -> text mapping (typed by :func:`build_configs`).

    Raises
    ------
    ConfigError
        An item without ``=`` or without a field name.
    """
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{item}: expected FIELD=VALUE, e.g. d_model=64")
        out[key.strip()] = raw
    return out


def _typed(model: str, overrides: Mapping[str, Any], shared_with: Sequence[str]) -> dict[str, Any]:
    """Check and type the user's overrides for ``model``; drop those of the other models only."""
    own = model_fields(model)
    others: dict[str, Any] = {}
    for m in shared_with:
        if m != model:
            others.update(model_fields(m))
    out = {}
    for key, value in overrides.items():
        if key not in own:
            if key in others:
                continue  # a field of another model of the same benchmark
            known = _all_fields()
            if key in known:
                raise ConfigError(f"{key}: --model {model} has no field {key!r} (a field of "
                                  "other models); drop it or choose a model that has it")
            raise ConfigError(f"{key}: unknown config field; the fields of --model {model} are "
                              f"{', '.join(sorted(own))}")
        out[key] = parse_value(key, value, own[key]) if isinstance(value, str) else value
    return out


def build_configs(
    model: str = "seq2exp",
    preset_name: str = "cpu",
    *,
    signal_names: Sequence[str] | None = None,
    n_gene_features: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    variant: str | None = None,
    fixed_mask: bool = False,
    overrides: Mapping[str, Any] | None = None,
    shared_with: Sequence[str] = (),
):
    """Build ``(model_cfg, train_cfg)`` of one run.

    Parameters
    ----------
    model : str
        A name of :data:`seq2exp_cli.models.registry.MODEL_NAMES`.
    preset_name : str
        A key of :data:`seq2exp_cli.models.presets.PRESETS` (see :func:`preset_for`).
    signal_names : sequence of str, optional
        The tracks the model reads (the data's signals); their reference weights and Beta
        constants are filled in (:func:`signal_params`) unless given in ``overrides``.
    n_gene_features : int, optional
        Per-gene features of the data the model uses.
    seed, steps, batch_size : int, optional
        Training settings; ``steps`` also sets the warm-up (a tenth, at most 5,000) unless
        ``overrides`` names one.
    variant : {"soft", "hard"}, optional
        Seq2Exp's mask variant (default: the preset's).
    fixed_mask : bool
        A predictor that takes a fixed mask from outside (``mask_source="fixed"``, Table 2).
    overrides : mapping, optional
        Field -> value; a string value is parsed as the field's type (:func:`parse_value`).
    shared_with : sequence of str
        Other models of the same benchmark: their fields in ``overrides`` are ignored
        here instead of being an error.

    Returns
    -------
    (ModelConfig or a baseline config, TrainConfig)

    Raises
    ------
    ConfigError
        An unknown model, preset or field, a field the model does not have, or a value
        that does not fit its field (the message names it).
    """
    fields_ = model_fields(model)
    if preset_name not in PRESETS:
        raise ConfigError(f"unknown preset {preset_name!r}; choose one of {', '.join(sorted(PRESETS))}")
    kw = _typed(model, dict(overrides or {}), shared_with)
    forced: dict[str, Any] = {}  # the explicit arguments win over the overrides
    default: dict[str, Any] = {}  # the overrides win over these
    if variant is not None:
        if model in BASELINES:
            raise ConfigError(f"--variant is a Seq2Exp option; --model {model} has no mask")
        default["variant"] = variant
    if seed is not None:
        forced["seed"] = int(seed)
    if steps is not None:
        forced["steps"] = int(steps)
        default["warmup"] = min(int(steps) // 10, 5000)
    if batch_size is not None:
        forced["batch_size"] = int(batch_size)
    if signal_names is not None:
        names = tuple(kw.get("signal_names", signal_names))
        default["signal_names"] = names
        default["signal_weights"], default["signal_betas"] = signal_params(names)
    if n_gene_features is not None:
        default["n_gene_features"] = int(n_gene_features)
    if fixed_mask:
        if model not in SEQ2EXP_MODELS:
            raise ConfigError(f"--model {model} cannot take a fixed mask; use a Seq2Exp model")
        forced["mask_source"] = "fixed"
    if model in SEQ2EXP_MODELS:
        for key, value in SEQ2EXP_MODELS[model][0].items():
            default.setdefault(key, value)
    # the rules' own values go only to the fields this model has
    kw.update({k: v for k, v in forced.items() if k in fields_})
    kw.update({k: v for k, v in default.items() if k in fields_ and k not in kw})
    try:
        if model in SEQ2EXP_MODELS:
            return preset(preset_for(model, preset_name), **kw)
        model_kw, train_kw = (dict(x) for x in PRESETS[preset_name])
        cls = config_class(model)
        own = {f.name for f in dataclasses.fields(cls)}
        mkw = {"window_bp": model_kw.get("window_bp", ModelConfig.window_bp)}
        for key, value in kw.items():
            (mkw if key in own else train_kw)[key] = value
        return cls(**mkw), TrainConfig(**train_kw)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def with_feature_scaling(model_cfg, features: np.ndarray):
    """Return ``model_cfg`` with ``feature_mean``/``feature_scale`` of the training genes' features.

    Parameters
    ----------
    model_cfg : ModelConfig or a baseline config
        A config with ``n_gene_features`` features.
    features : np.ndarray, shape=(n_train_genes, n_features)
        The training genes' features (NaN ignored).
    """
    f = np.asarray(features, dtype=np.float64)
    mean = np.nan_to_num(np.nanmean(f, axis=0)) if len(f) else np.zeros(f.shape[1])
    sd = np.nan_to_num(np.nanstd(f, axis=0)) if len(f) else np.ones(f.shape[1])
    sd[sd <= 0] = 1.0
    return replace(model_cfg, feature_mean=tuple(mean.tolist()), feature_scale=tuple(sd.tolist()))


def with_track_scales(model_cfg, scales):
    """Return ``model_cfg`` recording the training data's track scales.

    Parameters
    ----------
    model_cfg : ModelConfig or a baseline config
        A config with ``signal_names`` and ``track_scales``.
    scales : mapping of str to float
        Track name -> the divisor its values were normalised by (a store's
        ``track_scales``); signals without one (the contact) record 1.
    """
    return replace(model_cfg, track_scales=tuple(float(scales.get(n, 1.0))
                                                 for n in model_cfg.signal_names))
