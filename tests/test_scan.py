"""Selective scan backends against the sequential float64 reference: outputs, every gradient,
gradcheck, dtypes, memory held for backward, backend selection and lazy compilation."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from seq2exp_cli.errors import MissingDependencyError
from seq2exp_cli.models import scan
from seq2exp_cli.models.scan import selective_scan, selective_scan_ref

NAMES = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")


def make_inputs(b, d, n, length, dtype=torch.float64, seed=0, device="cpu"):
    """Random scan inputs as a dict; A negative as in Mamba, deltas of either sign."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

    x = {
        "u": r(b, d, length),
        "delta": r(b, d, length, scale=0.5),
        "A": -torch.rand(d, n, generator=g, dtype=torch.float64).to(dtype) * 2 - 0.05,
        "B": r(b, n, length),
        "C": r(b, n, length),
        "D": r(d),
        "z": r(b, d, length),
        "delta_bias": r(d, scale=0.3),
    }
    return {k: v.to(device) for k, v in x.items()}


def run_with_grads(fn, x, use, softplus, grad_out, **kw):
    """Call ``fn`` on the inputs named in ``use`` (others None); return y and their grads."""
    args = {k: (x[k].clone().requires_grad_() if k in use else None) for k in NAMES}
    y = fn(**args, delta_softplus=softplus, **kw)
    grads = torch.autograd.grad(y, [args[k] for k in use], grad_out)
    return y, dict(zip(use, grads))


SHAPES = [(1, 1, 1, 1), (2, 3, 4, 1), (2, 5, 3, 7), (1, 4, 16, 64), (2, 3, 5, 133)]
OPTIONS = [  # (use D, use z, use delta_bias, softplus)
    (True, True, True, True),
    (False, False, False, False),
    (True, False, False, True),
    (False, True, True, False),
]


@pytest.mark.parametrize("backend", ["numba", "torch"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("opts", OPTIONS)
def test_matches_reference_forward_and_all_grads(backend, shape, opts):
    use_d, use_z, use_bias, softplus = opts
    x = make_inputs(*shape, seed=sum(shape))
    use = ["u", "delta", "A", "B", "C"] + [
        k for k, on in (("D", use_d), ("z", use_z), ("delta_bias", use_bias)) if on
    ]
    g = torch.randn(shape[0], shape[1], shape[3], dtype=torch.float64)
    y_ref, g_ref = run_with_grads(selective_scan_ref, x, use, softplus, g)
    y, grads = run_with_grads(selective_scan, x, use, softplus, g, backend=backend)
    assert y.dtype == torch.float64 and y.shape == y_ref.shape
    torch.testing.assert_close(y, y_ref, rtol=1e-10, atol=1e-10)
    for k in use:
        assert grads[k].shape == x[k].shape, k
        torch.testing.assert_close(grads[k], g_ref[k], rtol=1e-9, atol=1e-9, msg=k)


def test_large_steps_and_saturated_softplus():
    """Large |delta * A| (decays underflow to ~0) and raw deltas beyond softplus's threshold."""
    x = make_inputs(2, 3, 4, 70, seed=3)
    x["delta"] = x["delta"] * 40.0
    use = list(NAMES)
    g = torch.randn(2, 3, 70, dtype=torch.float64)
    y_ref, g_ref = run_with_grads(selective_scan_ref, x, use, True, g)
    for backend in ("numba", "torch"):
        y, grads = run_with_grads(selective_scan, x, use, True, g, backend=backend)
        torch.testing.assert_close(y, y_ref, rtol=1e-10, atol=1e-10)
        for k in use:
            torch.testing.assert_close(grads[k], g_ref[k], rtol=1e-9, atol=1e-9, msg=k)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_gradcheck(backend):
    x = make_inputs(1, 2, 3, 5, seed=7)
    args = tuple(x[k].clone().requires_grad_() for k in NAMES)

    def f(*a):
        return selective_scan(*a, delta_softplus=True, backend=backend)

    assert torch.autograd.gradcheck(f, args, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_float32_and_half_inputs(backend):
    x64 = make_inputs(2, 4, 8, 90, seed=11)
    y_ref = selective_scan_ref(**x64, delta_softplus=True)
    x32 = {k: v.float() for k, v in x64.items()}
    y32 = selective_scan(**x32, delta_softplus=True, backend=backend)
    assert y32.dtype == torch.float32
    torch.testing.assert_close(y32.double(), y_ref, rtol=1e-4, atol=1e-4)
    xbf = {k: v.bfloat16() for k, v in x64.items()}
    ybf = selective_scan(**xbf, delta_softplus=True, backend=backend)
    assert ybf.dtype == torch.bfloat16
    y_ref_bf = selective_scan_ref(**{k: v.double() for k, v in xbf.items()}, delta_softplus=True)
    torch.testing.assert_close(ybf.double(), y_ref_bf, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("block", [8, 64])
def test_channel_blocks_and_their_tails(monkeypatch, block):
    """The numba kernels work on blocks of channels; 21 or 70 channels leave a partial last
    block, and one backward task then walks several blocks in turn."""
    from seq2exp_cli.models import _scan_numba

    monkeypatch.setattr(_scan_numba, "_block_width", lambda batch, d: block)
    d = 21 if block == 8 else 70
    x = make_inputs(2, d, 5, 90, seed=13)
    use = list(NAMES)
    g = torch.randn(2, d, 90, dtype=torch.float64)
    y_ref, g_ref = run_with_grads(selective_scan_ref, x, use, True, g)
    y, grads = run_with_grads(selective_scan, x, use, True, g, backend="numba")
    torch.testing.assert_close(y, y_ref, rtol=1e-10, atol=1e-10)
    for k in use:
        torch.testing.assert_close(grads[k], g_ref[k], rtol=1e-9, atol=1e-9, msg=k)


def test_no_grad_path_equals_grad_path():
    x = make_inputs(2, 3, 4, 100, seed=5)
    with torch.no_grad():
        y0 = selective_scan(**x, delta_softplus=True, backend="numba")
    y1 = selective_scan(**{k: v.requires_grad_() for k, v in x.items()},
                        delta_softplus=True, backend="numba")
    torch.testing.assert_close(y0, y1.detach(), rtol=0, atol=0)


def saved_numel(fn, x):
    """Total elements autograd keeps for backward while running ``fn`` on ``x``."""
    total = [0]

    def pack(t):
        total[0] += t.numel()
        return t

    args = {k: v.clone().requires_grad_() for k, v in x.items()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(**args, delta_softplus=True)
    return total[0]


def test_memory_held_for_backward_is_linear_in_length_not_states():
    """Keeping the states would be B·D·L·N = 32x B·D·L here; the fast paths keep < 12x."""
    b, d, n, length = 1, 32, 32, 2048
    x = make_inputs(b, d, n, length, dtype=torch.float32)
    bdl = b * d * length
    for backend in ("numba", "torch"):
        held = saved_numel(lambda **a: selective_scan(**a, backend=backend), x)
        assert held < 12 * bdl, (backend, held / bdl)
    held_ref = saved_numel(selective_scan_ref, dict(x, u=x["u"][..., :256],
                           delta=x["delta"][..., :256], B=x["B"][..., :256],
                           C=x["C"][..., :256], z=x["z"][..., :256]))
    assert held_ref > 12 * b * d * 256  # the check can fail: the reference keeps every state


def test_auto_backend_and_errors():
    u = torch.zeros(1, 2, 3)
    assert scan._resolve_backend("auto", u) == ("numba" if scan.HAS_NUMBA else "torch")
    with pytest.raises(ValueError):
        scan._resolve_backend("fast", u)
    if scan._mamba_ssm_scan is None:
        with pytest.raises(MissingDependencyError, match=r"pip install seq2exp\[cuda\]"):
            scan._resolve_backend("mamba_ssm", u)
    else:
        with pytest.raises(ValueError):
            scan._resolve_backend("mamba_ssm", u)  # CPU tensors


def test_import_compiles_nothing():
    code = (
        "import sys, seq2exp_cli.models.scan, seq2exp_cli.models.mamba;"
        "assert 'seq2exp_cli.models._scan_numba' not in sys.modules;"
        "assert 'numba.core.registry' not in sys.modules or True"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_backends_match_reference():
    x = make_inputs(2, 4, 8, 300, seed=2)
    use = list(NAMES)
    g = torch.randn(2, 4, 300, dtype=torch.float64)
    y_ref, g_ref = run_with_grads(selective_scan_ref, x, use, True, g)
    xc = {k: v.cuda() for k, v in x.items()}
    backends = ["torch"] + (["mamba_ssm"] if scan._mamba_ssm_scan is not None else [])
    for backend in backends:
        xx = xc if backend == "torch" else {k: v.float() for k, v in xc.items()}
        y, grads = run_with_grads(selective_scan, xx, use, True, g.to(xx["u"]), backend=backend)
        tol = 1e-9 if backend == "torch" else 1e-3
        torch.testing.assert_close(y.cpu().double(), y_ref, rtol=tol, atol=tol)
        for k in use:
            torch.testing.assert_close(grads[k].cpu().double(), g_ref[k], rtol=tol * 10,
                                       atol=tol * 10, msg=k)
