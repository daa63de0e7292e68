"""An explanation knows what it explains: the series, lengths, padding, names, true classes
and mask travel with the attributions, through slicing and through its file; files of the
earlier format still load and say what they lack."""

from __future__ import annotations

import numpy as np
import pytest

import tsexplain as tx
from tsexplain._npz import write_npz
from tsexplain.errors import TsExplainError


@pytest.fixture(scope="module")
def explained():
    ds = tx.data.make_sensor_failure(24, failure_fraction=0.5, seed=3)
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))
    return model, ds, tx.explain(model, ds, method="saliency")


def test_it_carries_the_data_it_explains(explained):
    model, ds, ex = explained
    prepared = tx.prepare_for(model, ds)
    assert ex.has_data and np.array_equal(ex.X, prepared.X)
    assert np.array_equal(ex.y, ds.y) and np.array_equal(ex.mask, ds.mask)
    assert ex.classes == ds.classes and ex.channel_names == ds.channel_names
    again = ex.dataset()
    assert np.array_equal(again.X, prepared.X) and again.padding == ds.padding
    assert np.array_equal(again.lengths, ds.lengths) and again.classes == ds.classes
    # a bare array: the series, and the names the model knows (none here: defaults)
    bare = tx.explain(model, ds.X, method="saliency", lengths=ds.lengths, padding=ds.padding)
    assert np.array_equal(bare.X, ds.X) and bare.y is None
    assert bare.channel_names == ("ch0", "ch1", "ch2")


def test_slicing_cases_and_channels(explained):
    _, ds, ex = explained
    one = ex[3]
    assert one.n_cases == 1 and np.array_equal(one.attributions[0], ex.attributions[3])
    assert np.array_equal(one.X[0], ex.X[3]) and one.y[0] == ds.y[3]
    assert one.lengths[0] == ds.lengths[3] and one.mask[0].sum() == ds.mask[3].sum()
    assert ex[-1].lengths[0] == ds.lengths[-1]
    wrong = ex[ex.predicted != ex.y]
    assert wrong.n_cases == int((ex.predicted != ex.y).sum())
    assert np.array_equal(ex[2:5].target, ex.target[2:5])
    assert np.array_equal(ex[[4, 0]].X, ex.X[[4, 0]])
    second = ex[:, "sensor 2"]
    assert second.channel_names == ("sensor 2",) and second.attributions.shape == (24, 1, 120)
    assert np.array_equal(second.attributions[:, 0], ex.attributions[:, 1])
    assert np.array_equal(second.X[:, 0], ex.X[:, 1]) and np.array_equal(
        second.mask[:, 0], ex.mask[:, 1]
    )
    both = ex[:5, ["sensor 3", 0]]
    assert both.channel_names == ("sensor 3", "sensor 1") and both.n_cases == 5
    assert np.array_equal(both.attributions[:, 1], ex.attributions[:5, 0])


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (24, "case 24 is out of range: the explanation holds 24 cases (0 to 23)"),
        (-25, "case -25 is out of range"),
        ([0, 30], "case 30 is out of range"),
        (np.ones(3, dtype=bool), "needs 24 values"),
        ("sensor 1", "select cases with"),
        ((slice(None), "sensor 9"), "no channel named 'sensor 9'; the channels are"),
        ((slice(None), 3), "channel 3 is out of range"),
        ((0, 1, 2), "indexed by cases and channels"),
    ],
)
def test_bad_selections_say_what_is_there(explained, key, message):
    ex = explained[2]
    with pytest.raises(TsExplainError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ex[key]


def test_file_round_trip_and_the_earlier_format(explained, tmp_path):
    _, _, ex = explained
    back = tx.Explanation.load(ex.save(tmp_path / "e.npz"))
    for key in ("attributions", "target", "predicted", "probabilities", "lengths", "X", "y"):
        assert np.array_equal(getattr(back, key), getattr(ex, key)), key
    assert np.array_equal(back.mask, ex.mask)
    assert (back.classes, back.channel_names, back.padding) == (
        ex.classes,
        ex.channel_names,
        ex.padding,
    )
    # a file of the first format: attributions and predictions only
    old = {
        "attributions": ex.attributions,
        "target": ex.target,
        "predicted": ex.predicted,
        "probabilities": ex.probabilities,
        "lengths": ex.lengths,
    }
    header = {
        "format": "tsexplain.explanation/1",
        "method": "saliency",
        "padding": ex.padding,
        "resolution": ex.resolution,
        "params": {},
        "diagnostics": {},
    }
    earlier = tx.Explanation.load(write_npz(tmp_path / "old.npz", old, header))
    assert (
        not earlier.has_data
        and earlier.channel_names == ()
        and "without its series" in repr(earlier)
    )
    assert np.array_equal(earlier[:, 1].attributions[:, 0], ex.attributions[:, 1])
    with pytest.raises(TsExplainError, match="holds no series .* explain the data again"):
        earlier.dataset()
