"""Z-normalisation over real steps, class weights and balanced sampling."""

from __future__ import annotations

import numpy as np
import pytest

from tsexplain.data import (
    Dataset,
    balanced_sampler,
    class_weights,
    sampling_weights,
    znormalise,
)
from tsexplain.errors import TsExplainError


def test_znormalise_uses_real_steps_only() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(3, 2, 10))
    lengths = np.array([10, 6, 3])
    Z = znormalise(X, lengths=lengths, padding="left")
    for i, n in enumerate(lengths):
        real = Z[i, :, 10 - n :]
        np.testing.assert_allclose(real.mean(axis=1), 0.0, atol=1e-6)
        np.testing.assert_allclose(real.std(axis=1), 1.0, atol=1e-5)
        np.testing.assert_array_equal(Z[i, :, : 10 - n], 0.0)
        expected = (X[i, :, 10 - n :] - X[i, :, 10 - n :].mean(1, keepdims=True)) / X[
            i, :, 10 - n :
        ].std(1, keepdims=True)
        np.testing.assert_allclose(real, expected, rtol=1e-5, atol=1e-6)


def test_znormalise_dataset_and_constant_series() -> None:
    X = np.array([[[2.0, 2.0, 2.0, 0.0]], [[1.0, 2.0, 3.0, 4.0]]], dtype=np.float32)
    ds = Dataset(X, np.array([0, 1]), lengths=np.array([3, 4]), meta={"src": "x"})
    out = znormalise(ds)
    np.testing.assert_array_equal(out.X[0, 0], 0.0)
    np.testing.assert_allclose(out.X[1, 0], [-1.3416408, -0.4472136, 0.4472136, 1.3416408])
    assert out.meta == {"src": "x", "znormalised": True} and ds.meta == {"src": "x"}
    np.testing.assert_array_equal(out.lengths, ds.lengths)


def test_class_weights() -> None:
    y = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(class_weights(y), [2 / 3, 2.0])
    w = class_weights(y, n_classes=3)
    np.testing.assert_allclose(w, [2 / 3, 2.0, 0.0])
    assert w.dtype == np.float32
    np.testing.assert_allclose(class_weights(y, power=0.0), [1.0, 1.0])
    mild = class_weights(y, power=0.5)
    assert mild[1] / mild[0] == pytest.approx(np.sqrt(3))
    assert (mild[y]).sum() == pytest.approx(4.0)  # weights of all cases sum to n_cases
    ds = Dataset(np.zeros((4, 1, 5)), y, classes=["a", "b", "c"])
    np.testing.assert_allclose(class_weights(ds), [2 / 3, 2.0, 0.0])
    with pytest.raises(TsExplainError, match=r"integer class indices"):
        class_weights(np.array([0.5, 1.0]))
    with pytest.raises(TsExplainError, match=r"out of range for 2 classes"):
        class_weights(np.array([0, 2]), n_classes=2)


def test_sampling_weights_balance_the_classes() -> None:
    y = np.array([0] * 90 + [1] * 10)
    w = sampling_weights(y)
    assert w.shape == (100,) and w.sum() == pytest.approx(1.0)
    assert w[y == 0].sum() == pytest.approx(0.5) and w[y == 1].sum() == pytest.approx(0.5)


def test_balanced_sampler_is_seeded_and_balanced() -> None:
    y = np.array([0] * 90 + [1] * 10)
    first = list(balanced_sampler(y, num_samples=2000, seed=3))
    again = list(balanced_sampler(y, num_samples=2000, seed=3))
    assert first == again
    share = float(np.mean(y[np.array(first)] == 1))
    assert 0.45 < share < 0.55
    assert len(list(balanced_sampler(y))) == 100
