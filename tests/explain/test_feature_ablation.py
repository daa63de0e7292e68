"""Feature ablation: known answers on a linear model and agreement with Captum."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.explain.feature_ablation import FeatureAblation


def _linear(c: int, t: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(c * t, 2)).double()


def test_channel_ablation_with_zero_fill_is_each_channels_contribution():
    c, t = 3, 12
    model = _linear(c, t)
    x = torch.randn(4, c, t, dtype=torch.float64)
    w = model[1].weight.detach()[1].reshape(c, t)
    a, _ = FeatureAblation(model, over="channels", fill="zero").attribute(
        x, torch.ones(4, dtype=torch.long), None, "right"
    )
    expected = (x * w).sum(-1, keepdim=True).expand(-1, -1, t)
    torch.testing.assert_close(a, expected)


def test_time_segments_cover_every_step_once_and_sum_to_the_drop():
    c, t = 2, 12
    model = _linear(c, t)
    x = torch.randn(2, c, t, dtype=torch.float64)
    w = model[1].weight.detach()[0].reshape(c, t)
    a, _ = FeatureAblation(model, over="time", n_segments=4, fill="zero").attribute(
        x, torch.zeros(2, dtype=torch.long), None, "right"
    )
    contrib = (x * w).sum(1)  # (N, T): a linear score's drop for zeroing a segment is its sum
    for seg in range(4):
        sl = slice(3 * seg, 3 * seg + 3)
        torch.testing.assert_close(a[:, 0, sl], contrib[:, sl].sum(-1, keepdim=True).expand(-1, 3))
        torch.testing.assert_close(a[:, 1, sl], a[:, 0, sl])  # time features span all channels


@pytest.mark.parametrize("over", ["time", "channels", "channel-time"])
def test_agrees_with_captum_feature_ablation(over):
    captum = pytest.importorskip("captum.attr")
    model = tx.models.build("causal_cnn", 2, 3, seed=1, filters=(4, 8)).eval().double()
    x = torch.randn(3, 2, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    target = torch.tensor([0, 2, 1])
    ours = FeatureAblation(model, over=over, n_segments=6, fill="zero")
    a, _ = ours.attribute(x, target, None, "right")
    feats = ours.features(0, 24, 2, 24)  # the same masks for every full-length case
    mask = torch.as_tensor((np.arange(len(feats))[:, None, None] * feats).sum(0))[None]
    ref = captum.FeatureAblation(lambda z: model(z)).attribute(
        x, target=target, baselines=0.0, feature_mask=mask.expand(3, -1, -1)
    )
    torch.testing.assert_close(a, ref, rtol=1e-10, atol=1e-12)


def test_any_callable_and_padding():
    ds = tx.data.make_sensor_failure(6, min_length=30, max_length=40, seed=0)
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))

    def proba(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(X)), -1).numpy()

    ex = tx.explain(proba, ds, method="feature_ablation", over="channels")
    keep = ds.real_mask()[:, None, :]
    assert np.all(ex.attributions[~np.broadcast_to(keep, ex.attributions.shape)] == 0)
    # one value per channel over the real steps
    for i in range(ds.n_cases):
        real = ex.attributions[i][:, keep[i, 0]]
        assert np.allclose(real, real[:, :1])
