"""Permutation importance on callables whose important channel and steps are known."""

from __future__ import annotations

import numpy as np
import pytest

import tsexplain as tx
from tsexplain.summarize import permutation_importance


def _softmax2(z: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-z))
    return np.stack([1.0 - p, p], axis=1)


def reads_channel_1_steps_5_to_9(x: np.ndarray) -> np.ndarray:
    """A predict_proba that looks only at channel 1, steps 5-9."""
    return _softmax2(8.0 * x[:, 1, 5:10].mean(axis=1))


@pytest.fixture
def full() -> tx.data.Dataset:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3, 30)).astype(np.float32)
    y = (X[:, 1, 5:10].mean(axis=1) > 0).astype(np.int64)
    return tx.data.Dataset(X, y)


def test_only_the_read_channel_and_window_matter(full):
    imp = permutation_importance(reads_channel_1_steps_5_to_9, full, window=5, n_repeats=4, seed=0)
    assert imp.baseline == 1.0
    assert imp.channel_drop.shape == (4, 3) and imp.window_drop.shape == (4, 6)
    # permuting what the model never reads changes nothing, exactly
    assert (imp.channel_drop[:, [0, 2]] == 0).all()
    assert (np.delete(imp.window_drop, 1, axis=1) == 0).all()
    # permuting what it reads costs about half the accuracy (labels become coin flips)
    assert 0.3 < imp.channel_mean[1] < 0.7 and 0.3 < imp.window_mean[1] < 0.7
    assert imp.channel_std[1] > 0
    assert imp.window_starts.tolist() == [0, 5, 10, 15, 20, 25]
    assert (imp.window_cases == 80).all()


def test_probability_score_and_seeding(full):
    a = permutation_importance(
        reads_channel_1_steps_5_to_9, full, window=10, score="probability", n_repeats=2, seed=5
    )
    b = permutation_importance(
        reads_channel_1_steps_5_to_9, full, window=10, score="probability", n_repeats=2, seed=5
    )
    np.testing.assert_array_equal(a.channel_drop, b.channel_drop)
    np.testing.assert_array_equal(a.window_drop, b.window_drop)
    probs = reads_channel_1_steps_5_to_9(full.X)
    assert a.baseline == pytest.approx(probs[np.arange(80), full.y].mean())
    assert a.channel_mean[1] > 0.1 and a.window_mean[0] > 0.1


def test_variable_length_never_reads_or_writes_the_pad():
    rng = np.random.default_rng(2)
    t = 20
    lengths = rng.integers(8, t + 1, size=60)
    lengths[0] = t
    X = rng.normal(size=(60, 2, t)).astype(np.float32)
    ds = tx.data.Dataset(X, np.zeros(60, dtype=np.int64), lengths=lengths, padding="left")
    y = (ds.X[:, 0, -3:].mean(axis=1) > 0).astype(np.int64)
    ds = tx.data.Dataset(ds.X, y, lengths=lengths, padding="left")

    def last_steps(x, lengths, padding):
        """Reads the last 3 steps of channel 0 (always real for left padding); refuses any
        value on the pad."""
        pad = ~tx.data.real_mask(lengths, x.shape[-1], padding)
        assert padding == "left" and (x[:, :, :][np.broadcast_to(pad[:, None], x.shape)] == 0).all()
        return _softmax2(8.0 * x[:, 0, -3:].mean(axis=1))

    imp = permutation_importance(last_steps, ds, window=5, n_repeats=3, seed=0)
    # windows [0, 5), [5, 10), [10, 15), [15, 20): a case takes part when it has real steps there
    expected = [int((lengths > t - s - 5).sum()) for s in (0, 5, 10, 15)]
    assert imp.window_cases.tolist() == expected
    assert (imp.window_drop[:, :3] == 0).all() and imp.window_mean[3] > 0.3
    assert (imp.channel_drop[:, 1] == 0).all() and imp.channel_mean[0] > 0.3


def test_a_window_with_fewer_than_two_cases_has_no_importance():
    X = np.random.default_rng(0).normal(size=(4, 1, 10)).astype(np.float32)
    ds = tx.data.Dataset(
        X, np.array([0, 1, 0, 1]), lengths=np.array([10, 4, 4, 4]), padding="right"
    )
    imp = permutation_importance(lambda x: _softmax2(x[:, 0, :1].sum(1)), ds, window=5, n_repeats=2)
    assert imp.window_cases.tolist() == [4, 1]
    assert np.isnan(imp.window_drop[:, 1]).all() and np.isnan(imp.window_mean[1])


def test_bad_settings_are_refused(full):
    with pytest.raises(tx.TsExplainError, match="unknown score"):
        permutation_importance(reads_channel_1_steps_5_to_9, full, score="f1")
    with pytest.raises(tx.TsExplainError, match="window"):
        permutation_importance(reads_channel_1_steps_5_to_9, full, window=0)
    with pytest.raises(tx.TsExplainError, match="n_repeats"):
        permutation_importance(reads_channel_1_steps_5_to_9, full, n_repeats=0)
    with pytest.raises(tx.TsExplainError, match="Dataset"):
        permutation_importance(reads_channel_1_steps_5_to_9, full.X)
