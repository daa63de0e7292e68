"""Complexity metrics: known answers and padding."""

from __future__ import annotations

import numpy as np
import pytest

from tsexplain.evaluate.complexity import complexity_scores, entropy, gini, total_variation


@pytest.mark.parametrize("n", [2, 5, 64])
def test_gini_and_entropy_of_one_hot_and_uniform(n):
    one_hot = np.zeros(n)
    one_hot[n // 2] = -3.0  # the sign does not matter
    assert gini(one_hot) == pytest.approx(1 - 1 / n)
    assert gini(np.full(n, 0.7)) == pytest.approx(0.0, abs=1e-12)
    assert entropy(one_hot) == pytest.approx(0.0)
    assert entropy(np.full(n, 0.7)) == pytest.approx(1.0)


def test_gini_is_scale_invariant_and_orders_sparsity(rng):
    v = rng.uniform(size=50)
    assert gini(v) == pytest.approx(gini(10 * v))
    sparse = v.copy()
    sparse[v < np.quantile(v, 0.8)] = 0
    assert gini(sparse) > gini(v)
    assert np.isnan(gini(np.zeros(5))) and np.isnan(entropy(np.zeros(5)))


def test_total_variation_of_boxes_and_noise(rng):
    for w in (1, 3, 10):
        box = np.zeros((1, 30))
        box[0, 5 : 5 + w] = 2.5
        assert total_variation(box) == pytest.approx(2 / w)
    smooth = np.sin(np.linspace(0, np.pi, 40))[None]
    noisy = smooth + rng.normal(0, 0.3, size=smooth.shape)
    assert total_variation(noisy) > total_variation(smooth)


def test_scores_only_use_real_steps():
    t, length = 32, 10
    attr = np.zeros((2, 2, t), dtype=np.float32)
    attr[0, 0, t - 3] = 1.0  # left padded: real steps are the last 10
    attr[1, :, t - length :] = 1.0
    scores = complexity_scores(attr, np.array([length, length]), "left", "time")
    assert scores["gini"][0] == pytest.approx(1 - 1 / length)  # not 1 - 1/32
    assert scores["entropy"][0] == pytest.approx(0.0)
    assert scores["gini"][1] == pytest.approx(0.0)
    assert scores["entropy"][1] == pytest.approx(1.0)
    # the edges of the real region are not a jump into the pad
    assert scores["total_variation"][1] == pytest.approx(0.0)
    cell = complexity_scores(attr, np.array([length, length]), "left", "channel-time")
    assert cell["gini"][0] == pytest.approx(1 - 1 / (2 * length))
