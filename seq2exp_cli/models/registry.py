"""Every model ``seq2exp`` can train, by name: building, saving and reloading them alike.

Names (``seq2exp train --model NAME``, ``seq2exp benchmark --models ...``):

========================  =====================================================================
``seq2exp-soft``          Seq2Exp, soft mask (``seq2exp`` is the same, with the preset's variant)
``seq2exp-hard``          Seq2Exp, hard mask (the preset's ``-hard`` counterpart)
``caduceus-signals``      the Seq2Exp predictor on sequence + signals, no mask
``caduceus-seq``          the Seq2Exp predictor on sequence only
``epinformer``            promoter-element attention over DNase-peak candidates (EPInformer)
``epiexpr-1d``            residual CNN over binned tracks (EpiExpr-1D)
``epiexpr-3d``            EpiExpr-1D + graph attention over Hi-C contacts (EpiExpr-3D)
``simplechrome``          convolutional VAE over marks around the TSS (SimpleChrome)
``abc``                   activity-by-contact; ridge on promoter activity for expression
========================  =====================================================================

The first four are :class:`~seq2exp_cli.models.config.ModelConfig` configurations of
:class:`~seq2exp_cli.models.seq2exp.Seq2Exp`; the others have their own config classes in
:mod:`seq2exp_cli.models.baselines`.  A config's class says which network it builds
(:func:`build_model`); a checkpoint records that ``model_type`` (:func:`model_type_of`).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Seq2Exp configurations: name -> (ModelConfig overrides, which preset: "given" = as named,
#: "soft" = the named preset without "-hard", "hard" = its "-hard" counterpart)
SEQ2EXP_MODELS: dict[str, tuple[dict[str, Any], str]] = {
    "seq2exp": ({}, "given"),
    "seq2exp-soft": ({}, "soft"),
    "seq2exp-hard": ({}, "hard"),
    "caduceus-signals": ({"mask_source": "none"}, "soft"),
    "caduceus-seq": ({"mask_source": "none", "use_signals": False}, "soft"),
}

#: baseline name -> (module, config class, model class)
BASELINES: dict[str, tuple[str, str, str]] = {
    "epinformer": ("epinformer", "EPInformerConfig", "EPInformer"),
    "epiexpr-1d": ("epiexpr", "EpiExprConfig", "EpiExpr1D"),
    "epiexpr-3d": ("epiexpr", "EpiExpr3DConfig", "EpiExpr3D"),
    "simplechrome": ("simplechrome", "SimpleChromeConfig", "SimpleChrome"),
    "abc": ("abc", "ABCConfig", "ABCModel"),
}

MODEL_NAMES: tuple[str, ...] = tuple(SEQ2EXP_MODELS) + tuple(BASELINES)


def _baseline(name: str) -> tuple[type, type]:
    mod, cfg_cls, net_cls = BASELINES[name]
    m = importlib.import_module(f"seq2exp_cli.models.baselines.{mod}")
    return getattr(m, cfg_cls), getattr(m, net_cls)


def config_class(name: str) -> type:
    """The config dataclass of model type ``name`` ("seq2exp" or a baseline name)."""
    if name in BASELINES:
        return _baseline(name)[0]
    if name == "seq2exp" or name in SEQ2EXP_MODELS:
        from .config import ModelConfig

        return ModelConfig
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")


def model_type_of(cfg) -> str:
    """``"seq2exp"`` for a ModelConfig, else the baseline config's ``model_type``."""
    return getattr(type(cfg), "model_type", "seq2exp")


def build_model(cfg, backend: str = "auto"):
    """A fresh network for ``cfg`` (any model's config)."""
    kind = model_type_of(cfg)
    if kind == "seq2exp":
        from .seq2exp import Seq2Exp

        return Seq2Exp(cfg, backend=backend)
    return _baseline(kind)[1](cfg)


def config_from_dict(kind: str, d: dict):
    """Inverse of ``cfg.to_dict()`` for a model of type ``kind``."""
    return config_class(kind).from_dict(d)


def is_baseline(name_or_cfg) -> bool:
    """True for a baseline's name or config."""
    if isinstance(name_or_cfg, str):
        return name_or_cfg in BASELINES
    return model_type_of(name_or_cfg) != "seq2exp"


def uses_contact_matrix(cfg) -> bool:
    """True when the model reads the window's Hi-C bin-by-bin matrix."""
    kind = model_type_of(cfg)
    return kind != "seq2exp" and bool(getattr(_baseline(kind)[1], "needs_contact_matrix", False))


def scores_elements(cfg) -> bool:
    """True when the model scores candidate elements itself (EPInformer, ABC); Seq2Exp's
    learned/fixed mask is handled by :mod:`seq2exp_cli.inference.elements`."""
    kind = model_type_of(cfg)
    return kind != "seq2exp" and bool(getattr(_baseline(kind)[1], "scores_elements", False))


def baseline_config(name: str, overrides: dict[str, Any]):
    """A baseline's config: its defaults with the fields of ``overrides`` it has (others are
    ignored, as the Seq2Exp-only fields of a preset are); ``ValueError`` on a bad value."""
    from dataclasses import fields

    cls = config_class(name)
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in overrides.items() if k in names})


def make_configs(name: str, preset_name: str, overrides: dict[str, Any]):
    """``(model_cfg, train_cfg)`` of model ``name`` on preset ``preset_name``.

    Seq2Exp models take the preset (``seq2exp-hard`` its ``-hard`` counterpart) with their
    overrides; a baseline takes the preset's training schedule and window, its own defaults
    for the rest, and the fields of ``overrides`` that it or TrainConfig has.  Fields that only
    other models have are ignored, so one ``--set`` list can serve a whole benchmark.
    ``ValueError`` for an unknown name, preset, field or bad value.
    """
    from dataclasses import fields

    from .config import ModelConfig, TrainConfig
    from .presets import PRESETS, preset

    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    seq2exp_names = {f.name for f in fields(ModelConfig)} | {f.name for f in fields(TrainConfig)}
    kw = dict(overrides)

    def baseline_names() -> set[str]:
        return set().union(*({f.name for f in fields(config_class(b))} for b in BASELINES))

    if name in SEQ2EXP_MODELS:
        if set(kw) - seq2exp_names:  # drop the baselines' fields (imports them only then)
            other = baseline_names()
            kw = {k: v for k, v in kw.items() if k in seq2exp_names or k not in other}
        extra, which = SEQ2EXP_MODELS[name]
        for key, value in extra.items():
            kw.setdefault(key, value)
        soft = preset_name.removesuffix("-hard")
        return preset({"given": preset_name, "soft": soft, "hard": f"{soft}-hard"}[which], **kw)
    if preset_name not in PRESETS:
        raise ValueError(f"unknown preset {preset_name!r}; choose one of {sorted(PRESETS)}")
    model_kw, train_kw = (dict(x) for x in PRESETS[preset_name])
    cls = config_class(name)
    own = {f.name for f in fields(cls)}
    train_names = {f.name for f in fields(TrainConfig)}
    known = seq2exp_names | baseline_names()  # other models' fields are ignored here
    mkw = {"window_bp": model_kw.get("window_bp", ModelConfig.window_bp)}
    for key, value in kw.items():
        if key in own:
            mkw[key] = value
        elif key in train_names:
            train_kw[key] = value
        elif key not in known:
            raise ValueError(f"{name}: unknown config field {key!r}")
    return cls(**mkw), TrainConfig(**train_kw)


__all__ = ["BASELINES", "MODEL_NAMES", "SEQ2EXP_MODELS", "baseline_config", "build_model", "make_configs",
           "config_class", "config_from_dict", "is_baseline", "model_type_of",
           "scores_elements", "uses_contact_matrix"]
