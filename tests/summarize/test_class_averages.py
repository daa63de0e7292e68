"""Class averages on tiny left-padded data, every number written out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import tsexplain as tx
from tsexplain.summarize import attribution_importance, class_averages

NAN = np.nan

# Four univariate cases padded on the left to 4 steps (pad shown as 0):
#   case 0, class 0, length 3: [., 1, 2, 3]
#   case 1, class 0, length 2: [., ., 5, 7]
#   case 2, class 0, length 4: [2, 4, 6, 8]
#   case 3, class 1, length 1: [., ., ., 10]
X = np.array([[0, 1, 2, 3], [0, 0, 5, 7], [2, 4, 6, 8], [0, 0, 0, 10]], dtype=np.float32)[:, None]
Y = np.array([0, 0, 0, 1])
LENGTHS = np.array([3, 2, 4, 1])
# Attributions on the real steps; the pad holds 99, which must never be averaged.
A = np.array([[99, 1, -1, 2], [99, 99, 3, -3], [0, 2, 4, -6], [99, 99, 99, 5]], dtype=np.float32)[
    :, None
]


def _data(padding: str = "left") -> tx.data.Dataset:
    ds = tx.data.Dataset(X, Y, lengths=LENGTHS, padding="left", classes=("a", "b"))
    return ds.with_padding(padding)


def _explanation(predicted=(0, 0, 0, 1), padding: str = "left") -> tx.Explanation:
    a = A.copy()
    if padding == "right":  # move the real steps to the front, garbage behind them
        a = np.stack([np.roll(a[i], -(4 - n), axis=-1) for i, n in enumerate(LENGTHS)])
    pred = np.asarray(predicted)
    return tx.Explanation(a, "hand", pred, pred, np.eye(2)[pred], LENGTHS.copy(), padding)


def test_align_start_by_hand():
    avg = class_averages(_explanation(), _data(), align="start", quantiles=(0.0, 1.0))
    # class 0, from each first real step: {1, 5, 2}, {2, 7, 4}, {3, 6}, {8}
    assert avg.positions.tolist() == [0, 1, 2, 3]
    assert avg.support.tolist() == [[3, 3, 2, 1], [1, 0, 0, 0]]
    np.testing.assert_allclose(avg.mean[0, 0], [8 / 3, 13 / 3, 9 / 2, 8])
    np.testing.assert_allclose(avg.lower[0, 0], [1, 2, 3, 8])
    np.testing.assert_allclose(avg.upper[0, 0], [5, 7, 6, 8])
    # signed attribution {1, 3, 0}, {-1, -3, 2}, {2, 4}, {-6}; magnitude {1, 3, 0}, {1, 3, 2}, ...
    np.testing.assert_allclose(avg.attribution[0, 0], [4 / 3, -2 / 3, 3, -6])
    np.testing.assert_allclose(avg.abs_attribution[0, 0], [4 / 3, 2, 3, 6])
    # class 1: one case of one step; nothing beyond it
    np.testing.assert_allclose(avg.mean[1, 0], [10, NAN, NAN, NAN])
    np.testing.assert_allclose(avg.attribution[1, 0], [5, NAN, NAN, NAN])
    assert avg.counts.tolist() == [3, 1]
    assert [m.tolist() for m in avg.members] == [[0, 1, 2], [3]]


def test_align_end_by_hand():
    avg = class_averages(_explanation(), _data(), align="end", quantiles=(0.0, 1.0))
    # class 0, before each last real step: {2}, {1, 4}, {2, 5, 6}, {3, 7, 8}
    assert avg.positions.tolist() == [-3, -2, -1, 0]
    assert avg.support.tolist() == [[1, 2, 3, 3], [0, 0, 0, 1]]
    np.testing.assert_allclose(avg.mean[0, 0], [2, 5 / 2, 13 / 3, 6])
    np.testing.assert_allclose(avg.lower[0, 0], [2, 1, 2, 3])
    np.testing.assert_allclose(avg.upper[0, 0], [2, 4, 6, 8])
    # attribution {0}, {1, 2}, {-1, 3, 4}, {2, -3, -6}
    np.testing.assert_allclose(avg.attribution[0, 0], [0, 3 / 2, 2, -7 / 3])
    np.testing.assert_allclose(avg.abs_attribution[0, 0], [0, 3 / 2, 8 / 3, 11 / 3])
    np.testing.assert_allclose(avg.mean[1, 0], [NAN, NAN, NAN, 10])
    # left-padded data line up at the end by default
    assert class_averages(_explanation(), _data()).align == "end"


def test_align_resample_by_hand():
    avg = class_averages(_explanation(), _data(), align="resample", quantiles=(0.0, 1.0))
    # 4 points over each case's real steps:
    #   case 0 [1, 2, 3] at steps 0, 2/3, 4/3, 2  -> 1, 5/3, 7/3, 3
    #   case 1 [5, 7]    at steps 0, 1/3, 2/3, 1  -> 5, 17/3, 19/3, 7
    #   case 2 [2, 4, 6, 8] as it is
    np.testing.assert_allclose(avg.positions, [0, 1 / 3, 2 / 3, 1])
    assert avg.support.tolist() == [[3, 3, 3, 3], [1, 1, 1, 1]]
    np.testing.assert_allclose(avg.mean[0, 0], [8 / 3, 34 / 9, 44 / 9, 6])
    np.testing.assert_allclose(avg.lower[0, 0], [1, 5 / 3, 7 / 3, 3])
    np.testing.assert_allclose(avg.upper[0, 0], [5, 17 / 3, 19 / 3, 8])
    # attributions: case 0 [1, -1, 2] -> 1, -1/3, 0, 2; case 1 [3, -3] -> 3, 1, -1, -3
    np.testing.assert_allclose(avg.attribution[0, 0], [4 / 3, 8 / 9, 1, -7 / 3])
    np.testing.assert_allclose(avg.mean[1, 0], [10, 10, 10, 10])  # one step, held flat
    two = class_averages(_explanation(), _data(), align="resample", n_points=2)
    np.testing.assert_allclose(two.mean[0, 0], [8 / 3, 6])


def test_median_band():
    avg = class_averages(_explanation(), _data(), align="end", quantiles=(0.5, 0.5))
    np.testing.assert_allclose(avg.lower[0, 0], [2, 5 / 2, 5, 7])


@pytest.mark.parametrize("align", ["start", "end", "resample"])
def test_right_padding_gives_the_same_averages(align):
    left = class_averages(_explanation(), _data("left"), align=align)
    right = class_averages(_explanation(padding="right"), _data("right"), align=align)
    for field in ("mean", "lower", "upper", "attribution", "abs_attribution", "channel_share"):
        np.testing.assert_allclose(getattr(left, field), getattr(right, field), err_msg=field)
    np.testing.assert_array_equal(left.support, right.support)


def test_grouping_by_predicted_and_correct():
    ex = _explanation(predicted=(0, 1, 0, 1))  # case 1 (true a) predicted b
    pred = class_averages(ex, _data(), by="predicted", align="start")
    assert [m.tolist() for m in pred.members] == [[0, 2], [1, 3]]
    # predicted b: {5, 10} at position 0, {7} at position 1
    np.testing.assert_allclose(pred.mean[1, 0], [15 / 2, 7, NAN, NAN])
    correct = class_averages(ex, _data(), by="correct", align="start")
    assert [m.tolist() for m in correct.members] == [[0, 2], [3]]
    np.testing.assert_allclose(correct.mean[0, 0], [3 / 2, 3, 9 / 2, 8])


def test_a_class_without_cases_is_all_nan():
    ex = _explanation(predicted=(0, 0, 0, 0))
    avg = class_averages(ex, _data(), by="correct")
    assert avg.counts.tolist() == [3, 0]
    assert np.isnan(avg.mean[1]).all() and np.isnan(avg.channel_share[1]).all()
    assert (avg.support[1] == 0).all()


def test_channel_share_and_model_importance_two_channels():
    # two channels, full length: channel 1 carries three times the |a| of channel 0
    x = np.zeros((2, 2, 3), dtype=np.float32)
    a = np.array([[[1, -1, 0], [3, 0, -3]], [[0, 0, 2], [2, 2, 2]]], dtype=np.float32)
    ds = tx.data.Dataset(x, np.array([0, 1]))
    ex = tx.Explanation(a, "hand", np.array([0, 1]), np.array([0, 1]), np.eye(2), np.array([3, 3]))
    avg = class_averages(ex, ds)
    np.testing.assert_allclose(avg.channel_share, [[2 / 8, 6 / 8], [2 / 8, 6 / 8]])
    np.testing.assert_allclose(avg.abs_attribution[0], [[1, 1, 0], [3, 0, 3]])
    imp = attribution_importance(ex)
    np.testing.assert_allclose(imp.per_channel, [4 / 6, 12 / 6])
    np.testing.assert_allclose(imp.share, [0.25, 0.75])
    # per step: mean over cases then channels: step 0 -> (0.5 + 2.5) / 2
    np.testing.assert_allclose(imp.per_step, [1.5, 0.75, 1.75])


def test_model_importance_ignores_the_pad():
    imp = attribution_importance(_explanation(), align="start")
    # |a| at positions 0..3: {1, 3, 0, 5}, {1, 3, 2}, {2, 4}, {6}
    np.testing.assert_allclose(imp.per_step, [9 / 4, 2, 3, 6])
    assert imp.support.tolist() == [4, 3, 2, 1]
    np.testing.assert_allclose(imp.per_channel, [(4 + 6 + 12 + 5) / 10])


def test_mismatched_data_is_refused():
    with pytest.raises(tx.TsExplainError, match="the data the explanation was made for"):
        class_averages(_explanation(), _data().subset([0, 1, 2]))
    with pytest.raises(tx.TsExplainError, match="unknown by"):
        class_averages(_explanation(), _data(), by="everything")
    with pytest.raises(tx.TsExplainError, match="quantiles"):
        class_averages(_explanation(), _data(), quantiles=(0.9, 0.1))
