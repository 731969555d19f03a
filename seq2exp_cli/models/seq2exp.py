"""The Seq2Exp model: a Beta-mask generator and an expression predictor (ICLR 2025).

Data flow for one batch (``L`` bp, ``T = L // bin_size`` tokens, ``d = d_model``)::

    seq (B, L) codes, signals (B, L, k)
      -> SeqSignalEmbedding -> seq_emb, sig_emb (B, T, d), binned signals (B, T, k)
      [+ learned position embedding of the token's position, if cfg.position_embedding]
    generator = Caduceus(seq_emb [+ sig_emb if cfg.generator_signals])   (B, T, d)
      -> MaskHead -> (alpha_x, beta_x) (B, T)
    signal Beta (alpha_s, beta_s) from binned signals; product -> Beta(alpha, beta) (B, T)
    m = rsample (training) | mean (eval);  hard: 1[m > thr] with straight-through
    m: blacklisted tokens -> 0, promoter tokens -> 1
    predictor:
      soft (or hard without compaction): Caduceus((seq_emb + sig_emb) * m)
      hard + compact: the selected tokens, gathered in order into (B, T_sel_max, d), each
        multiplied by its STE mask value (1 forward, gradient to the generator), right-padded;
        Caduceus with per-sample lengths (outputs at valid tokens ignore the padding)
    head: mean over the promoter tokens, concat gene features -> MLP -> pred (B,)
    [cfg.readout == "additive": pred += w ln(1 + sum_t m_t c_t a_t / b) over the distal
     tokens (contact c_t, learned activity a_t of the marks; :mod:`.readout`)]

Loss: ``SmoothL1(pred, y) + kl_weight * mean KL``, the KL being that of the Beta to the
Beta prior (``sparsity="beta_kl"``, the paper) or of a gate with the Beta's mean to a
``prior_fraction`` gate (``"bernoulli"``).  With ``beta_product="vote"`` the Beta is the
mean-concentration vote of :func:`~.beta_mask.vote_beta_params`; with ``"gate"`` the
generator's mean gated by accessibility (:func:`~.beta_mask.gate_beta_params`).

The reference's hard path compacts by boolean indexing, which cuts the straight-through
gradient (its mask head then learns from the KL alone); here the gathered tokens are
multiplied by the mask values, so the prediction loss reaches the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .beta_mask import (
    MaskHead,
    bernoulli_kl,
    beta_kl,
    beta_mean,
    gate_beta_params,
    combine_betas,
    force_regions,
    no_autocast,
    promoter_token_span,
    sample_mask,
    signal_beta_params,
    signal_vote,
    straight_through_threshold,
    vote_beta_params,
)
from .caduceus import Caduceus
from .config import ModelConfig
from .embed import SeqSignalEmbedding
from .layers import ExpressionHead
from .readout import ActivityReadout, ReadoutOutput

__all__ = ["Seq2Exp", "Seq2ExpOutput", "mask_per_bp"]


@dataclass
class Seq2ExpOutput:
    """What :meth:`Seq2Exp.forward` returns.

    Attributes
    ----------
    pred : torch.Tensor, shape=(B,)
        Predicted expression (the target's units, e.g. log10(1 + CAGE)).
    mask : torch.Tensor, shape=(B, T)
        The mask actually applied per token (sampled or mean; hard variant 0/1 with STE
        gradient), after blacklist (0) and promoter (1) forcing.
    mask_mean : torch.Tensor, shape=(B, T)
        Beta mean ``alpha / (alpha + beta)`` per token, before forcing.
    kl : torch.Tensor, scalar
        KL to the prior, averaged over tokens and batch.
    mask_ratio : torch.Tensor, scalar
        Mean of ``mask`` (fraction selected for the hard variant); detached.
    readout : ReadoutOutput, optional
        The additive readout's term, per-token contributions and shares
        (``cfg.readout == "additive"``).
    """

    pred: torch.Tensor
    mask: torch.Tensor
    mask_mean: torch.Tensor
    kl: torch.Tensor
    mask_ratio: torch.Tensor
    readout: ReadoutOutput | None = None


def mask_per_bp(mask_tokens: torch.Tensor, bin_size: int) -> torch.Tensor:
    """Expand a per-token mask ``(B, T)`` to per-bp ``(B, T * bin_size)`` by repetition."""
    if bin_size == 1:
        return mask_tokens
    return mask_tokens.repeat_interleave(bin_size, dim=-1)


class Seq2Exp(nn.Module):
    """Seq2Exp: generator (Caduceus + Beta head), signal Beta, predictor, expression head.

    Parameters
    ----------
    cfg : ModelConfig
        Architecture and mask settings.
    backend : str
        Selective-scan backend for every Mamba ("auto" picks CUDA kernels / numba / torch).

    Attributes
    ----------
    embed : SeqSignalEmbedding
    pos_emb : nn.Embedding(cfg.n_tokens, d), only with ``cfg.position_embedding``
    generator : Caduceus
    predictor : Caduceus (the same object as ``generator`` with ``cfg.share_weights``)
    mask_head : MaskHead
    head : ExpressionHead
    """

    #: what the inference and training code asks of a model (the baselines declare the same)
    needs_contact_matrix: ClassVar[bool] = False
    scores_elements: ClassVar[bool] = False
    closed_form: ClassVar[bool] = False

    @property
    def has_learned_mask(self) -> bool:
        """True when the generator makes the mask (``mask_source="learned"``)."""
        return self.cfg.mask_source == "learned"

    @property
    def takes_mask(self) -> bool:
        """True when ``forward`` needs the mask from outside (``mask_source="fixed"``)."""
        return self.cfg.mask_source == "fixed"

    def __init__(self, cfg: ModelConfig, backend: str = "auto") -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        d = cfg.d_model
        self.embed = SeqSignalEmbedding(d, cfg.n_signals, cfg.bin_size, cfg.motif_width)
        if cfg.position_embedding:
            self.pos_emb = nn.Embedding(cfg.n_tokens, d)
            nn.init.normal_(self.pos_emb.weight, std=0.02)
        else:
            self.pos_emb = None
        kw = dict(
            d_state=cfg.d_state,
            d_conv=cfg.d_conv,
            expand=cfg.expand,
            rc_equivariant=cfg.rc_equivariant,
            tie_projections=cfg.tie_projections,
            backend=backend,
        )
        learned = cfg.mask_source == "learned"
        self.generator = Caduceus(d, cfg.n_layers_generator, **kw) if learned else None
        self.predictor = (self.generator if cfg.share_weights and learned
                          else Caduceus(d, cfg.n_layers_predictor, **kw))
        self.mask_head = MaskHead(d, cfg.beta_min) if learned else None
        self.head = ExpressionHead(d * (2 if cfg.window_pool else 1), cfg.n_gene_features,
                                   cfg.head_hidden, cfg.feature_term)
        if cfg.mask_token:
            self.mask_token = nn.Parameter(torch.zeros(d))
        else:
            self.mask_token = None
        if cfg.feature_mean:
            self.register_buffer("feature_mean", torch.tensor(cfg.feature_mean), persistent=False)
            self.register_buffer("feature_scale", torch.tensor(cfg.feature_scale), persistent=False)
        else:
            self.feature_mean = self.feature_scale = None
        self.prior_alpha, self.prior_beta = cfg.prior_alpha, cfg.prior_beta
        self.readout = (ActivityReadout(cfg.signal_names, cfg.readout_tracks,
                                        width=cfg.readout_width)
                        if cfg.readout == "additive" else None)
        self.gen_embed = (SeqSignalEmbedding(d, cfg.n_signals, cfg.bin_size, cfg.motif_width)
                          if learned and cfg.generator_embedding else None)
        # the vote form: every track but the contact votes, with the signal weights
        self._vote_weights = tuple(0.0 if n == "contact" else w
                                   for n, w in zip(cfg.signal_names, cfg.signal_weights))
        if cfg.beta_product == "vote" and not any(self._vote_weights):
            self._vote_weights = tuple(1.0 for _ in cfg.signal_names)
        # the gate form: the accessibility tracks, equally (else every non-contact track)
        gate = tuple(1.0 if n in cfg.gate_tracks else 0.0 for n in cfg.signal_names)
        self._gate_weights = gate if any(gate) else tuple(
            0.0 if n == "contact" else 1.0 for n in cfg.signal_names)

    # ------------------------------------------------------------------ pieces
    def _embed(self, seq: torch.Tensor, signals: torch.Tensor):
        """Return ``seq_emb, sig_emb (B, T, d)`` and binned signals ``(B, T, k)``."""
        seq_emb, sig_emb, binned = self.embed(seq, signals)
        if self.pos_emb is not None:
            T, n = seq_emb.shape[1], self.cfg.n_tokens
            if T > n:
                raise ValueError(
                    f"input has {T} tokens but the position embedding covers {n} "
                    f"(window_bp={self.cfg.window_bp}, bin_size={self.cfg.bin_size})"
                )
            off = (n - T) // 2  # a shorter window is centred on the TSS like the full one
            seq_emb = seq_emb + self.pos_emb.weight[off : off + T]
        return seq_emb, sig_emb, binned

    def _beta_params(self, h: torch.Tensor, binned: torch.Tensor):
        """Combined Beta ``(alpha, beta)``, each ``(B, T)``, from generator output and signals."""
        cfg = self.cfg
        if cfg.beta_product in ("vote", "gate"):
            s = binned.to(h.dtype if h.dtype == torch.float64 else torch.float32)
            mu_x = self.mask_head.mean(h)
            if cfg.beta_product == "vote":
                alpha, beta, _ = vote_beta_params(mu_x, signal_vote(s, self._vote_weights),
                                                  cfg.sequence_vote, cfg.mask_concentration)
            else:
                alpha, beta, _ = gate_beta_params(mu_x, self.gate(s), cfg.mask_concentration)
            return alpha, beta
        alpha_x, beta_x = self.mask_head(h)
        alpha_s, beta_s = signal_beta_params(
            binned.to(alpha_x.dtype),
            cfg.signal_weights,
            cfg.signal_betas,
            cfg.beta_min,
            cfg.signal_scale,
        )
        return combine_betas(
            alpha_x, beta_x, alpha_s, beta_s, form=cfg.beta_product, z_scale=cfg.z_scale
        )

    def gate(self, binned: torch.Tensor) -> torch.Tensor:
        """The gate form's accessibility ``g (B, T)`` of binned signals ``(B, T, k)``."""
        return signal_vote(binned, self._gate_weights, self.cfg.gate_gain)

    def _token_blacklist(
        self, blacklist: torch.Tensor | None, B: int, L: int
    ) -> torch.Tensor | None:
        """Per-bp ``(B, L)`` blacklist -> per-token ``(B, T)``: a token is blacklisted if any bp is."""
        if blacklist is None:
            return None
        if blacklist.shape != (B, L):
            raise ValueError(f"blacklist must have shape ({B}, {L}), got {tuple(blacklist.shape)}")
        bl = blacklist.to(torch.bool)
        if self.cfg.bin_size > 1:
            bl = bl.view(B, L // self.cfg.bin_size, self.cfg.bin_size).any(-1)
        return bl

    def mask_parameters(self) -> list[nn.Parameter]:
        """The parameters only the mask uses: generator, its own embedding, mask head.

        Empty without a learned mask, and with ``share_weights`` (the generator is the
        predictor).
        """
        if self.generator is None or self.cfg.share_weights:
            return []
        mods = [self.generator, self.mask_head] + ([self.gen_embed] if self.gen_embed else [])
        return [p for m in mods for p in m.parameters()]

    def generator_states(self, seq, signals, embedded=None):
        """The generator's output ``h (B, T, d)`` and the binned signals ``(B, T, k)``.

        ``embedded`` is ``self._embed(seq, signals)`` when the caller has it already.
        """
        seq_emb, sig_emb, binned = embedded if embedded is not None else self._embed(seq, signals)
        if self.gen_embed is not None:
            g_seq, g_sig, _ = self.gen_embed(seq, signals)
            gen_in = g_seq + g_sig if self.cfg.generator_signals else g_seq
        else:
            gen_in = seq_emb + sig_emb if self.cfg.generator_signals else seq_emb
        return self.generator(gen_in), binned

    def _generate(self, seq, signals):
        """Embeddings ``(B, T, d)``, the Beta's ``alpha, beta (B, T)`` and binned signals."""
        seq_emb, sig_emb, binned = self._embed(seq, signals)
        h, _ = self.generator_states(seq, signals, (seq_emb, sig_emb, binned))
        with no_autocast(h.device.type):
            alpha, beta = self._beta_params(h, binned)
        return seq_emb, sig_emb, alpha, beta, binned

    def _kl(self, alpha: torch.Tensor, beta: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """The information term, averaged over tokens and batch (scalar)."""
        if self.cfg.sparsity == "bernoulli":
            return bernoulli_kl(mean, self.cfg.prior_fraction).mean()
        return beta_kl(alpha, beta, self.prior_alpha, self.prior_beta).mean()

    # ------------------------------------------------------------------ API
    def forward(
        self,
        seq: torch.Tensor,
        signals: torch.Tensor,
        gene_features: torch.Tensor | None = None,
        blacklist: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> Seq2ExpOutput:
        """Predict expression and the regulatory mask for a batch of windows.

        Parameters
        ----------
        seq : torch.LongTensor, shape=(B, L)
            Base codes per bp (A=0, C=1, G=2, T=3, N=4); ``L`` divisible by ``bin_size``.
        signals : torch.Tensor, shape=(B, L, k)
            Signal values per bp, tracks in ``cfg.signal_names`` order.
        gene_features : torch.Tensor, shape=(B, F), optional
            Required when ``cfg.n_gene_features > 0``.
        blacklist : torch.BoolTensor, shape=(B, L), optional
            True at blacklisted bp; their tokens get mask 0.
        mask : torch.Tensor, shape=(B, T), optional
            The mask to apply when ``cfg.mask_source == "fixed"`` (values in [0, 1]).

        Returns
        -------
        Seq2ExpOutput
            ``pred (B,)``, ``mask (B, T)``, ``mask_mean (B, T)``, ``kl`` and ``mask_ratio``
            (scalars); ``T = L // bin_size``.  Without a learned mask ``kl`` is 0 and
            ``mask_mean`` is the applied mask.
        """
        cfg = self.cfg
        B, L = seq.shape
        span = promoter_token_span(L, cfg.bin_size, cfg.promoter_bp)
        bl = self._token_blacklist(blacklist, B, L)
        if cfg.mask_source == "learned":
            seq_emb, sig_emb, alpha, beta, binned = self._generate(seq, signals)
            with no_autocast(alpha.device.type):
                mean = beta_mean(alpha, beta)
                kl = self._kl(alpha, beta, mean)
                m = sample_mask(alpha, beta, sample=self.training)
                if cfg.variant == "hard":
                    m = straight_through_threshold(m, cfg.mask_threshold)
                m = force_regions(m, bl, span)
        else:
            seq_emb, sig_emb, binned = self._embed(seq, signals)
            T = seq_emb.shape[1]
            if cfg.mask_source == "fixed":
                if mask is None or tuple(mask.shape) != (B, T):
                    raise ValueError(f"mask_source='fixed' needs a mask of shape ({B}, {T})")
                m = mask.to(device=seq_emb.device, dtype=torch.float32)
            else:
                m = torch.ones(B, T, device=seq_emb.device)
            m = force_regions(m, bl, span)
            mean, kl = m, torch.zeros((), device=seq_emb.device)

        x = seq_emb + sig_emb if cfg.use_signals else seq_emb
        if cfg.variant == "hard" and cfg.compact and cfg.mask_source != "none":
            pooled = self._predict_compact(x, m, span)
        else:
            mx = m.unsqueeze(-1).to(x.dtype)
            xm = x * mx
            if self.mask_token is not None:
                xm = xm + (1 - mx) * self.mask_token.to(x.dtype)
            h = self.predictor(xm)
            pooled = h[:, span[0] : span[1]].mean(1)
            if cfg.window_pool:
                pooled = torch.cat([pooled, h.mean(1)], dim=-1)
        if gene_features is not None and self.feature_mean is not None:
            gene_features = (gene_features - self.feature_mean) / self.feature_scale
        pred = self.head(pooled, gene_features).float()
        ro = None
        if self.readout is not None:
            with no_autocast(pred.device.type):
                ro = self.readout(m, binned, span)
            pred = pred + ro.term
        return Seq2ExpOutput(
            pred=pred, mask=m, mask_mean=mean, kl=kl, mask_ratio=m.detach().float().mean(),
            readout=ro,
        )

    def _predict_compact(
        self, x: torch.Tensor, m: torch.Tensor, span: tuple[int, int]
    ) -> torch.Tensor:
        """Predictor on the selected tokens only; returns the pooled promoter ``(B, d)``.

        ``x: (B, T, d)`` inputs, ``m: (B, T)`` hard mask (values 0/1, STE gradient).
        """
        B, _, d = x.shape
        sel = m.detach() > 0.5  # (B, T)
        counts = sel.sum(1)  # (B,)
        n_max = int(counts.max())
        # stable sort puts selected tokens first, in their original order
        idx = torch.sort((~sel).to(torch.uint8), dim=1, stable=True).indices[:, :n_max]  # (B, S)
        valid = torch.arange(n_max, device=x.device)[None, :] < counts[:, None]  # (B, S)
        weight = m.gather(1, idx) * valid.to(m.dtype)  # STE values: 1 forward, grad to m
        xs = x.gather(1, idx.unsqueeze(-1).expand(B, n_max, d)) * weight.unsqueeze(-1).to(x.dtype)
        h = self.predictor(xs, lengths=counts)  # (B, S, d)
        in_prom = ((idx >= span[0]) & (idx < span[1]) & valid).to(h.dtype)  # (B, S)
        pooled = (h * in_prom.unsqueeze(-1)).sum(1) / in_prom.sum(1, keepdim=True).clamp_min(1.0)
        if self.cfg.window_pool:
            kept = valid.to(h.dtype).unsqueeze(-1)
            pooled = torch.cat([pooled, (h * kept).sum(1) / kept.sum(1).clamp_min(1.0)], dim=-1)
        return pooled

    def output_bias(self) -> torch.Tensor:
        """Bias of the expression head's last layer (set to the training mean before training)."""
        return self.head.out.bias

    def loss(self, out: Seq2ExpOutput, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Training objective ``SmoothL1(pred, y) + kl_weight * kl``.

        Parameters
        ----------
        out : Seq2ExpOutput
        y : torch.Tensor, shape=(B,)
            Targets.

        Returns
        -------
        total : torch.Tensor, scalar (differentiable)
        parts : dict
            Floats ``loss``, ``task`` (SmoothL1), ``kl``, ``mse``, ``mask_ratio``.
        """
        y = y.to(out.pred.dtype).reshape(out.pred.shape)
        task = F.smooth_l1_loss(out.pred, y)
        total = task + self.cfg.kl_weight * out.kl
        parts = {
            "loss": float(total.detach()),
            "task": float(task.detach()),
            "kl": float(out.kl.detach()),
            "mse": float(F.mse_loss(out.pred.detach(), y)),
            "mask_ratio": float(out.mask_ratio),
        }
        return total, parts

    @torch.no_grad()
    def generate_mask(
        self,
        seq: torch.Tensor,
        signals: torch.Tensor,
        blacklist: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Beta-mean mask per token, deterministic, no gradient.

        Parameters
        ----------
        seq : torch.LongTensor, shape=(B, L)
        signals : torch.Tensor, shape=(B, L, k)
        blacklist : torch.BoolTensor, shape=(B, L), optional
            Blacklisted tokens get 0 (the promoter is *not* forced to 1 here: callers
            looking for elements see the generator's own score there).

        Returns
        -------
        torch.Tensor, shape=(B, T), float32, values in (0, 1)
        """
        if self.cfg.mask_source != "learned":
            from ..errors import Seq2ExpError

            raise Seq2ExpError(
                f"this model has no learned mask (mask_source={self.cfg.mask_source!r}); "
                "call elements with a Seq2Exp model trained with a learned mask"
            )
        return self._mask_mean(seq, signals, blacklist)[0]

    def element_mask(self, out: Seq2ExpOutput, blacklist: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`generate_mask` of the windows a forward pass ran on, from its output.

        ``(B, T)`` float32: the Beta mean, blacklisted tokens 0, promoters not forced;
        equal to :meth:`generate_mask` on the same inputs, without running the generator
        again (``predict --elements``).
        """
        mean = out.mask_mean.float()
        return force_regions(mean, self._token_blacklist(blacklist, *blacklist.shape)
                             if blacklist is not None else None, None)

    def _mask_mean(self, seq, signals, blacklist):
        """The Beta-mean mask ``(B, T)`` float32, blacklisted tokens 0, and the binned signals."""
        B, L = seq.shape
        _, _, alpha, beta, binned = self._generate(seq, signals)
        mean = beta_mean(alpha, beta).float()
        return force_regions(mean, self._token_blacklist(blacklist, B, L), None), binned

    @torch.no_grad()
    def mask_and_gate(self, seq, signals, blacklist=None):
        """The Beta-mean mask (as :meth:`generate_mask`) and the gate form's accessibility
        ``g``, both ``(B, T)`` float32; ``g`` is None unless ``beta_product == "gate"``."""
        mean, binned = self._mask_mean(seq, signals, blacklist)
        g = self.gate(binned.float()).float() if self.cfg.beta_product == "gate" else None
        return mean, g

    @torch.no_grad()
    def token_shares(
        self,
        seq: torch.Tensor,
        signals: torch.Tensor,
        blacklist: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each token's mask and its share of the gene's enhancer drive (eval mode).

        Needs ``cfg.readout == "additive"``.  The share is ``m_t c_t a_t / (b + S)``
        (0 in the promoter span): the fraction of ``b + S`` lost when the token is silenced,
        the model's element-gene link score.  The mask is the Beta mean with blacklisted
        tokens 0, as :meth:`generate_mask` gives it (the promoter not forced).

        Returns
        -------
        mask, share : torch.Tensor, shape=(B, T), float32
        """
        from ..errors import Seq2ExpError

        if self.readout is None:
            raise Seq2ExpError(
                "this model has no additive readout (readout='promoter'), so it scores no "
                "element-gene links; train one with the cpu presets or --set readout=additive")
        was = self.training
        self.eval()
        try:
            feats = (torch.zeros(seq.shape[0], self.cfg.n_gene_features, device=seq.device)
                     if self.cfg.n_gene_features else None)
            out = self.forward(seq, signals, feats, blacklist, mask)
        finally:
            self.train(was)
        B, L = seq.shape
        m = force_regions(out.mask_mean.float(), self._token_blacklist(blacklist, B, L), None)
        return m, out.readout.share.float()
