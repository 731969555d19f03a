"""Checkpoints (safetensors + JSON) and the flat configs they carry."""

from __future__ import annotations

import json

import pytest
import torch

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.models.checkpoint import checkpoint_paths, load_model, save_model, sha256_file
from seq2exp_cli.models.config import ModelConfig, TrainConfig
from seq2exp_cli.models.presets import PRESETS, preset
from seq2exp_cli.models.seq2exp import Seq2Exp

from conftest import tiny_config


def _cfg(**kw) -> ModelConfig:
    """The scaffold's tiny config (conftest) at 64 bp with two gene features."""
    return tiny_config(**{"window_bp": 64, "n_gene_features": 2, **kw})


def _inputs():
    g = torch.Generator().manual_seed(3)
    return (
        torch.randint(0, 5, (2, 64), generator=g),
        torch.rand(2, 64, 3, generator=g),
        torch.randn(2, 2, generator=g),
    )


@pytest.mark.parametrize(
    "extra",
    [{}, dict(variant="hard", share_weights=True, position_embedding=True, rc_equivariant=True)],
    ids=["soft", "hard-shared-rc"],
)
def test_round_trip_identical_outputs(tmp_path, extra, device):
    torch.manual_seed(0)
    cfg = _cfg(**extra)
    model = Seq2Exp(cfg).eval()
    with torch.no_grad():  # move away from the initialisation so a fresh model would differ
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    save_model(tmp_path / "ck", model, cfg, {"step": 7, "val_mse": 0.25})
    loaded, cfg2, meta = load_model(tmp_path / "ck", device=device)
    assert cfg2 == cfg and meta == {"step": 7, "val_mse": 0.25}
    assert next(loaded.parameters()).device.type == device.type
    seq, sig, feats = _inputs()
    with torch.no_grad():
        a = model(seq, sig, feats)
        b = loaded(seq.to(device), sig.to(device), feats.to(device))
    if device.type == "cpu":
        assert torch.equal(a.pred, b.pred) and torch.equal(a.mask, b.mask)
    else:  # other kernels: equal to float rounding
        torch.testing.assert_close(b.pred.cpu(), a.pred, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(b.mask.cpu(), a.mask, rtol=1e-4, atol=1e-4)
    if cfg.share_weights:
        assert loaded.predictor is loaded.generator
    doc = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert doc["weights_sha256"] == sha256_file(tmp_path / "ck" / "model.safetensors")


def test_safetensors_file_path_form(tmp_path):
    torch.manual_seed(0)
    model = Seq2Exp(_cfg())
    save_model(tmp_path / "best.safetensors", model)
    assert (tmp_path / "best.json").is_file()
    loaded, _, _ = load_model(tmp_path / "best.json")
    assert checkpoint_paths(tmp_path / "best.safetensors") == (
        tmp_path / "best.safetensors",
        tmp_path / "best.json",
    )
    assert all(
        torch.equal(p, q) for p, q in zip(model.state_dict().values(), loaded.state_dict().values())
    )


def test_tampered_weights_raise(tmp_path):
    model = Seq2Exp(_cfg())
    save_model(tmp_path / "ck", model)
    w = tmp_path / "ck" / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(Seq2ExpError, match="sha256"):
        load_model(tmp_path / "ck")


def test_missing_checkpoint_raises(tmp_path):
    with pytest.raises(Seq2ExpError, match="not found"):
        load_model(tmp_path / "nothing")


def test_config_json_round_trip_and_validation():
    for name in PRESETS:
        m, t = preset(name)
        assert ModelConfig.from_dict(json.loads(json.dumps(m.to_dict()))) == m
        assert TrainConfig.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    m, t = preset("cpu", d_model=48, steps=10, warmup=5)
    assert (m.d_model, m.n_tokens, t.steps) == (48, 2000, 10)
    paper, hard = preset("paper")[0], preset("paper-hard")[0]
    assert (paper.prior_alpha, paper.prior_beta) == pytest.approx((10.0, 90.0))
    assert (hard.prior_alpha, hard.prior_beta) == pytest.approx((0.1, 0.1222222))
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(window_bp=1000, bin_size=3)
    with pytest.raises(ValueError, match="variant"):
        ModelConfig(variant="medium")
    with pytest.raises(ValueError, match="signal_weights"):
        ModelConfig(signal_weights=(1.0,))
    with pytest.raises(ValueError, match="unknown"):
        preset("cpu", no_such_field=1)
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp8")
