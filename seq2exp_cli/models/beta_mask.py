"""The Beta mask of Seq2Exp: parameters, product, prior, KL, sampling, hard threshold.

Per token ``t`` the mask ``m_t in (0, 1)`` follows a Beta distribution built from two parts
(method.md, "The mask"; all tensors below are ``(B, T)`` with ``T`` tokens):

* sequence part ``Beta(alpha_x, beta_x)`` from the generator: :class:`MaskHead`,
  ``Linear(d, 2)`` then ``softplus + b_min`` (channel 1 -> alpha, channel 0 -> beta);
* signal part ``Beta(alpha_s, beta_s)`` with no learned parameters
  (:func:`signal_beta_params`): with mixing weights ``w_i`` (normalised to sum 1), signal
  values ``s_i`` and constants ``b_i``::

      alpha_s = sum_i w_i * c * (s_i + b_min)      beta_s = sum_i w_i * c * (b_i + b_min)

  (the reference: ``w = (0.4, 0.4, 0.2)``, ``b = (1.5, 0.2, 1.0)``; soft ``b_min=1, c=10``,
  hard ``b_min=0, c=1``).

:func:`combine_betas` multiplies the two densities:

* ``"paper"`` (default): ``Beta(a1, b1) * Beta(a2, b2)`` is proportional to
  ``x^(a1+a2-2) (1-x)^(b1+b2-2)``, i.e. ``Beta(a1 + a2 - 1, b1 + b2 - 1)``.  This is a
  normalisable density only when both sums exceed 0; the paper asks for sums > 1.  When a
  sum ``a1 + a2 - 1`` falls below ``min_concentration`` (default 1e-3) it is clamped there
  (the gradient through that parameter is then zero); with the soft reference settings
  (``b_min = 1``, ``c = 10``) the sums are always >= 10 and the clamp never acts.
* ``"reference"``: the authors' code drops the ``- 1`` terms and scales both parameters by
  ``z`` (their ``z_scale``, 1 in both published runs): ``Beta(z (a1 + a2), z (b1 + b2))``.
  ``z`` keeps the mean ``a / (a + b)`` and multiplies the concentration, so it sets how
  sharply samples cluster around that mean.

Prior ``r(m) = Beta(a0, b0)`` with ``a0 = fraction * concentration``,
``b0 = (1 - fraction) * concentration`` (:func:`prior_params`); :func:`beta_kl` is the
closed-form ``KL(Beta(a, b) || Beta(a0, b0))`` written with ``lgamma``/``digamma``.

Sampling (:func:`sample_mask`): training draws ``Beta.rsample()`` (normalised Gammas with
implicit reparameterisation gradients); evaluation uses the mean ``a / (a + b)``.  The hard
variant thresholds with a straight-through estimator (:func:`straight_through_threshold`),
and :func:`force_regions` sets blacklisted tokens to 0 and the promoter span to 1 (promoter
wins where both apply).

**Vote form** (``beta_product="vote"``, the cpu presets' default; not in the paper).  The
product of two Betas written in mean-concentration form is a vote: with
``Beta(k_x mu_x, k_x (1 - mu_x))`` from the sequence and ``Beta(k_s mu_s, k_s (1 - mu_s))``
from the signals, the reference's product ``Beta(a1 + a2, b1 + b2)`` has mean
``v mu_x + (1 - v) mu_s`` with ``v = k_x / (k_x + k_s)`` and concentration ``k_x + k_s``
(:func:`vote_beta_params`).  Here ``v`` (``sequence_vote``, at least 0.5) and the
concentration are fixed, ``mu_x`` is the generator's sigmoid and ``mu_s``
(:func:`signal_vote`) a fixed saturating function of the scale-free signals, so raw units
cannot outvote the sequence.  Sparsity then comes from :func:`bernoulli_kl`, the
information cost of a gate of mean ``mu`` against a prior rate ``pi`` (at most
``-ln min(pi, 1 - pi)`` nats per token), instead of the KL to a concentrated Beta prior,
which costs ~124 nats at ``m = 0.8`` under Beta(10, 90) and pulls every token alike.

**Gate form** (``beta_product="gate"``, measured in docs/models.md).  The vote form lets the
signals carry the mask: measured on the large simulation, the sparsity term drives the
generator's sigmoid towards 0 everywhere (mean 0.004, sd 0.0004 over tokens at step 500),
where its gradient vanishes, and the mask becomes the signals' vote.  The gate form
multiplies instead, ``mu = mu_x * g`` with the accessibility ``g`` of the gate tracks
(:func:`gate_beta_params`): closed tokens are 0 at no cost to the generator, so the
sparsity term only reaches it at open tokens, where its call (enhancer or decoy) is the
only thing that moves the mask.

All maths runs in float32 (float64 when given float64), also under bf16 autocast.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "MaskHead",
    "bernoulli_kl",
    "beta_kl",
    "beta_mean",
    "combine_betas",
    "force_regions",
    "prior_params",
    "promoter_token_span",
    "sample_mask",
    "signal_beta_params",
    "signal_vote",
    "straight_through_threshold",
    "vote_beta_params",
]


def _full(x: torch.Tensor) -> torch.Tensor:
    """Upcast half/bfloat16 to float32; keep float32/float64."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def no_autocast(device_type: str):
    """Context disabling autocast on ``device_type`` (Beta maths needs full precision)."""
    try:
        return torch.autocast(device_type=device_type, enabled=False)
    except RuntimeError:  # pragma: no cover - device type without autocast support
        return contextlib.nullcontext()


class MaskHead(nn.Module):
    """Generator head: hidden states to the sequence Beta's parameters.

    Parameters
    ----------
    d_model : int
        Width of the generator output.
    beta_min : float
        ``b_min`` added after the softplus (both parameters >= b_min).

    Attributes
    ----------
    proj : nn.Linear(d_model, 2); output channel 1 gives alpha, channel 0 gives beta.
    """

    def __init__(self, d_model: int, beta_min: float = 1.0) -> None:
        super().__init__()
        self.beta_min = float(beta_min)
        self.proj = nn.Linear(d_model, 2)

    def mean(self, h: torch.Tensor) -> torch.Tensor:
        """The sequence's vote ``mu_x = sigmoid(l_1 - l_0)`` of the vote form, ``(B, T)``
        (the same two output channels as :meth:`forward`: 1 for, 0 against)."""
        logits = _full(self.proj(h))
        return torch.sigmoid(logits[..., 1] - logits[..., 0])

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``h: (B, T, d_model)`` -> ``(alpha_x, beta_x)``, each ``(B, T)``, float32+."""
        logits = _full(self.proj(h))
        alpha = F.softplus(logits[..., 1]) + self.beta_min
        beta = F.softplus(logits[..., 0]) + self.beta_min
        return alpha, beta


def signal_beta_params(
    signals: torch.Tensor,
    weights: torch.Tensor | tuple[float, ...],
    betas: torch.Tensor | tuple[float, ...],
    beta_min: float,
    scale: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Parameters of the signal Beta (no learned parameters).

    Parameters
    ----------
    signals : torch.Tensor, shape=(B, T, k)
        Signal value per token (bin average when tokens span several bp).
    weights : sequence of k floats
        Mixing weights ``w_i``; normalised here to sum to 1.
    betas : sequence of k floats
        Constants ``b_i`` of each signal's beta parameter.
    beta_min : float
        ``b_min`` added to signal values and to ``b_i``.
    scale : float
        ``c``, multiplies both parameters.

    Returns
    -------
    alpha_s, beta_s : torch.Tensor, shape=(B, T)
        ``sum_i w_i c (s_i + b_min)`` and ``sum_i w_i c (b_i + b_min)`` (broadcast to (B, T)).
    """
    s = _full(signals)
    w = torch.as_tensor(weights, dtype=s.dtype, device=s.device)
    b = torch.as_tensor(betas, dtype=s.dtype, device=s.device)
    if w.shape != (s.shape[-1],) or b.shape != (s.shape[-1],):
        raise ValueError(
            f"need one weight and one beta per signal ({s.shape[-1]}), got {tuple(w.shape)}, "
            f"{tuple(b.shape)}"
        )
    w = w / w.sum()
    alpha = scale * ((s + beta_min) * w).sum(-1)
    beta = (scale * (w * (b + beta_min)).sum()).expand_as(alpha)
    return alpha, beta


def combine_betas(
    alpha_x: torch.Tensor,
    beta_x: torch.Tensor,
    alpha_s: torch.Tensor,
    beta_s: torch.Tensor,
    form: str = "paper",
    z_scale: float = 1.0,
    min_concentration: float = 1e-3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Parameters of the (normalised) product of the sequence and signal Betas.

    Parameters
    ----------
    alpha_x, beta_x, alpha_s, beta_s : torch.Tensor, shape=(B, T) (broadcastable)
    form : {"paper", "reference"}
        ``"paper"``: ``(alpha_x + alpha_s - 1, beta_x + beta_s - 1)`` floored at
        ``min_concentration``.  ``"reference"``: ``(z (alpha_x + alpha_s), z (beta_x + beta_s))``.
    z_scale : float
        ``z`` of the reference form (ignored by ``"paper"``).
    min_concentration : float
        Floor of both parameters (both forms), keeps the Beta valid.

    Returns
    -------
    alpha, beta : torch.Tensor, shape=(B, T)
    """
    if form == "paper":
        alpha = alpha_x + alpha_s - 1.0
        beta = beta_x + beta_s - 1.0
    elif form == "reference":
        alpha = z_scale * (alpha_x + alpha_s)
        beta = z_scale * (beta_x + beta_s)
    else:
        raise ValueError(f"form must be 'paper' or 'reference', got {form!r}")
    return alpha.clamp_min(min_concentration), beta.clamp_min(min_concentration)


def signal_vote(signals: torch.Tensor, weights, gain: float = 1.0) -> torch.Tensor:
    """The signals' vote ``mu_s = 1 - exp(-sum_i w_i s_i)`` per token, ``(B, T)``.

    Parameters
    ----------
    signals : torch.Tensor, shape=(B, T, k)
        Scale-free signal values per token (each track divided by its robust scale, so a
        strong peak is about 1; negative values count as 0).
    weights : sequence of k floats
        ``w_i`` (normalised to sum 1; 0 leaves a track out, e.g. the contact).
    gain : float
        ``mu_s = 1 - exp(-gain * sum_i w_i s_i)`` (1 in the vote form).

    Returns
    -------
    torch.Tensor, shape=(B, T), values in [0, 1): 0 with no signal, ``1 - 1/e`` at a peak
    of 1, saturating above.
    """
    s = _full(signals).clamp_min(0.0)
    w = torch.as_tensor(weights, dtype=s.dtype, device=s.device)
    if w.shape != (s.shape[-1],):
        raise ValueError(f"need one weight per signal ({s.shape[-1]}), got {tuple(w.shape)}")
    return 1.0 - torch.exp(-gain * (s * (w / w.sum())).sum(-1))


def vote_beta_params(
    mu_x: torch.Tensor, mu_s: torch.Tensor, vote: float, concentration: float,
    eps: float = 1e-3,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The product of the sequence and signal Betas in mean-concentration form.

    ``mu = vote * mu_x + (1 - vote) * mu_s`` (clipped to ``[eps, 1 - eps]``), then
    ``alpha = concentration * mu`` and ``beta = concentration * (1 - mu)``: the reference's
    product ``Beta(k_x mu_x + k_s mu_s, k_x (1 - mu_x) + k_s (1 - mu_s))`` with
    ``k_x = vote * concentration`` and ``k_s = (1 - vote) * concentration``.

    Parameters
    ----------
    mu_x, mu_s : torch.Tensor, shape=(B, T)
        The sequence's and the signals' means, in [0, 1].
    vote : float
        The sequence's share of the concentration, ``v`` in [0.5, 1].
    concentration : float
        ``k_x + k_s`` (> 0): the sampled mask's spread is ``mu (1 - mu) / (k + 1)``.

    Returns
    -------
    alpha, beta, mu : torch.Tensor, shape=(B, T)
    """
    return _mean_concentration(vote * mu_x + (1.0 - vote) * mu_s, concentration, eps)


def _mean_concentration(mu: torch.Tensor, concentration: float, eps: float):
    """``(k mu, k (1 - mu), mu)`` with ``mu`` clipped to ``[eps, 1 - eps]``."""
    mu = mu.clamp(eps, 1.0 - eps)
    return concentration * mu, concentration * (1.0 - mu), mu


def gate_beta_params(
    mu_x: torch.Tensor, gate: torch.Tensor, concentration: float, eps: float = 1e-3,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gate form: mean ``mu = mu_x * gate``, ``alpha = k mu``, ``beta = k (1 - mu)``.

    ``gate`` is the accessibility of the token (:func:`signal_vote` of the accessibility
    tracks): a closed token has ``mu`` near 0 whatever the sequence says, and among open
    tokens ``mu`` follows the generator.  Unlike the vote form, the generator's ``mu_x``
    is not pushed towards 0 everywhere by the sparsity term: closed tokens cost nothing
    and pass it no gradient, so ``mu_x`` is free to rank the open ones.

    Parameters
    ----------
    mu_x, gate : torch.Tensor, shape=(B, T)
        The generator's sigmoid and the gate, both in [0, 1].
    concentration : float
        ``k = alpha + beta`` (> 0).

    Returns
    -------
    alpha, beta, mu : torch.Tensor, shape=(B, T)
    """
    return _mean_concentration(mu_x * gate, concentration, eps)


def bernoulli_kl(mu: torch.Tensor, prior: float, eps: float = 1e-6) -> torch.Tensor:
    """``KL(Bernoulli(mu) || Bernoulli(prior))`` elementwise (nats): the information cost of
    a gate kept with probability ``mu`` when the prior keeps a fraction ``prior``.

    Bounded by ``-ln(min(prior, 1 - prior))``; 0 at ``mu == prior``.
    """
    m = _full(mu).clamp(eps, 1.0 - eps)
    p = float(prior)
    return m * torch.log(m / p) + (1.0 - m) * torch.log((1.0 - m) / (1.0 - p))


def prior_params(fraction: float, concentration: float) -> tuple[float, float]:
    """Prior ``(a0, b0)`` with mean ``fraction`` and ``a0 + b0 = concentration``.

    Soft reference: ``prior_params(0.1, 100) == (10, 90)``; hard reference:
    ``prior_params(0.45, 0.1 / 0.45) == (0.1, 0.1222...)``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"prior fraction must lie in (0, 1), got {fraction}")
    if concentration <= 0:
        raise ValueError(f"prior concentration must be > 0, got {concentration}")
    return fraction * concentration, (1.0 - fraction) * concentration


def beta_kl(
    alpha: torch.Tensor,
    beta: torch.Tensor,
    alpha0: float | torch.Tensor,
    beta0: float | torch.Tensor,
) -> torch.Tensor:
    """Closed-form ``KL(Beta(alpha, beta) || Beta(alpha0, beta0))`` elementwise (nats).

    ``KL = ln B(a0, b0) - ln B(a, b) + (a - a0) psi(a) + (b - b0) psi(b)
    + (a0 - a + b0 - b) psi(a + b)``, with ``ln B(x, y) = lgamma(x) + lgamma(y) - lgamma(x + y)``.

    Parameters
    ----------
    alpha, beta : torch.Tensor, any shape
    alpha0, beta0 : float or torch.Tensor broadcastable to ``alpha``

    Returns
    -------
    torch.Tensor, shape of ``alpha``
    """
    a, b = _full(alpha), _full(beta)
    a0 = torch.as_tensor(alpha0, dtype=a.dtype, device=a.device)
    b0 = torch.as_tensor(beta0, dtype=a.dtype, device=a.device)

    def log_beta_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.lgamma(x) + torch.lgamma(y) - torch.lgamma(x + y)

    return (
        log_beta_fn(a0, b0)
        - log_beta_fn(a, b)
        + (a - a0) * torch.digamma(a)
        + (b - b0) * torch.digamma(b)
        + (a0 - a + b0 - b) * torch.digamma(a + b)
    )


def beta_mean(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """Mean ``alpha / (alpha + beta)``, same shape."""
    return alpha / (alpha + beta)


def sample_mask(alpha: torch.Tensor, beta: torch.Tensor, sample: bool) -> torch.Tensor:
    """Soft mask: a reparameterised Beta sample when ``sample``, else the Beta mean.

    Parameters
    ----------
    alpha, beta : torch.Tensor, shape=(B, T)
    sample : bool
        True in training (``Beta(alpha, beta).rsample()``, differentiable in both
        parameters), False at inference (deterministic mean).

    Returns
    -------
    torch.Tensor, shape=(B, T), values in [0, 1]
    """
    if not sample:
        return beta_mean(alpha, beta)
    return torch.distributions.Beta(alpha, beta, validate_args=False).rsample()


def straight_through_threshold(m: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Hard mask ``1[m > threshold]`` whose gradient is that of ``m`` (straight through).

    Returns ``m_hard + (m - m.detach())``: forward values are exactly 0 or 1 (the bracket
    is exactly 0), and ``d out / d m = 1``.  Shape as ``m``.
    """
    hard = (m > threshold).to(m.dtype)
    return hard + (m - m.detach())


def promoter_token_span(n_bp: int, bin_size: int, promoter_bp: int) -> tuple[int, int]:
    """Token range ``[t0, t1)`` covering the central ``promoter_bp`` of a window.

    The promoter occupies bp ``[s, s + promoter_bp)`` with ``s = (n_bp - promoter_bp) // 2``
    (the reference's convention); every token overlapping it is included.

    Parameters
    ----------
    n_bp : int
        Window length in bp (a multiple of ``bin_size``).
    bin_size : int
        bp per token.
    promoter_bp : int
        Promoter length in bp (clipped to the window).
    """
    p = min(promoter_bp, n_bp)
    start = (n_bp - p) // 2
    end = start + p
    return start // bin_size, -(-end // bin_size)


def force_regions(
    mask: torch.Tensor,
    blacklist: torch.Tensor | None,
    promoter: tuple[int, int] | None,
) -> torch.Tensor:
    """Set blacklisted tokens to 0 and promoter tokens to 1 (out of place, differentiable).

    Parameters
    ----------
    mask : torch.Tensor, shape=(B, T)
    blacklist : torch.BoolTensor, shape=(B, T), optional
        True = blacklisted token.
    promoter : (t0, t1), optional
        Token range forced to 1; it overrides the blacklist.

    Returns
    -------
    torch.Tensor, shape=(B, T); forced entries carry no gradient.
    """
    if blacklist is not None:
        mask = torch.where(blacklist.to(mask.device, torch.bool), torch.zeros_like(mask), mask)
    if promoter is not None:
        t0, t1 = promoter
        pos = torch.arange(mask.shape[-1], device=mask.device)
        in_prom = (pos >= t0) & (pos < t1)
        mask = torch.where(in_prom, torch.ones_like(mask), mask)
    return mask
