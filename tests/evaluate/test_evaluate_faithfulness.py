"""Deletion/insertion curves, replacement strategies and the deletion order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tsexplain.evaluate.faithfulness import curve_scores, perturbation_curves
from tsexplain.evaluate.perturb import REPLACEMENTS, deletion_ranks, deletion_sets, replace
from tsexplain.series import ModelAdapter as Predictor
from tsexplain.series import channel_stats, fill


class FirstHalf(nn.Module):
    """Two-class logits from a weighted sum over the first half of the steps only."""

    def __init__(self, n_channels: int, n_timepoints: int) -> None:
        super().__init__()
        self.half = n_timepoints // 2
        g = torch.Generator().manual_seed(0)
        self.w = nn.Parameter(torch.randn(n_channels, self.half, generator=g) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = (x[:, :, : self.half] * self.w).sum(dim=(1, 2))
        return torch.stack([-s, s], dim=1)


@pytest.mark.parametrize("strategy", REPLACEMENTS)
@pytest.mark.parametrize("window", [1, 4])
def test_deletion_is_flat_while_the_ignored_half_goes(strategy, window, rng):
    n, c, t = 6, 2, 32
    model = FirstHalf(c, t)
    X = rng.normal(size=(n, c, t)).astype(np.float32) + 0.5
    lengths = np.full(n, t)
    # rank the ignored second half first (it holds the larger values)
    attr = np.concatenate(
        [rng.uniform(0, 1, (n, c, t // 2)), rng.uniform(2, 3, (n, c, t // 2))], axis=2
    )
    mean, sd = channel_stats(X, lengths, "right")
    noise = mean[None, :, None] + sd[None, :, None] * rng.standard_normal(X.shape)
    target = np.ones(n, dtype=np.int64)
    curves = perturbation_curves(
        Predictor(model),
        X,
        lengths,
        "right",
        attr,
        target,
        level="time",
        window=window,
        strategy=strategy,
        mean=mean,
        noise=noise,
        n_steps=20,
    )
    half = int(np.flatnonzero(curves.fractions == 0.5)[0])
    assert np.allclose(curves.deletion[:, : half + 1], curves.deletion[:, :1], atol=1e-6)
    # once the used half is deleted the probability moves
    assert not np.allclose(curves.deletion[:, -1], curves.deletion[:, 0], atol=1e-3)
    if strategy != "linear":  # interpolation lets inserted steps reach into the gap
        assert np.allclose(curves.insertion[:, : half + 1], curves.insertion[:, :1], atol=1e-6)
    # the last insertion point is the intact series, the first deletion point too
    assert np.allclose(curves.insertion[:, -1], curves.deletion[:, 0], atol=1e-6)


def test_scores_from_curves():
    from tsexplain.evaluate.faithfulness import CurveSet

    cs = CurveSet(np.linspace(0, 1, 5), 2)
    cs.deletion[:] = [[1.0, 0.5, 0.5, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0]]
    cs.insertion[:] = [[0.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 1.0]]
    cs.deletion_label[:] = [[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]]
    s = curve_scores(cs)
    assert s["deletion_auc"] == pytest.approx([0.375, 1.0])
    assert s["insertion_auc"] == pytest.approx([0.875, 0.125])
    assert s["flip_fraction"] == pytest.approx([0.5, 1.0])  # never flips -> 1.0


@pytest.mark.parametrize("padding", ["left", "right"])
@pytest.mark.parametrize("window", [1, 3])
def test_deletion_counts_real_steps_and_never_touches_padding(padding, window, rng):
    n, c, t = 5, 3, 30
    lengths = np.array([30, 7, 12, 19, 25])
    scores = rng.uniform(size=(n, 1, t))
    ranks, sizes = deletion_ranks(scores, lengths, padding, window)
    fractions = np.linspace(0, 1, 11)
    for i, length in enumerate(lengths):
        real = np.zeros(t, dtype=bool)
        if padding == "left":
            real[t - length :] = True
        else:
            real[:length] = True
        deleted = deletion_sets(ranks, sizes, fractions, i)
        assert not deleted[:, :, ~real].any()
        counts = deleted.sum(axis=(1, 2))
        wanted = np.rint(fractions * length)
        # point-wise hits the count exactly; window-wise overshoots by less than a window
        assert (counts >= wanted).all() and (counts - wanted < window).all()
        assert counts[0] == 0 and counts[-1] == length
        assert (np.diff(counts) >= 0).all()
        # copies keep the pad as it is (zeros), whatever the strategy
        x = np.where(real, rng.normal(size=(c, t)), 0).astype(np.float32)
        for strategy in REPLACEMENTS:
            out = replace(x, deleted, real, strategy, np.ones(c), noise=np.full((c, t), 5.0))
            assert (out[:, :, ~real] == 0).all()
            assert np.array_equal(out[0], x)


def test_window_order_follows_window_means():
    scores = np.array([[[0, 0, 5, 5, 1, 1, 9, 0]]], dtype=float)
    ranks, sizes = deletion_ranks(scores, np.array([8]), "right", window=2)
    # window means 0, 5, 1, 4.5 -> order: window 1, 3, 2, 0
    assert ranks[0, 0].tolist() == [3, 3, 0, 0, 2, 2, 1, 1]
    assert sizes[0].tolist() == [2, 4, 6, 8]


def test_channel_time_units_delete_single_channels():
    scores = np.zeros((1, 2, 4))
    scores[0, 1, 2] = 1.0
    ranks, sizes = deletion_ranks(scores, np.array([4]), "right")
    first = deletion_sets(ranks, sizes, np.array([1 / 8]), 0)[0]
    assert first.sum() == 1 and first[1, 2]


def test_linear_interpolation_fills_gaps():
    x = np.array([[0.0, 9.0, 9.0, 3.0, 9.0, 4.0]])
    kept = np.array([[True, False, False, True, False, False]])
    xt = torch.tensor(x)[None]
    out = fill(xt, torch.tensor(~kept)[None], "linear", means=torch.tensor([[[7.0]]]))
    assert out[0].tolist() == [[0.0, 1.0, 2.0, 3.0, 3.0, 3.0]]
    none = fill(
        xt, torch.ones_like(torch.tensor(kept))[None], "linear", means=torch.tensor([[[7.0]]])
    )
    assert (none == 7.0).all()


def test_predictor_batches_and_restores_mode():
    model = FirstHalf(1, 8)
    model.train()
    p = Predictor(model, batch_size=3)
    X = np.random.default_rng(0).normal(size=(10, 1, 8)).astype(np.float32)
    probs = p.proba(X, np.full(10, 8), "right")
    assert probs.shape == (10, 2) and np.allclose(probs.sum(1), 1.0)
    assert p.rows == 10 and model.training
    with torch.no_grad():
        direct = torch.softmax(model(torch.from_numpy(X)), -1).numpy()
    assert np.allclose(probs, direct, atol=1e-6)
