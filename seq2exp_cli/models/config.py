"""Flat, typed configuration of the Seq2Exp model and of its training.

Two dataclasses, no nesting: :class:`ModelConfig` (what is saved beside every checkpoint and
is enough to rebuild the network) and :class:`TrainConfig` (optimiser and schedule).  Both
validate themselves on construction (``ValueError`` naming the field) and round-trip through
JSON-safe dictionaries (:meth:`ModelConfig.to_dict` / :meth:`ModelConfig.from_dict`).

Named presets (:data:`~seq2exp_cli.models.presets.PRESETS`,
:func:`~seq2exp_cli.models.presets.preset`):

``paper``
    The authors' Seq2Exp-soft run exactly as their reference code trains it (method.md):
    200 kb window at 1 bp per token, 4 + 4 Caduceus layers of width 128, the reference's
    Beta product (no ``- 1``), ``b_min = 1``, signal scale ``c = 10``, prior Beta(10, 90),
    KL weight 0.01, nine gene features; AdamW 5e-4, 50,000 steps, batch 8, bf16.
``paper-hard``
    The reference's Seq2Exp-hard run: ``b_min = 0``, ``c = 1``, prior Beta(0.1, 0.122)
    (fraction 0.45, concentration 0.222), generator sees the signals, generator and
    predictor share weights, learned position embedding and compaction of the selection.
``cpu``
    Small enough to train on two CPU cores in minutes: the same 200 kb window at 100 bp
    per token (2,000 tokens), width 32, 2 + 2 layers, batch 4, 3,000 steps, fp32, the
    paper's Beta product.  Measured on the 2-core development machine while other jobs
    shared it: one forward + backward at batch 4 takes ~4 s (~1,900 tokens/s), against
    ~400 tokens/s for ``paper`` (B=1, timed at 20 kb and extrapolated: ~8 min per 200 kb
    window), i.e. ``paper`` needs a GPU.
``cpu-hard``
    ``cpu`` with the hard-mask settings of ``paper-hard``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

VARIANTS = ("soft", "hard")
MASK_SOURCES = ("learned", "fixed", "none")
BETA_PRODUCTS = ("paper", "reference", "vote", "gate")
SPARSITIES = ("beta_kl", "bernoulli")
READOUTS = ("promoter", "additive")
PRECISIONS = ("bf16", "fp32")


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


@dataclass
class ModelConfig:
    """Everything needed to build a :class:`~seq2exp_cli.models.seq2exp.Seq2Exp`.

    Units: ``*_bp`` fields are base pairs; ``bin_size`` is bp per token, so a window holds
    ``window_bp // bin_size`` tokens.

    Attributes
    ----------
    window_bp : int
        Input window length in bp (TSS +- window_bp / 2).  Must be divisible by ``bin_size``.
    bin_size : int
        Base pairs per token (1 = the paper).  Above 1 the sequence goes through a motif
        scanner (Conv1d of width ``motif_width``) and is max-pooled per bin.
    d_model : int
        Channel width of embeddings and Caduceus layers (even when ``rc_equivariant``).
    n_layers_generator, n_layers_predictor : int
        Caduceus depth of the mask generator and of the predictor.
    d_state, d_conv, expand : int
        Mamba state size, causal-convolution width, inner expansion factor.
    rc_equivariant : bool
        Reverse-complement parameter sharing (RCPS) in every Caduceus layer.
    tie_projections : bool
        Share the in/out projections of the forward and reverse Mamba in each BiMamba.
    signal_names : tuple of str
        Epigenomic tracks, in input order; ``k = len(signal_names)``.
    signal_weights, signal_betas : tuple of float
        Per-signal mixing weights ``w_i`` (normalised to sum 1) and constants ``b_i`` of the
        signal Beta (reference: ``w = (0.4, 0.4, 0.2)``, ``b = (1.5, 0.2, 1.0)``).
    n_gene_features : int
        Per-gene features concatenated to the pooled promoter embedding (0 or 9).
    variant : {"soft", "hard"}
        Soft mask multiplies the inputs; hard mask thresholds with a straight-through
        estimator and (optionally) compacts the selection.
    beta_product : {"paper", "reference", "vote", "gate"}
        How the sequence and signal Betas combine (see :mod:`.beta_mask`).  ``vote``: the
        mean-concentration form, mean ``sequence_vote * mu_x + (1 - sequence_vote) * mu_s``
        with the generator's sigmoid ``mu_x``, the scale-free signals' fixed vote ``mu_s``
        (the contact does not vote) and concentration ``mask_concentration``.  ``gate``:
        mean ``mu_x * g`` with the accessibility gate ``g = 1 - exp(-gate_gain * s)`` of the
        ``gate_tracks``: closed chromatin is never kept, and among open sites the generator
        alone decides.
    sequence_vote : float
        ``v`` of the vote form: the generator's share of the Beta's concentration, in
        [0.5, 1] (so the signals can never outvote it).
    gate_tracks : tuple of str
        The tracks of the gate form's ``g`` (those of ``signal_names`` present, averaged;
        none present: every non-contact track).
    gate_gain : float
        ``gate_gain`` of the gate form (> 0): a site at a fifth of the track's robust scale
        is ``1 - 1/e`` open at the default 5.
    mask_concentration : float
        Concentration of the vote-form and gate-form Beta (the sampled mask's spread is
        ``mu (1 - mu) / (concentration + 1)``).
    sparsity : {"beta_kl", "bernoulli"}
        The information term: ``beta_kl`` = KL of the token's Beta to the Beta prior
        (the paper); ``bernoulli`` = KL of a gate with the Beta's mean to a
        ``prior_fraction`` gate (bounded, not a concentrated per-token prior).
    readout : {"promoter", "additive"}
        ``promoter``: the paper's head on the promoter mean.  ``additive``: the same head
        plus ``w ln(1 + sum_t m_t c_t a_t / b)`` over the distal tokens, with the Hi-C
        contact ``c_t`` and a learned power law ``a_t`` of the scale-free marks
        (:mod:`.readout`): every token's mask reaches the loss in one hop.
    readout_width : int
        Tokens each activity of the additive readout reads (odd).
    readout_tracks : tuple of str
        The tracks the readout's activity ``a_t`` reads (those of ``signal_names`` present;
        none present: every non-contact track).  The cpu presets read accessibility alone
        (``dnase``/``atac``): whether an open site regulates the gene is then the mask's
        call, not the activity's.
    generator_embedding : bool
        The generator reads the sequence (and signals) through a motif scanner of its own
        instead of sharing the predictor's, so its filters learn only what the mask needs.
    beta_min : float
        ``b_min``: floor added to the head's softplus and to signal values.
    signal_scale : float
        ``c``: scale of the signal Beta parameters.
    z_scale : float
        ``z``: the reference multiplies both combined concentrations by this factor
        (sharpens, > 1, or flattens, < 1, the mask distribution without moving its mean).
        The reference uses 1; only used with ``beta_product="reference"``.
    prior_fraction : float
        Prior mean ``a0 / (a0 + b0)``: expected fraction of regulatory positions.
    prior_concentration : float
        Prior ``a0 + b0``.  Soft reference: 100 (Beta(10, 90)); hard: 0.2222 (Beta(0.1, 0.122)).
    kl_weight : float
        Weight of the KL term in the loss.
    mask_threshold : float
        Hard-mask threshold on the Beta sample (train) or mean (eval).
    promoter_bp : int
        Central span forced to mask 1 and mean-pooled by the head.
    motif_width : int
        Width in bp of the motif-scanning convolution (``bin_size > 1`` only).
    share_weights : bool
        Generator and predictor are the same Caduceus (reference hard run).
    generator_signals : bool
        Generator input is ``seq_emb + sig_emb`` instead of ``seq_emb`` (reference hard run).
    position_embedding : bool
        Learned embedding of the original token position, added to the sequence embedding
        (reference hard run; needed once the selection is compacted).
    compact : bool
        Hard variant: the predictor runs on the selected tokens only, compacted and padded
        to the batch's longest selection.  Ignored for the soft variant.
    head_hidden : int
        Width of the two hidden layers of the expression MLP.
    feature_term : {"mlp", "linear"}
        Where the gene features enter the head: into its MLP (the reference) or as a linear
        term added to its output (what ``train --fit-features`` fits in closed form).
    feature_mean, feature_scale : tuple of float
        Standardisation of the gene features, ``(f - mean) / scale``, applied inside the
        model (set by ``seq2exp train`` from the training genes); empty = none.
    track_scales : tuple of float
        The divisor of each of ``signal_names`` on the training data (the store's
        ``track_scales``; 1 for the contact, which is normalised per gene): a record of the
        units the model was trained on.  Not applied by the model: every input track is
        divided by its own scale when it is read (:mod:`seq2exp_cli.store.normalise`).
    mask_source : {"learned", "fixed", "none"}
        ``learned``: the Seq2Exp generator.  ``fixed``: the mask is given to ``forward``
        (Table 2's retrained predictor on a frozen generator's top-k or on peaks).
        ``none``: no mask (all ones): the predictor alone ("Caduceus w/ signals").
    use_signals : bool
        Add the signal embedding to the predictor input; False with ``mask_source="none"``
        gives the sequence-only Caduceus baseline.
    mask_token : bool
        Soft variant: predictor input ``m * x + (1 - m) * e`` with a learned "masked"
        embedding ``e`` (zero-initialised), instead of ``m * x``.  The pre-norm RMSNorm of
        the first predictor layer cancels a per-token scale, so with ``m * x`` alone a
        masked token differs from an unmasked one only through the residual stream; ``e``
        gives masking a direction the predictor can see.  Off in every preset.
    window_pool : bool
        The head reads ``[promoter mean, window mean]`` of the predictor output instead of
        the promoter mean alone (the paper).  The window mean runs over the kept tokens
        (hard, compacted) or over all tokens (otherwise; the inputs are mask-weighted), so
        every token's mask reaches the loss in one step, not only through what the
        predictor's scans carry to the promoter.  Off in every preset.
    """

    window_bp: int = 200_000
    bin_size: int = 1
    d_model: int = 128
    n_layers_generator: int = 4
    n_layers_predictor: int = 4
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    rc_equivariant: bool = False
    tie_projections: bool = True
    signal_names: tuple[str, ...] = ("h3k27ac", "dnase", "contact")
    signal_weights: tuple[float, ...] = (0.4, 0.4, 0.2)
    signal_betas: tuple[float, ...] = (1.5, 0.2, 1.0)
    n_gene_features: int = 0
    variant: str = "soft"
    beta_product: str = "paper"
    sequence_vote: float = 0.6
    mask_concentration: float = 10.0
    gate_tracks: tuple[str, ...] = ("dnase", "atac")
    gate_gain: float = 5.0
    sparsity: str = "beta_kl"
    readout: str = "promoter"
    readout_width: int = 5
    readout_tracks: tuple[str, ...] = ("dnase", "h3k27ac", "atac")
    generator_embedding: bool = False
    beta_min: float = 1.0
    signal_scale: float = 10.0
    z_scale: float = 1.0
    prior_fraction: float = 0.1
    prior_concentration: float = 100.0
    kl_weight: float = 0.01
    mask_threshold: float = 0.5
    promoter_bp: int = 2000
    motif_width: int = 15
    share_weights: bool = False
    generator_signals: bool = False
    position_embedding: bool = False
    compact: bool = True
    head_hidden: int = 128
    feature_term: str = "mlp"
    feature_mean: tuple[float, ...] = ()
    feature_scale: tuple[float, ...] = ()
    track_scales: tuple[float, ...] = ()
    mask_source: str = "learned"
    use_signals: bool = True
    mask_token: bool = False
    window_pool: bool = False

    def __post_init__(self) -> None:
        """Normalise the field types, then :meth:`validate`."""
        self.feature_mean = tuple(float(v) for v in self.feature_mean)
        self.feature_scale = tuple(float(v) for v in self.feature_scale)
        self.track_scales = tuple(float(v) for v in self.track_scales)
        for name in ("signal_names", "signal_weights", "signal_betas", "readout_tracks",
                     "gate_tracks"):
            setattr(self, name, tuple(getattr(self, name)))
        self.signal_weights = tuple(float(w) for w in self.signal_weights)
        self.signal_betas = tuple(float(b) for b in self.signal_betas)
        self.validate()

    @property
    def n_signals(self) -> int:
        """Number of epigenomic tracks ``k``."""
        return len(self.signal_names)

    @property
    def n_tokens(self) -> int:
        """Tokens in a full window: ``window_bp // bin_size``."""
        return self.window_bp // self.bin_size

    @property
    def prior_alpha(self) -> float:
        """Prior ``a0 = fraction * concentration``."""
        return self.prior_fraction * self.prior_concentration

    @property
    def prior_beta(self) -> float:
        """Prior ``b0 = (1 - fraction) * concentration``."""
        return (1.0 - self.prior_fraction) * self.prior_concentration

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        for name in (
            "window_bp",
            "bin_size",
            "d_model",
            "n_layers_generator",
            "n_layers_predictor",
            "d_state",
            "d_conv",
            "expand",
            "promoter_bp",
            "motif_width",
            "head_hidden",
        ):
            v = getattr(self, name)
            _check(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                f"{name} must be a positive integer, got {v!r}",
            )
        _check(
            self.n_gene_features >= 0, f"n_gene_features must be >= 0, got {self.n_gene_features}"
        )
        _check(
            self.window_bp % self.bin_size == 0,
            f"window_bp ({self.window_bp}) must be divisible by bin_size ({self.bin_size})",
        )
        _check(
            self.promoter_bp <= self.window_bp,
            f"promoter_bp ({self.promoter_bp}) must not exceed window_bp ({self.window_bp})",
        )
        _check(
            not self.rc_equivariant or self.d_model % 2 == 0,
            f"rc_equivariant needs an even d_model, got {self.d_model}",
        )
        _check(self.variant in VARIANTS, f"variant must be one of {VARIANTS}, got {self.variant!r}")
        _check(
            self.beta_product in BETA_PRODUCTS,
            f"beta_product must be one of {BETA_PRODUCTS}, got {self.beta_product!r}",
        )
        k = len(self.signal_names)
        _check(k >= 1, "signal_names must name at least one signal")
        _check(len(set(self.signal_names)) == k, f"signal_names repeat a name: {self.signal_names}")
        _check(
            len(self.signal_weights) == k,
            f"signal_weights needs {k} values (one per signal), got {len(self.signal_weights)}",
        )
        _check(
            len(self.signal_betas) == k,
            f"signal_betas needs {k} values (one per signal), got {len(self.signal_betas)}",
        )
        _check(
            all(w >= 0 for w in self.signal_weights) and sum(self.signal_weights) > 0,
            f"signal_weights must be >= 0 with a positive sum, got {self.signal_weights}",
        )
        _check(
            all(b >= 0 for b in self.signal_betas),
            f"signal_betas must be >= 0, got {self.signal_betas}",
        )
        _check(self.sparsity in SPARSITIES,
               f"sparsity must be one of {SPARSITIES}, got {self.sparsity!r}")
        _check(self.readout in READOUTS, f"readout must be one of {READOUTS}, got {self.readout!r}")
        _check(self.feature_term in ("mlp", "linear"),
               f"feature_term must be 'mlp' or 'linear', got {self.feature_term!r}")
        _check(0.5 <= self.sequence_vote <= 1.0,
               f"sequence_vote must lie in [0.5, 1], got {self.sequence_vote}")
        _check(self.gate_gain > 0, f"gate_gain must be > 0, got {self.gate_gain}")
        _check(self.mask_concentration > 0,
               f"mask_concentration must be > 0, got {self.mask_concentration}")
        _check(isinstance(self.readout_width, int) and self.readout_width >= 1
               and self.readout_width % 2 == 1,
               f"readout_width must be an odd positive integer, got {self.readout_width!r}")
        _check(self.beta_min >= 0, f"beta_min must be >= 0, got {self.beta_min}")
        _check(self.signal_scale >= 0, f"signal_scale must be >= 0, got {self.signal_scale}")
        _check(self.z_scale > 0, f"z_scale must be > 0, got {self.z_scale}")
        _check(
            0.0 < self.prior_fraction < 1.0,
            f"prior_fraction must lie in (0, 1), got {self.prior_fraction}",
        )
        _check(
            self.prior_concentration > 0,
            f"prior_concentration must be > 0, got {self.prior_concentration}",
        )
        _check(self.kl_weight >= 0, f"kl_weight must be >= 0, got {self.kl_weight}")
        _check(
            0.0 < self.mask_threshold < 1.0,
            f"mask_threshold must lie in (0, 1), got {self.mask_threshold}",
        )
        _check(
            not self.share_weights or self.n_layers_generator == self.n_layers_predictor,
            "share_weights needs n_layers_generator == n_layers_predictor "
            f"({self.n_layers_generator} != {self.n_layers_predictor})",
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (tuples become lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        return _from_dict(cls, d)


@dataclass
class TrainConfig:
    """Optimiser, schedule and bookkeeping for training (units: optimiser steps).

    AdamW(``lr``, ``betas``, ``weight_decay``); linear warm-up from ``warmup_start_lr`` to
    ``lr`` over ``warmup`` steps, then cosine decay to ``min_lr`` at ``steps``; gradient
    norm clipped at ``grad_clip``; ``precision`` "bf16" (autocast) or "fp32";
    ``mask_lr_scale`` multiplies the learning rate of the mask's own parameters (generator,
    its embedding, the mask head: ``Seq2Exp.mask_parameters``); ``freeze_mask`` leaves them
    as they start (with ``train --init-from``: the second stage, which trains the predictor
    and head, with gene features, under a trained model's mask).  ``fit_features`` trains
    nothing by steps: it fits the head's linear gene-feature term in closed form on the
    ``--init-from`` model's predictions of at most ``fit_genes`` training genes
    (:mod:`seq2exp_cli.training.feature_fit`).
    """

    lr: float = 5e-4
    weight_decay: float = 1e-6
    betas: tuple[float, float] = (0.9, 0.95)
    steps: int = 50_000
    warmup: int = 5_000
    warmup_start_lr: float = 1e-5
    min_lr: float = 1e-4
    batch_size: int = 8
    grad_clip: float = 1.0
    precision: str = "bf16"
    seed: int = 2
    eval_every: int = 1_000
    checkpoint_every: int = 5_000
    mask_lr_scale: float = 1.0
    freeze_mask: bool = False
    fit_features: bool = False
    fit_genes: int = 2000

    def __post_init__(self) -> None:
        """Normalise the field types, then :meth:`validate`."""
        self.betas = tuple(float(b) for b in self.betas)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        for name in ("lr", "warmup_start_lr", "min_lr"):
            v = getattr(self, name)
            _check(v > 0 and math.isfinite(v), f"{name} must be a positive number, got {v!r}")
        _check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        _check(
            len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas),
            f"betas must be two numbers in [0, 1), got {self.betas}",
        )
        for name in ("steps", "batch_size", "eval_every", "checkpoint_every", "fit_genes"):
            v = getattr(self, name)
            _check(isinstance(v, int) and v >= 1, f"{name} must be a positive integer, got {v!r}")
        _check(
            0 <= self.warmup <= self.steps,
            f"warmup must lie in [0, steps={self.steps}], got {self.warmup}",
        )
        _check(self.grad_clip > 0, f"grad_clip must be > 0, got {self.grad_clip}")
        _check(self.mask_lr_scale > 0, f"mask_lr_scale must be > 0, got {self.mask_lr_scale}")
        _check(
            self.precision in PRECISIONS,
            f"precision must be one of {PRECISIONS}, got {self.precision!r}",
        )
        _check(self.min_lr <= self.lr, f"min_lr ({self.min_lr}) must not exceed lr ({self.lr})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (tuples become lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        return _from_dict(cls, d)


def _to_dict(obj: Any) -> dict[str, Any]:
    out = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def _from_dict(cls: type, d: dict[str, Any]) -> Any:
    if not isinstance(d, dict):
        raise ValueError(f"{cls.__name__}: expected a dictionary, got {type(d).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {unknown}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return cls(**kwargs)


def replace(cfg: Any, **changes: Any) -> Any:
    """Copy of a config with some fields changed (validated again)."""
    return dataclasses.replace(cfg, **changes)


__all__ = ["ModelConfig", "TrainConfig", "replace"]
