"""Named presets of :mod:`.config`: ``paper``, ``paper-hard``, ``cpu``, ``cpu-hard``.

Each preset is a pair of field overrides (model, training) applied to the dataclass defaults;
:func:`preset` builds ``(ModelConfig, TrainConfig)`` from one, with further overrides.  See the
module docstring of :mod:`.config` for what each preset is for.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .config import ModelConfig, TrainConfig

_HARD = dict(
    variant="hard",
    beta_min=0.0,
    signal_scale=1.0,
    z_scale=1.0,
    prior_fraction=0.45,
    prior_concentration=0.1 / 0.45,
    share_weights=True,
    generator_signals=True,
    position_embedding=True,
    compact=True,
)

#: the ``cpu`` presets' model and schedule (the hard one adds :data:`_HARD`)
_CPU_MODEL = dict(window_bp=200_000, bin_size=100, d_model=32, n_layers_generator=2,
                  n_layers_predictor=2, head_hidden=64)
_CPU_TRAIN = dict(batch_size=4, steps=3_000, warmup=300, precision="fp32", eval_every=250,
                  checkpoint_every=500)

#: Named presets: ``name -> (model field overrides, train field overrides)``.
PRESETS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "paper": (
        dict(beta_product="reference", n_gene_features=9),
        dict(),
    ),
    "paper-hard": (
        dict(beta_product="reference", n_gene_features=9, **_HARD),
        dict(),
    ),
    "cpu": (dict(_CPU_MODEL), dict(_CPU_TRAIN)),
    "cpu-hard": (dict(_CPU_MODEL, beta_product="reference", **_HARD), dict(_CPU_TRAIN)),
}


def preset(name: str, **overrides: Any) -> tuple[ModelConfig, TrainConfig]:
    """Build ``(ModelConfig, TrainConfig)`` for a named preset.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS`.
    **overrides
        Field values replacing the preset's; each goes to whichever config has the field.

    Raises
    ------
    ValueError
        Unknown preset, unknown field, or an invalid value.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    model_kw, train_kw = (dict(x) for x in PRESETS[name])
    model_names = {f.name for f in fields(ModelConfig)}
    train_names = {f.name for f in fields(TrainConfig)}
    for key, value in overrides.items():
        if key in model_names:
            model_kw[key] = value
        elif key in train_names:
            train_kw[key] = value
        else:
            raise ValueError(f"preset {name!r}: unknown config field {key!r}")
    return ModelConfig(**model_kw), TrainConfig(**train_kw)
