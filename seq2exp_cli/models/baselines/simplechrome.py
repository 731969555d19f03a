"""SimpleChrome (after DeepChrome).

Histone marks in 100 bins of 100 bp around the TSS, a convolutional VAE, and a predictor on
its latent.

::

    signals (B, L, k) -> blacklisted bp set to 0 -> the central n_bins * bin_size bp
      (10 kb around the TSS at L // 2, whatever L is) -> bin means -> log1p   x (B, k', n)
    encoder: conv -> GELU -> strided conv -> GELU -> strided conv -> GELU -> flatten
      -> linear -> mean, log-variance of a latent of ``latent_dim`` (10)
    z = mean + exp(logvar / 2) * noise in training, z = mean in eval
    decoder: linear -> two transposed strided convs -> conv -> x_hat (B, k', n)
    head: z + standardised gene features -> Head -> expression (B,)

``forward`` returns ``aux = MSE(x_hat, x) + beta * KL(q(z|x) || N(0, I))`` (KL summed over
the latent, averaged over the batch) with weight ``vae_weight``; VAE and predictor are
trained jointly.  Departure from the paper: SimpleChrome classifies expression as high or
low; here the head regresses the expression value like every other model, and the
cross-gene (neighbouring genes) inputs of the paper are not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import BaselineConfig, BaselineModel, BaselineOutput, Head, _check, bin_tracks

__all__ = ["SimpleChromeConfig", "SimpleChrome"]


@dataclass
class SimpleChromeConfig(BaselineConfig):
    """SimpleChrome.

    ``n_bins`` bins of ``bin_size`` bp centred on the TSS (a multiple of 4); ``channels``
    convolution width; ``kernel_size`` odd; ``latent_dim`` VAE latent size; ``beta`` KL
    weight inside the VAE loss; ``vae_weight`` weight of the VAE loss in the total;
    ``use_contact_track`` also reads the per-bp Hi-C ``contact`` channel (off: the marks
    are every other track).
    """

    model_type: ClassVar[str] = "simplechrome"

    n_bins: int = 100
    channels: int = 32
    kernel_size: int = 5
    latent_dim: int = 10
    beta: float = 0.01
    vae_weight: float = 1.0
    use_contact_track: bool = False

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        super().validate()
        for name in ("n_bins", "channels", "kernel_size", "latent_dim"):
            v = getattr(self, name)
            _check(isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                   f"{name} must be a positive integer, got {v!r}")
        _check(self.n_bins % 4 == 0, f"n_bins must be a multiple of 4, got {self.n_bins}")
        _check(self.kernel_size % 2 == 1, f"kernel_size must be odd, got {self.kernel_size}")
        _check(self.n_bins * self.bin_size <= self.window_bp,
               f"n_bins * bin_size ({self.n_bins * self.bin_size} bp) exceeds window_bp "
               f"({self.window_bp})")
        _check(self.beta >= 0, f"beta must be >= 0, got {self.beta}")
        _check(self.vae_weight >= 0, f"vae_weight must be >= 0, got {self.vae_weight}")
        _check(len(self.track_indices()) > 0,
               f"no marks to read among signal_names {self.signal_names} "
               "(the contact channel is used only with use_contact_track)")

    def track_indices(self) -> list[int]:
        """Channels of ``signals`` read as marks."""
        return self.mark_indices(self.use_contact_track)


class SimpleChrome(BaselineModel):
    """Convolutional VAE of the binned marks around the TSS; its latent -> expression."""

    def __init__(self, cfg: SimpleChromeConfig) -> None:
        super().__init__(cfg)
        self.track_idx = cfg.track_indices()
        k, C, ks, n = len(self.track_idx), cfg.channels, cfg.kernel_size, cfg.n_bins
        self.encoder = nn.Sequential(
            nn.Conv1d(k, C, ks, padding=ks // 2), nn.GELU(),
            nn.Conv1d(C, C, ks, stride=2, padding=ks // 2), nn.GELU(),
            nn.Conv1d(C, C, ks, stride=2, padding=ks // 2), nn.GELU(),
            nn.Flatten(),
        )
        self.to_stats = nn.Linear(C * (n // 4), 2 * cfg.latent_dim)
        self.from_latent = nn.Linear(cfg.latent_dim, C * (n // 4))
        self.decoder = nn.Sequential(
            nn.GELU(),
            nn.ConvTranspose1d(C, C, 4, stride=2, padding=1), nn.GELU(),
            nn.ConvTranspose1d(C, C, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv1d(C, k, ks, padding=ks // 2),
        )
        self.head = Head(cfg.latent_dim + cfg.n_gene_features, cfg.head_hidden, cfg.dropout)

    def marks(self, signals: torch.Tensor, blacklist: torch.Tensor | None) -> torch.Tensor:
        """(B, L, k) signals -> (B, k', n_bins) log1p bin means of the marks over the central ``n_bins * bin_size`` bp (bin ``n_bins // 2`` starts at the TSS)."""
        cfg = self.cfg
        L = signals.shape[1]
        span = cfg.n_bins * cfg.bin_size
        if signals.ndim != 3 or signals.shape[-1] != cfg.n_signals or L < span:
            raise ValueError(f"SimpleChrome: signals must be (B, L >= {span}, {cfg.n_signals}) "
                             f"for {cfg.signal_names}, got {tuple(signals.shape)}")
        lo = L // 2 - span // 2
        x = signals[:, lo:lo + span].float()
        if blacklist is not None:
            bl = blacklist[:, lo:lo + span].to(torch.bool)
            if bool(bl.any()):
                x = x.masked_fill(bl[..., None], 0.0)
        return torch.log1p(bin_tracks(x, cfg.bin_size)[:, self.track_idx].clamp_min(0.0))

    def forward(self, seq, signals: torch.Tensor, features: torch.Tensor | None = None,
                blacklist: torch.Tensor | None = None, contact_matrix=None,
                **_: object) -> BaselineOutput:
        """Predict expression for a batch of windows: ``seq`` (B, L), ``signals`` (B, L, k)."""
        cfg = self.cfg
        B = signals.shape[0]
        x = self.marks(signals, blacklist)
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=-1)
        logvar = logvar.clamp(-10.0, 10.0)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        x_hat = self.decoder(self.from_latent(z).view(B, cfg.channels, cfg.n_bins // 4))
        recon = F.mse_loss(x_hat, x)
        kl = -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(-1).mean()
        pred = self.head(torch.cat([z, self.scaled_features(features, B, signals.device)], 1))
        return BaselineOutput(pred=pred, aux=recon + cfg.beta * kl, aux_weight=cfg.vae_weight)
