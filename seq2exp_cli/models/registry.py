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
    """Return the config dataclass of model type ``name`` ("seq2exp" or a baseline name)."""
    if name in BASELINES:
        return _baseline(name)[0]
    if name == "seq2exp" or name in SEQ2EXP_MODELS:
        from .config import ModelConfig

        return ModelConfig
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")


def model_type_of(cfg) -> str:
    """``"seq2exp"`` for a ModelConfig, else the baseline config's ``model_type``."""
    return getattr(type(cfg), "model_type", "seq2exp")


def model_class(cfg) -> type:
    """Return the network class a config builds (:class:`~seq2exp_cli.models.seq2exp.Seq2Exp` or a baseline's).

    The class declares what the model needs (``needs_contact_matrix``, ``scores_elements``,
    ``closed_form``) as attributes.
    """
    kind = model_type_of(cfg)
    if kind == "seq2exp":
        from .seq2exp import Seq2Exp

        return Seq2Exp
    return _baseline(kind)[1]


def build_model(cfg, backend: str = "auto"):
    """Build a fresh network for ``cfg`` (any model's config)."""
    cls = model_class(cfg)
    return cls(cfg, backend=backend) if model_type_of(cfg) == "seq2exp" else cls(cfg)


def config_from_dict(kind: str, d: dict):
    """Inverse of ``cfg.to_dict()`` for a model of type ``kind``."""
    return config_class(kind).from_dict(d)


__all__ = ["BASELINES", "MODEL_NAMES", "SEQ2EXP_MODELS", "build_model", "config_class",
           "config_from_dict", "model_class", "model_type_of"]
