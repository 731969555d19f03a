"""Candidate regulatory elements per window: DNase summits, as EPInformer and ABC use them.

The caller is deterministic and works on a batch of windows (transcript orientation, TSS at
``L // 2``)::

    track (B, L) >= 0, blacklisted bp set to 0
      -> box smoothing over ``smooth_bp`` bp (cumulative sums, zero padding at the edges)
      -> local maxima of the smoothed track (a flat top counts once, at its centre)
      -> drop summits in the promoter: |summit - L // 2| < promoter_bp / 2 + width / 2
      -> drop summits farther than reach_bp from the TSS
      -> keep summits with height > max(min_height, rel_height * highest remaining summit)
      -> greedy non-maximum suppression by height: kept summits are >= width apart
      -> the n_max highest, in order of decreasing height (ties: nearer the TSS first)

Each element is ``[summit - width // 2, summit - width // 2 + width)``, clipped to the window
in the reported ``start``/``end``.  The threshold is relative to the highest summit that is
eligible by position (default 5 %): it adapts to raw, unnormalised bigWig values, and a strong
promoter peak does not raise the bar for distal elements; a window whose track is all zero
yields no candidates.

:func:`gather_windows` cuts fixed-width stretches centred on the summits out of per-bp
tensors (padding outside the window); ABC's contact fallback is
:func:`seq2exp_cli.contacts.abc_powerlaw` (tensors in, tensors out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


__all__ = [
    "CandidateElements",
    "blank_blacklisted",
    "box_smooth",
    "call_candidates",
    "activity_track",
    "peak_track_index",
    "gather_windows",
]


@dataclass
class CandidateElements:
    """Candidate elements of a batch of windows, padded to ``E = n_max`` per window.

    Attributes
    ----------
    start, end : np.ndarray, shape=(B, E), int64
        Element span in window coordinates, ``[start, end)``, clipped to ``[0, L]``;
        0 for padding.
    summit : np.ndarray, shape=(B, E), int64
        Summit position (the element's centre before clipping); 0 for padding.
    height : np.ndarray, shape=(B, E), float64
        Smoothed track at the summit; 0 for padding.
    valid : np.ndarray, shape=(B, E), bool
        False for padding.  Valid elements come first, by decreasing height.
    """

    start: np.ndarray
    end: np.ndarray
    summit: np.ndarray
    height: np.ndarray
    valid: np.ndarray

    @property
    def n_max(self) -> int:
        """Return the padded number of elements per window ``E``."""
        return self.valid.shape[1]

    def tensors(self, device=None) -> dict[str, torch.Tensor]:
        """Return the arrays as torch tensors on ``device`` (long / float32 / bool)."""
        return {
            "start": torch.as_tensor(self.start, dtype=torch.long, device=device),
            "end": torch.as_tensor(self.end, dtype=torch.long, device=device),
            "summit": torch.as_tensor(self.summit, dtype=torch.long, device=device),
            "height": torch.as_tensor(self.height, dtype=torch.float32, device=device),
            "valid": torch.as_tensor(self.valid, dtype=torch.bool, device=device),
        }


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu").numpy()
    return np.asarray(x)


def box_smooth(track: np.ndarray, smooth_bp: int) -> np.ndarray:
    """Centred moving average of ``(B, L)`` over ``smooth_bp`` bp, by cumulative sums.

    ``out[i] = sum(track[i - smooth_bp // 2 : i - smooth_bp // 2 + smooth_bp]) / smooth_bp``
    with zeros outside the window; float64.
    """
    x = np.asarray(track, dtype=np.float64)
    if smooth_bp <= 1:
        return x.copy()
    B, L = x.shape
    cs = np.zeros((B, L + 1), dtype=np.float64)
    np.cumsum(x, axis=1, out=cs[:, 1:])
    lo = np.clip(np.arange(L) - smooth_bp // 2, 0, L)
    hi = np.clip(np.arange(L) - smooth_bp // 2 + smooth_bp, 0, L)
    return (cs[:, hi] - cs[:, lo]) / smooth_bp


def _summits_1d(s: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima of ``s`` (L,).

    Runs of equal values (within ``tol``) higher than both neighbouring runs (outside the
    window counts as lower).  Returns (positions, heights) with the position at the centre
    of the run.
    """
    L = s.shape[0]
    if L == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    step = np.abs(np.diff(s)) > tol
    starts = np.concatenate([[0], np.flatnonzero(step) + 1])
    ends = np.concatenate([starts[1:], [L]])
    vals = s[starts]
    left = np.concatenate([[-np.inf], vals[:-1]])
    right = np.concatenate([vals[1:], [-np.inf]])
    peak = (vals > left) & (vals > right)
    pos = (starts[peak] + ends[peak] - 1) // 2
    return pos.astype(np.int64), vals[peak]


def call_candidates(
    track: np.ndarray | torch.Tensor,
    n_max: int,
    width: int,
    reach_bp: int,
    promoter_bp: int,
    smooth_bp: int = 500,
    rel_height: float = 0.05,
    min_height: float = 0.0,
    blacklist: np.ndarray | torch.Tensor | None = None,
) -> CandidateElements:
    """Call up to ``n_max`` candidate elements per window from a peak track.

    Parameters
    ----------
    track : array or tensor, shape=(B, L)
        Per-bp signal (DNase), >= 0; the TSS is at ``L // 2``.
    n_max : int
        Elements kept per window (the padded size ``E``).
    width : int
        Element width in bp; kept summits are at least ``width`` apart.
    reach_bp : int
        Largest distance from the TSS of a kept summit.
    promoter_bp : int
        Promoter span around the TSS; summits with
        ``|summit - L // 2| < promoter_bp / 2 + width / 2`` are dropped, so no element
        overlaps the promoter.
    smooth_bp : int
        Width of the box filter applied before finding maxima.
    rel_height : float
        A summit must exceed ``rel_height`` times the highest summit eligible by position
        (outside the promoter, within reach) ...
    min_height : float
        ... and ``min_height`` (strictly); with the default 0 an all-zero window has none.
    blacklist : array or tensor, shape=(B, L), bool, optional
        Blacklisted bp are set to zero before smoothing.

    Returns
    -------
    CandidateElements
    """
    if n_max < 0 or width < 1 or smooth_bp < 1:
        raise ValueError(f"need n_max >= 0, width >= 1, smooth_bp >= 1; "
                         f"got {n_max}, {width}, {smooth_bp}")
    x = _as_numpy(track).astype(np.float64)
    if x.ndim != 2:
        raise ValueError(f"track must be (B, L), got shape {x.shape}")
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    if blacklist is not None:
        x = np.where(_as_numpy(blacklist).astype(bool), 0.0, x)
    B, L = x.shape
    tss = L // 2
    s = box_smooth(x, smooth_bp)
    # float64 cumulative-sum error is far below this; genuine steps are far above it
    tol_all = 64 * np.finfo(np.float64).eps * (np.abs(x).sum(1) + 1.0) / smooth_bp
    min_gap = promoter_bp / 2 + width / 2

    summit = np.zeros((B, n_max), np.int64)
    height = np.zeros((B, n_max), np.float64)
    valid = np.zeros((B, n_max), bool)
    for b in range(B):
        pos, val = _summits_1d(s[b], tol_all[b])
        dist = np.abs(pos - tss)
        where = (dist >= min_gap) & (dist <= reach_bp)
        pos, val, dist = pos[where], val[where], dist[where]
        thr = max(min_height, rel_height * (float(val.max()) if val.size else 0.0))
        keep = val > thr
        pos, val, dist = pos[keep], val[keep], dist[keep]
        order = np.lexsort((pos, dist, -val))  # height desc, then nearer, then leftmost
        blocked = np.zeros(L, bool)
        k = 0
        for i in order:
            if k >= n_max:
                break
            p = int(pos[i])
            if blocked[p]:
                continue
            blocked[max(0, p - width + 1): p + width] = True
            summit[b, k], height[b, k], valid[b, k] = p, val[i], True
            k += 1
    lo = summit - width // 2
    start = np.where(valid, np.clip(lo, 0, L), 0)
    end = np.where(valid, np.clip(lo + width, 0, L), 0)
    return CandidateElements(start=start, end=end, summit=summit, height=height, valid=valid)


def blank_blacklisted(signals: torch.Tensor, blacklist: torch.Tensor | None,
                      contact: int | None) -> torch.Tensor:
    """Float ``signals`` (B, L, k) with blacklisted bp set to 0 in every track but channel ``contact`` (the TSS contact of a bp is not an artefact of that bp's reads)."""
    signals = signals.float()
    if blacklist is None:
        return signals
    tracks = torch.ones(signals.shape[-1], dtype=torch.bool, device=signals.device)
    if contact is not None:
        tracks[contact] = False
    return signals.masked_fill(blacklist.bool()[..., None] & tracks, 0.0)


def peak_track_index(signal_names: tuple[str, ...]) -> int | None:
    """Channel used for peak calling: "dnase", else the first track that is not "contact"."""
    if "dnase" in signal_names:
        return signal_names.index("dnase")
    for i, n in enumerate(signal_names):
        if n != "contact":
            return i
    return None


def activity_track(signals: torch.Tensor, signal_names: tuple[str, ...]) -> torch.Tensor:
    """Per-bp ABC activity ``sqrt(DNase * H3K27ac)`` (B, L).

    With only one of the two tracks, that track itself; with neither, zeros.  Negative
    values are clipped to 0.
    """
    d = signal_names.index("dnase") if "dnase" in signal_names else None
    h = signal_names.index("h3k27ac") if "h3k27ac" in signal_names else None
    x = signals.float()
    if d is not None and h is not None:
        return torch.sqrt(x[..., d].clamp_min(0) * x[..., h].clamp_min(0))
    if d is not None or h is not None:
        return x[..., d if d is not None else h].clamp_min(0)
    return torch.zeros(x.shape[:2], dtype=x.dtype, device=x.device)


def gather_windows(x: torch.Tensor, summit: torch.Tensor, width: int, pad_value=0) -> torch.Tensor:
    """Stretches ``[summit - width // 2, summit - width // 2 + width)`` of per-bp ``x``.

    Parameters
    ----------
    x : torch.Tensor, shape=(B, L) or (B, L, k)
    summit : torch.Tensor, shape=(B, E), long
    width : int
    pad_value : scalar
        Value of positions outside ``[0, L)``.

    Returns
    -------
    torch.Tensor, shape=(B, E, width) or (B, E, width, k)
    """
    B, L = x.shape[:2]
    pad_shape = (B, width) + tuple(x.shape[2:])
    pad = torch.full(pad_shape, pad_value, dtype=x.dtype, device=x.device)
    xp = torch.cat([pad, x, pad], dim=1)
    pos = summit.long().to(x.device)[..., None] - width // 2 + width \
        + torch.arange(width, device=x.device)
    pos = pos.clamp(0, L + 2 * width - 1)
    bidx = torch.arange(B, device=x.device)[:, None, None]
    return xp[bidx, pos]
