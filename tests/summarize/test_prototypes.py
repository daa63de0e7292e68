"""Class prototypes recover a pattern planted in a fixed-weight model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.summarize import class_prototypes, nearest_neighbour_distances, rms_distances

T = 40
PEAK = 25


def _bump() -> np.ndarray:
    t = np.arange(T)
    return np.exp(-0.5 * ((t - PEAK) / 3.0) ** 2)


class Planted(nn.Module):
    """Two classes; the class-1 logit is ``scale`` times the correlation of channel 1 with a
    bump at step 25, the class-0 logit its negative; channel 0 is ignored. With ``scale=3``
    the model is 99% sure only when the correlation exceeds 0.77, and at most 99.75% sure."""

    def __init__(self, scale: float = 3.0) -> None:
        super().__init__()
        self.pattern = nn.Parameter(torch.from_numpy(_bump().astype(np.float32)))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x[:, 1] - x[:, 1].mean(dim=1, keepdim=True)
        p = self.pattern - self.pattern.mean()
        corr = (v * p).sum(dim=1) / (v.norm(dim=1) * p.norm()).clamp_min(1e-12)
        z = self.scale * corr
        return torch.stack([-z, z], dim=1)


@pytest.fixture
def noise() -> tx.data.Dataset:
    """Pure noise with random labels: class means hold no pattern, only the model does."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2, T)).astype(np.float32)
    return tx.data.Dataset(X, rng.integers(0, 2, size=60), classes=("low", "high"))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("objective", ["log_odds", "logit"])
def test_the_prototype_recovers_the_planted_bump(noise, objective):
    model = Planted()
    model.train()
    before = model.pattern.detach().clone()
    protos = class_prototypes(model, noise, objective=objective, seed=0)
    assert protos.targets.tolist() == [0, 1]
    high, low = protos.series[1], protos.series[0]
    assert _corr(high[1], _bump()) > 0.99
    assert _corr(low[1], -_bump()) > 0.99
    assert int(np.argmax(high[1])) == PEAK and int(np.argmin(low[1])) == PEAK
    assert (protos.probability >= 0.99).all()
    # the channel the model ignores follows the nearest real member (the pull toward data)
    nearest = noise.X[protos.nearest_index[1], 0]
    assert _corr(high[0], nearest) > 0.8
    # within the data's range on every channel
    assert high.max() <= noise.X.max() + 1e-5 and low.min() >= noise.X.min() - 1e-5
    # model mode, parameter flags and weights restored; no gradient left on the weights
    assert model.training and model.pattern.requires_grad and model.pattern.grad is None
    assert torch.equal(model.pattern, before)


def test_without_the_pull_an_ignored_channel_stays_flat(noise):
    protos = class_prototypes(Planted(), noise, pull=0.0, seed=0)
    for k in (0, 1):
        assert np.ptp(protos.series[k, 0]) < 0.1 * np.ptp(protos.series[k, 1])


def test_the_default_objective_stops_at_the_confidence(noise):
    capped = class_prototypes(Planted(), noise, confidence=0.99, seed=0)
    free = class_prototypes(Planted(), noise, objective="logit", seed=0)
    # the capped search stops pushing near p = 0.99 and stays nearer the data
    assert (capped.probability > 0.985).all() and (capped.probability < free.probability).all()
    assert (capped.nearest_distance < free.nearest_distance).all()


def test_same_seed_same_prototypes_and_random_start(noise):
    a = class_prototypes(Planted(), noise, init="random", n_steps=50, seed=3)
    b = class_prototypes(Planted(), noise, init="random", n_steps=50, seed=3)
    c = class_prototypes(Planted(), noise, init="random", n_steps=50, seed=4)
    np.testing.assert_array_equal(a.series, b.series)
    assert not np.array_equal(a.series, c.series)


def test_realism_is_a_percentile_of_the_members_own_distances(noise):
    protos = class_prototypes(Planted(), noise, classes=["high"], n_steps=100)
    assert protos.targets.tolist() == [1]
    members = noise.X[noise.y == 1]
    real = np.ones((len(members), T), dtype=bool)
    scale = noise.X.std(axis=(0, 2))
    z = (members - noise.X.mean(axis=(0, 2))[None, :, None]) / scale[None, :, None]
    nn_d = nearest_neighbour_distances(z, real)
    np.testing.assert_allclose(protos.member_distances[0], nn_d, rtol=1e-6)
    zp = (protos.series[:1] - noise.X.mean(axis=(0, 2))[None, :, None]) / scale[None, :, None]
    d = rms_distances(zp, np.ones((1, T), bool), z, real)[0]
    assert protos.nearest_distance[0] == pytest.approx(d.min(), rel=1e-6)
    assert noise.y[protos.nearest_index[0]] == 1
    # the five nearest members, nearest first, kept to draw beside the prototype
    rows = np.flatnonzero(noise.y == 1)
    np.testing.assert_array_equal(protos.neighbour_index[0], rows[np.argsort(d, kind="stable")[:5]])
    np.testing.assert_array_equal(protos.neighbours[0], noise.X[protos.neighbour_index[0]])
    assert protos.neighbour_index[0][0] == protos.nearest_index[0]
    assert protos.percentile[0] == pytest.approx(100 * np.mean(nn_d <= d.min()))


def test_left_padded_prototypes_sit_on_the_real_side():
    ds = tx.data.make_sensor_failure(24, min_length=30, max_length=40, padding="left", seed=1)
    model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, filters=(4, 4), seed=0)
    protos = class_prototypes(model, ds, n_steps=10, length=32)
    real = protos.real()
    assert real.sum() == 32 and real[-32:].all()
    assert (protos.series[:, :, ~real] == 0).all()
    assert np.isfinite(protos.probability).all()


def test_bad_requests_are_refused(noise):
    with pytest.raises(tx.TsExplainError, match="torch.nn.Module"):
        class_prototypes(lambda x: np.zeros((len(x), 2)), noise)
    with pytest.raises(tx.TsExplainError, match="unknown class"):
        class_prototypes(Planted(), noise, classes=["medium"])
    with pytest.raises(tx.TsExplainError, match="no case"):
        class_prototypes(Planted(), noise.subset(np.flatnonzero(noise.y == 0)), classes=[1])
    with pytest.raises(tx.TsExplainError, match="length"):
        class_prototypes(Planted(), noise, length=T + 1)
    with pytest.raises(tx.TsExplainError, match="confidence"):
        class_prototypes(Planted(), noise, confidence=1.0)


def test_distances_over_shared_real_steps():
    a = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    b = np.array([[[1.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 3.0, 6.0]]])
    real_b = np.array([[True, True, False, False], [False, False, True, True]])
    # case 0 shares steps 0, 1: diffs 0, 2 -> sqrt(2); case 1 steps 2, 3: diffs 0, -2
    np.testing.assert_allclose(
        rms_distances(a, np.ones((1, 4), bool), b, real_b), [[2**0.5, 2**0.5]]
    )
    # a scale divides each channel first
    np.testing.assert_allclose(
        rms_distances(a, np.ones((1, 4), bool), b, real_b, scale=np.array([2.0])), [[0.5**0.5] * 2]
    )
    none = rms_distances(a, np.array([[True, False, False, False]]), b[1:], real_b[1:])
    assert np.isinf(none).all()
