"""The additive, contact-weighted readout of the mask: ABC's one-hop path inside Seq2Exp.

With the paper's head alone, a distal token reaches the prediction only through what the
predictor's scans carry to the promoter, and the task gradient at an enhancer token is
3e-5 of the KL term's (docs/models.md).  This readout gives every token a direct path::

    contribution_t = m_t * c_t * a_t                    (B, T), 0 in the promoter span
    S              = sum_t contribution_t               (B,)
    readout        = w * ln(1 + S / b)                  (B,), added to the head's output

* ``m_t`` is the mask (sampled in training, its mean at inference), outside any
  normalisation, so ``d readout / d m_t = w c_t a_t / (b + S)``: large at an accessible,
  contacted token, zero where the activity is zero;
* ``c_t`` the token's Hi-C contact with the TSS (the contact channel,
  ``10**x - 1`` of its ``log10(1 + contact)``);
* ``a_t`` a learned power law of the local marks (:class:`ActivityReadout`):
  ``a_t = exp(b_a + sum_{i, j} W_ij ln(eps + s_i,t+j))`` over a few tokens of each activity
  track, initialised at ABC's ``sqrt(DNase x H3K27ac)``.  It reads the scale-free tracks
  only, never the sequence: whatever separates an enhancer from an equally open decoy has
  to come from the mask, i.e. from the sequence the generator reads.

``ln(1 + S / b)`` is the simulator's and ABC's own form: expression proportional to
``baseline + sum activity x contact`` is ``ln(baseline) + ln(1 + S / baseline)`` in log
space.  Per gene, ``contribution_t / (b + S)`` is token ``t``'s share of the enhancer drive
(the fractional change of ``b + S`` when it is silenced): element–gene link scores.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

__all__ = ["ActivityReadout", "ReadoutOutput"]


class ReadoutOutput:
    """What :meth:`ActivityReadout.forward` returns.

    Attributes
    ----------
    term : torch.Tensor, shape=(B,)
        ``w ln(1 + S / b)``, added to the prediction.
    contribution : torch.Tensor, shape=(B, T)
        ``m_t c_t a_t`` per token (0 in the promoter span and where the mask is 0).
    share : torch.Tensor, shape=(B, T)
        ``contribution_t / (b + S)``: each token's share of the enhancer drive.
    """

    def __init__(self, term, contribution, share):
        self.term, self.contribution, self.share = term, contribution, share


class ActivityReadout(nn.Module):
    """Learned activity x contact x mask, summed over the window.

    Parameters
    ----------
    signal_names : sequence of str
        The model's signal channels, in input order.
    activity_tracks : sequence of str
        Channels the activity reads (those present in ``signal_names``; at least one).
    contact_track : str
        The contact channel (``log10(1 + contact)``); absent: contact 1 everywhere.
    width : int
        Tokens each activity reads (odd; centred).
    eps : float
        Floor inside the log of the scale-free signals.

    Attributes
    ----------
    act : nn.Conv1d(n_activity_tracks, 1, width)
        Exponents ``W`` (initialised to ``1 / n`` at the centre, 0 elsewhere: the
        geometric mean of the tracks at the token) and ``b_a`` (0).
    log_b : nn.Parameter, scalar
        ``ln b`` (initialised to ``ln 0.05``).
    weight : nn.Parameter, scalar
        ``w`` (initialised to ``1 / ln 10``: targets are log10).
    """

    def __init__(self, signal_names: Sequence[str],
                 activity_tracks: Sequence[str] = ("dnase", "h3k27ac", "atac"),
                 contact_track: str = "contact", width: int = 5, eps: float = 1e-3) -> None:
        super().__init__()
        names = list(signal_names)
        self.act_idx = [names.index(t) for t in activity_tracks if t in names]
        if not self.act_idx:  # any non-contact track will do
            self.act_idx = [i for i, n in enumerate(names) if n != contact_track][:2]
        if not self.act_idx:
            raise ValueError(f"the readout needs an activity track among {names}")
        self.contact_idx = names.index(contact_track) if contact_track in names else None
        if width < 1 or width % 2 == 0:
            raise ValueError(f"readout width must be odd and >= 1, got {width}")
        self.eps = float(eps)
        n = len(self.act_idx)
        self.act = nn.Conv1d(n, 1, width, padding=width // 2)
        with torch.no_grad():
            self.act.weight.zero_()
            self.act.weight[0, :, width // 2] = 1.0 / n
            self.act.bias.zero_()
        self.log_b = nn.Parameter(torch.tensor(math.log(0.05)))
        self.weight = nn.Parameter(torch.tensor(1.0 / math.log(10.0)))

    def activity(self, binned: torch.Tensor) -> torch.Tensor:
        """``a_t`` from per-token signals ``(B, T, k)`` -> ``(B, T)``, > 0."""
        x = torch.log(self.eps + binned[..., self.act_idx].clamp_min(0.0))  # (B, T, n)
        z = self.act(x.transpose(1, 2)).squeeze(1)  # (B, T)
        return torch.exp(z.clamp(max=30.0))

    def contact(self, binned: torch.Tensor) -> torch.Tensor:
        """``c_t``: contact with the TSS per token ``(B, T)`` (1 without a contact channel)."""
        if self.contact_idx is None:
            return torch.ones_like(binned[..., 0])
        return (torch.pow(10.0, binned[..., self.contact_idx]) - 1.0).clamp_min(0.0)

    def forward(self, mask: torch.Tensor, binned: torch.Tensor,
                promoter: tuple[int, int] | None) -> ReadoutOutput:
        """Readout of mask ``(B, T)`` over per-token signals ``(B, T, k)``.

        Tokens in the ``promoter`` span ``[t0, t1)`` are left out of the sum (the head reads
        the promoter; the sum is the distal drive).
        """
        b = binned.float()
        contrib = mask.float() * self.contact(b) * self.activity(b)
        if promoter is not None:
            t0, t1 = promoter
            pos = torch.arange(contrib.shape[1], device=contrib.device)
            contrib = torch.where((pos >= t0) & (pos < t1), torch.zeros_like(contrib), contrib)
        total = contrib.sum(1)
        b_ = torch.exp(self.log_b)
        term = self.weight * torch.log1p(total / b_)
        share = contrib / (b_ + total).unsqueeze(1)
        return ReadoutOutput(term, contrib, share)

    def extra_repr(self) -> str:
        """Name the channels the readout reads (in the module's repr)."""
        return f"activity channels {self.act_idx}, contact channel {self.contact_idx}"
