"""Incremental occlusion (local stages of CNNs, the clean prefix of an LSTM): the same map
as a full forward pass per window, wherever it runs."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.explain._incremental import LocalStack, why_not_local, why_not_recurrent
from tsexplain.explain.occlusion import Occlusion

LOCAL = ["fcn", "resnet", "beat_cnn", "lstm", "lstm-2-layers"]


def _tiny(name: str, c: int = 3) -> torch.nn.Module:
    if name == "lstm-2-layers":
        return tx.models.build("lstm", c, 2, seed=0, hidden_size=8, num_layers=2)
    return tx.models.build(name, c, 2, seed=0, **tx.models.model_class(name).tiny)


@pytest.fixture(scope="module")
def data() -> tx.data.Dataset:
    return tx.data.make_sensor_failure(10, min_length=40, max_length=64, seed=4)


@pytest.mark.parametrize("name", LOCAL)
@pytest.mark.parametrize("padding", ["left", "right"])
@pytest.mark.parametrize(
    "settings",
    [
        {"window": 7, "stride": 3},
        {"window": 10, "fill": "linear", "output": "probability"},
        {"window": 5, "fill": "mean", "channels": "all"},
        {"window": 40, "stride": 13},  # windows cut at the series' end, wider than the reach
    ],
    ids=["zero", "linear-probability", "mean-all", "wide"],
)
def test_incremental_equals_full_forward(name, padding, settings, data) -> None:
    ds = data.with_padding(padding)
    model = _tiny(name)
    full = Occlusion(model, incremental=False, **settings)(
        ds.X, lengths=ds.lengths, padding=padding
    )
    fast = Occlusion(model, incremental=True, **settings)(ds.X, lengths=ds.lengths, padding=padding)
    assert np.abs(full).max() > 0
    assert np.abs(fast - full).max() <= 1e-5 * max(1.0, float(np.abs(full).max()))


def test_copy_logits_equal_a_forward_pass() -> None:
    """Known answer: the stack's logits of an occluded copy are the model's logits of it."""
    model = _tiny("resnet", c=2).eval()
    x = torch.randn(3, 2, 50, generator=torch.Generator().manual_seed(0))
    lengths = torch.tensor([50, 41, 33])
    with torch.no_grad():
        stack = LocalStack(model, x, lengths, "right", 9)
        assert torch.allclose(stack.base_logits, model(x, lengths), atol=1e-6)
        first = torch.tensor([0, 20, 30])  # the series' start, its middle, past the last real step
        copies = x.clone()
        for r, f in enumerate(first.tolist()):
            copies[r, :, f : f + 9] = 5.0
        copies = copies * (torch.arange(50) < lengths[:, None])[:, None, :]
        want = model(copies, lengths)
        got = stack.logits(copies, torch.arange(3), first, 9)
    assert torch.allclose(got, want, atol=1e-5)


def test_models_that_are_not_local(caplog) -> None:
    causal = _tiny("causal_cnn")
    assert "not all local" in why_not_local(causal)
    assert "not all local" in why_not_local(_tiny("lstm"))
    assert "global average pooling" in why_not_local(torch.nn.Conv1d(3, 2, 3))
    both_ways = tx.models.build("lstm", 3, 2, seed=0, hidden_size=8, bidirectional=True)
    assert "bidirectional" in why_not_recurrent(both_ways)
    assert not Occlusion(both_ways, window=5).local
    with pytest.raises(TsExplainError, match="incremental occlusion needs local stages"):
        Occlusion(causal, window=5, incremental=True)
    with caplog.at_level(logging.INFO, logger="tsexplain.explain.occlusion"):
        occ = Occlusion(causal, window=5)
    assert not occ.local and "full forward pass per window" in caplog.text
    assert Occlusion(_tiny("fcn"), window=5).local and Occlusion(_tiny("lstm"), window=5).local


def test_model_calls_are_counted(data) -> None:
    ex = tx.explain(_tiny("fcn"), data, method="occlusion", window=8, stride=8)
    full = tx.explain(_tiny("fcn"), data, method="occlusion", window=8, stride=8, incremental=False)
    assert np.abs(ex.attributions - full.attributions).max() <= 1e-6
