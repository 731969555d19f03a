"""The Mamba block against a direct transcription of the published equations, its parameter
layout (mamba-ssm's names, shapes and initialisation), state-dict round trip and batch-size
invariance."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from seq2exp_cli.models.mamba import Mamba


def mamba_by_hand(m: Mamba, hidden: np.ndarray) -> np.ndarray:
    """Mamba (Gu & Dao 2023, Algorithm 2) written out step by step in float64 numpy.

    hidden: shape=(batch, length, d_model) -> shape=(batch, length, d_model).
    """
    p = {k: v.detach().double().numpy() for k, v in m.state_dict().items()}
    di, n, r, k = m.d_inner, m.d_state, m.dt_rank, m.d_conv
    bsz, length, _ = hidden.shape

    def silu(v):
        return v / (1.0 + np.exp(-v))

    def softplus(v):
        return np.log1p(np.exp(v))

    out = np.zeros_like(hidden)
    A = -np.exp(p["A_log"])  # (di, n)
    for b in range(bsz):
        xz = hidden[b] @ p["in_proj.weight"].T  # (L, 2 di)
        x, z = xz[:, :di], xz[:, di:]
        # causal depthwise convolution: left padding k - 1, output t sees inputs t-k+1..t
        xpad = np.concatenate([np.zeros((k - 1, di)), x], axis=0)
        xc = np.empty_like(x)
        for t in range(length):
            window = xpad[t : t + k]  # (k, di), oldest first
            xc[t] = (window * p["conv1d.weight"][:, 0, :].T).sum(0) + p["conv1d.bias"]
        xc = silu(xc)
        h = np.zeros((di, n))
        for t in range(length):
            proj = p["x_proj.weight"] @ xc[t]  # (r + 2n,)
            dt_low, Bt, Ct = proj[:r], proj[r : r + n], proj[r + n :]
            delta = softplus(p["dt_proj.weight"] @ dt_low + p["dt_proj.bias"])  # (di,)
            A_bar = np.exp(delta[:, None] * A)  # zero-order hold
            B_bar = delta[:, None] * Bt[None, :]  # Euler for B, as in Mamba
            h = A_bar * h + B_bar * xc[t][:, None]
            y = h @ Ct + p["D"] * xc[t]
            y = y * silu(z[t])
            out[b, t] = p["out_proj.weight"] @ y
    return out


def test_parameter_names_shapes_and_init():
    torch.manual_seed(0)
    m = Mamba(40, d_state=8, d_conv=3, expand=2)
    di, r = 80, math.ceil(40 / 16)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {
        "A_log": (di, 8),
        "D": (di,),
        "in_proj.weight": (2 * di, 40),
        "conv1d.weight": (di, 1, 3),
        "conv1d.bias": (di,),
        "x_proj.weight": (r + 16, di),
        "dt_proj.weight": (di, r),
        "dt_proj.bias": (di,),
        "out_proj.weight": (40, di),
    }
    assert torch.equal(m.A_log, torch.log(torch.arange(1, 9.0)).expand(di, 8))
    assert torch.equal(m.D, torch.ones(di))
    assert m.A_log.dtype == m.D.dtype == torch.float32
    dt = torch.nn.functional.softplus(m.dt_proj.bias)
    assert dt.min() >= 1e-3 * (1 - 1e-4) and dt.max() <= 0.1 * (1 + 1e-4)
    assert m.dt_proj.weight.abs().max() <= r ** -0.5
    assert m.dt_proj.weight.abs().max() > 0.5 * r ** -0.5
    mb = Mamba(16, dt_rank=3, bias=True, conv_bias=False)
    assert mb.in_proj.bias is not None and mb.conv1d.bias is None and mb.dt_rank == 3
    with pytest.raises(ValueError):
        Mamba(16, backend="cuda-please")


@pytest.mark.parametrize("backend", ["numba", "torch", "ref"])
def test_matches_published_equations(backend):
    torch.manual_seed(1)
    m = Mamba(12, d_state=5, d_conv=4, expand=2, backend=backend).double()
    with torch.no_grad():  # move D and the dt bias off their special init values
        m.D.normal_()
        m.A_log.add_(0.3 * torch.randn_like(m.A_log))
        m.conv1d.bias.normal_()
    hidden = torch.randn(2, 37, 12, dtype=torch.float64)
    got = m(hidden).detach().numpy()
    want = mamba_by_hand(m, hidden.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_gradients_agree_across_backends():
    torch.manual_seed(2)
    m = Mamba(8, d_state=4, backend="ref").double()
    hidden = torch.randn(2, 70, 8, dtype=torch.float64)
    grads = {}
    for backend in ("ref", "numba", "torch"):
        m.backend = backend
        m.zero_grad()
        h = hidden.clone().requires_grad_()
        (m(h) ** 2).sum().backward()
        grads[backend] = [h.grad] + [p.grad.clone() for p in m.parameters()]
    for backend in ("numba", "torch"):
        for a, b in zip(grads[backend], grads["ref"]):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_state_dict_round_trip():
    torch.manual_seed(3)
    m = Mamba(16, d_state=8)
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    buf.seek(0)
    torch.manual_seed(99)
    m2 = Mamba(16, d_state=8)
    x = torch.randn(2, 50, 16)
    assert not torch.allclose(m(x), m2(x))
    m2.load_state_dict(torch.load(buf, weights_only=True))
    torch.testing.assert_close(m2(x), m(x), rtol=0, atol=0)


def test_batch_size_invariance():
    torch.manual_seed(4)
    m = Mamba(16, d_state=16)
    x = torch.randn(3, 81, 16)
    with torch.no_grad():
        together = m(x)
        alone = torch.cat([m(x[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)
    assert together.shape == (3, 81, 16)


def test_bfloat16_module():
    torch.manual_seed(5)
    m = Mamba(16)
    x = torch.randn(1, 40, 16)
    ref = m(x)
    out = m.to(torch.bfloat16)(x.bfloat16())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, rtol=0.1, atol=0.1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    torch.manual_seed(6)
    m = Mamba(16)
    x = torch.randn(2, 300, 16)
    ref = m(x)
    out = m.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(out, ref, rtol=2e-3, atol=2e-3)
