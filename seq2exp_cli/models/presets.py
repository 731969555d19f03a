"""Named presets of :mod:`.config`.

``paper``, ``paper-hard``
    The authors' two runs, exactly as their reference code trains them.
``cpu``, ``cpu-hard``
    Small enough for two CPU cores, with this project's mask (issue 11; docs/models.md):
    the gate form (the Beta mean is the generator's sequence score times an accessibility
    gate of DNase/ATAC), the Bernoulli information term (prior rate 0.5, weight 0.1) and
    the additive contact-weighted readout, so every token's mask reaches the loss.
``cpu-paper``, ``cpu-paper-hard``
    The same small networks with the paper's mask (the ``cpu`` presets before issue 11).
``gpu``, ``gpu-hard``
    This project's mask at a GPU's scale: 10 bp per token (20,000 tokens), width 128,
    4 + 4 layers, batch 8, 20,000 steps, bf16.

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

#: this project's mask (issue 11; docs/models.md): the generator's Beta mean gated by
#: accessibility, a Bernoulli information term that anchors the open tokens at 0.5, the
#: additive contact-weighted readout of accessibility, and a motif scanner of the
#: generator's own
_GATE = dict(beta_product="gate", gate_tracks=("dnase", "atac"), gate_gain=5.0,
             mask_concentration=10.0, sparsity="bernoulli", prior_fraction=0.5, kl_weight=0.1,
             readout="additive", readout_tracks=("dnase", "atac"), generator_signals=True,
             generator_embedding=True)
#: its hard variant: threshold 0.5 with the straight-through estimator, compaction of the
#: selection (with the position embedding that compaction needs), shared weights
_GATE_HARD = dict(_GATE, variant="hard", share_weights=True, position_embedding=True,
                  compact=True)

_GPU_MODEL = dict(window_bp=200_000, bin_size=10, d_model=128, n_layers_generator=4,
                  n_layers_predictor=4, head_hidden=128, readout_width=51)
_GPU_TRAIN = dict(batch_size=8, steps=20_000, warmup=2_000, precision="bf16", eval_every=1_000,
                  checkpoint_every=1_000)

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
    "cpu": (dict(_CPU_MODEL, **_GATE), dict(_CPU_TRAIN)),
    "cpu-hard": (dict(_CPU_MODEL, **_GATE_HARD), dict(_CPU_TRAIN)),
    "cpu-paper": (dict(_CPU_MODEL), dict(_CPU_TRAIN)),
    "cpu-paper-hard": (dict(_CPU_MODEL, beta_product="reference", **_HARD), dict(_CPU_TRAIN)),
    "gpu": (dict(_GPU_MODEL, **_GATE), dict(_GPU_TRAIN)),
    "gpu-hard": (dict(_GPU_MODEL, **_GATE_HARD), dict(_GPU_TRAIN)),
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
